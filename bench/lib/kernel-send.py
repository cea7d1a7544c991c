#!/usr/bin/env python3
"""The sending side of kernel TCP for bench/impaired-transfer.mjs (kernel-transfer.cjs
receives). In Python because Node cannot choose a socket's congestion control, and the
comparison needs it: this machine's default is BBR, most machines' is CUBIC.

    kernel-send.py <host> <port> <MiB> <congestion-control>

Sends <MiB> MiB of random bytes, half-closes, waits for the peer to close, and prints
{"event": "sent", "bytes", "sha256", "seconds", "cc"}."""
import hashlib
import json
import os
import socket
import sys
import time

host, port, mib, cc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
data = os.urandom(mib * 1024 * 1024)
sha256 = hashlib.sha256(data).hexdigest()
t0 = time.monotonic()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
s.connect((host, port))
s.sendall(data)
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
seconds = time.monotonic() - t0
print(json.dumps({"event": "sent", "bytes": len(data), "sha256": sha256, "seconds": seconds, "cc": cc}), flush=True)
