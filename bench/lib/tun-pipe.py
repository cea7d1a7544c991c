#!/usr/bin/env python3
"""One end of a point-to-point IP tunnel over UDP, for bench/impaired-transfer.mjs: kernel TCP
through the same impaired UDP wire (bench/lib/udp-nat.mjs) that our nodes cross, so the two can
be compared in one run. This kernel has no netem, so the impairment has to live in user space,
and a TUN device is the way to put kernel TCP onto a UDP wire.

    tun-pipe.py <ifname> <bind-host> [<peer-host> <peer-port>]

Makes TUN device <ifname> (layer 3, no packet info) in the caller's network namespace, binds a
UDP socket on <bind-host> (any port) and prints {"port": N} once ready. Every IP packet the
kernel routes into the device goes out as one datagram to the peer; every datagram received
goes into the device. Without a peer given, the peer is whoever sent the last datagram; the
side given a peer (the one behind the NAT) says an empty datagram every 0.5 s, so the other
side knows where it is before the first packet and the NAT keeps the mapping. The caller sets the device's address and brings it up, and
ends this process with a signal (the device goes with it)."""
import fcntl
import json
import os
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

name, bind_host = sys.argv[1], sys.argv[2]
peer = (sys.argv[3], int(sys.argv[4])) if len(sys.argv) > 4 else None

tun = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind((bind_host, 0))
print(json.dumps({"port": udp.getsockname()[1]}), flush=True)

next_hello = 0.0
while True:
    if len(sys.argv) > 4 and time.monotonic() >= next_hello:
        udp.sendto(b"", peer)
        next_hello = time.monotonic() + 0.5
    ready, _, _ = select.select([tun, udp], [], [], 0.5)
    if tun in ready:
        packet = os.read(tun, 65536)
        if peer is not None:
            try:
                udp.sendto(packet, peer)
            except OSError:
                pass  # a full socket buffer loses the packet, as a wire would
    if udp in ready:
        data, peer_from = udp.recvfrom(65536)
        if len(sys.argv) <= 4:
            peer = peer_from
        if data:
            os.write(tun, data)
