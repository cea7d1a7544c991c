/**
 * The two socket stacks behind one small interface, so every measurement runs the same
 * code over ZeroTier (this package's net/dgram) and over node:net/node:dgram on loopback.
 */
import nodeDgram from 'node:dgram';
import type { EventEmitter } from 'node:events';
import nodeNet from 'node:net';
import type { Duplex } from 'node:stream';

import { dgram as ztDgram, net as ztNet } from '../net.js';
import type { TransportName } from './protocol.js';

/** A connected TCP socket of either stack. */
export type StreamSocket = Duplex & { setNoDelay(noDelay?: boolean): unknown };

export interface DatagramSocket extends EventEmitter {
  send(msg: Uint8Array, port: number, address: string): void;
  close(): unknown;
}

export interface Transport {
  readonly name: TransportName;
  /** Resolves once connected; rejects with the stack's error, or ETIMEDOUT after timeoutMs. */
  connect(host: string, port: number, timeoutMs: number): Promise<StreamSocket>;
  /** A TCP server on `port` (0: any) of `host`; resolves with the port it got. */
  listen(host: string, port: number, onConnection: (s: StreamSocket) => void): Promise<number>;
  /** A UDP socket bound to `port` (0: any) of `host`; resolves with the port it got. */
  bindUdp(host: string, port: number): Promise<{ socket: DatagramSocket; port: number }>;
}

function timedOut(host: string, port: number): Error {
  return Object.assign(new Error(`connect ETIMEDOUT ${host}:${port}`), {
    code: 'ETIMEDOUT',
    syscall: 'connect',
    address: host,
    port,
  });
}

/** Settles on 'connect' or 'error', or destroys the socket after timeoutMs. */
function whenConnected(
  socket: StreamSocket,
  host: string,
  port: number,
  timeoutMs: number,
): Promise<StreamSocket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(timedOut(host, port));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function listening(server: EventEmitter, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
    start();
  });
}

export const zeroTierTransport: Transport = {
  name: 'zerotier',
  connect(host, port, timeoutMs) {
    // The engine's own connect timeout, and ours a little later as a backstop.
    const socket = ztNet.createConnection({ host, port, timeoutMs });
    return whenConnected(socket, host, port, timeoutMs + 1000);
  },
  async listen(host, port, onConnection) {
    const server = ztNet.createServer(onConnection);
    await listening(server, () => server.listen({ port, host }));
    const address = server.address();
    if (address === null) throw new Error('the server has no address after listening');
    return address.port;
  },
  async bindUdp(host, port) {
    const socket = ztDgram.createSocket('udp4');
    await listening(socket, () => socket.bind(port, host));
    return { socket, port: socket.address().port };
  },
};

export const kernelTransport: Transport = {
  name: 'net',
  connect(host, port, timeoutMs) {
    return whenConnected(nodeNet.connect({ host, port }), host, port, timeoutMs);
  },
  async listen(host, port, onConnection) {
    // A deep accept queue: the connections figure opens 1,000 at once.
    const server = nodeNet.createServer(onConnection);
    await listening(server, () => server.listen({ port, host, backlog: 4096 }));
    return (server.address() as nodeNet.AddressInfo).port;
  },
  async bindUdp(host, port) {
    const socket = nodeDgram.createSocket('udp4');
    await listening(socket, () => socket.bind(port, host));
    return { socket, port: socket.address().port };
  },
};

export function transportNamed(name: TransportName): Transport {
  return name === 'zerotier' ? zeroTierTransport : kernelTransport;
}
