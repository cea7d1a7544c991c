/**
 * A DnsResponder on sockets: datagrams (node:dgram or ZeroTier UDP) and streams with DNS's
 * 2-byte length framing (node:net or ZeroTier TCP). The same code serves the lab's names
 * on 127.0.0.1 and on the networks.
 */
import type { Duplex } from 'node:stream';

import { MAX_QUERY_BYTES, type DnsResponder } from './responder.js';

/** A TCP connection is dropped after this long without a whole query. */
const STREAM_IDLE_MS = 10_000;

interface DatagramSocket {
  on(
    event: 'message',
    listener: (msg: Buffer, rinfo: { address: string; port: number }) => void,
  ): unknown;
  send(msg: Uint8Array, port: number, address: string): void;
}

/** Answers every datagram the socket receives. */
export function serveDatagrams(socket: DatagramSocket, responder: DnsResponder): void {
  socket.on('message', (msg, rinfo) => {
    const reply = responder.respond(msg, rinfo.address, true);
    if (reply !== undefined) {
      try {
        socket.send(reply, rinfo.port, rinfo.address);
      } catch {
        // The socket closed under us: nothing to answer on.
      }
    }
  });
}

/** Answers length-framed queries on a stream until it ends or misbehaves. */
export function serveStream(
  socket: Duplex & { remoteAddress?: string | undefined; setTimeout?: (ms: number) => unknown },
  responder: DnsResponder,
): void {
  let pending: Buffer = Buffer.alloc(0);
  const source = socket.remoteAddress ?? 'unknown';
  socket.setTimeout?.(STREAM_IDLE_MS);
  socket.on('timeout', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const len = pending.readUInt16BE(0);
      if (len > MAX_QUERY_BYTES) {
        // Counted like an oversized datagram; the stream cannot be resynchronised.
        responder.counters.dropped.oversized++;
        socket.destroy();
        return;
      }
      if (pending.length < 2 + len) return;
      const query = pending.subarray(2, 2 + len);
      pending = pending.subarray(2 + len);
      const reply = responder.respond(query, source, false);
      if (reply === undefined) {
        socket.destroy();
        return;
      }
      const framed = Buffer.alloc(2 + reply.length);
      framed.writeUInt16BE(reply.length, 0);
      reply.copy(framed, 2);
      socket.write(framed);
    }
  });
}
