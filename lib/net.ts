/**
 * Drop-ins for node:net and node:dgram over the process's ZeroTier node (NodeService):
 * `net.createConnection`, `net.createServer`, `dgram.createSocket`, and the promise API
 * (`connect`, `listen`).
 */
import { once } from 'node:events';

import { NodeService, type ZeroTierNode } from './node.js';
import { ZeroTierListener, ZeroTierSocket } from './sockets/promises.js';
import { Server, Socket, type ListenOptions, type TcpConnectOptions } from './sockets/tcp.js';
import { UdpSocket } from './sockets/udp.js';

function runningNode(node?: ZeroTierNode): ZeroTierNode {
  const n = node ?? NodeService.node;
  if (n === undefined || n.closed) {
    const e = new Error('no ZeroTier node is running: start one with NodeService.acquire()');
    (e as Error & { code: string }).code = 'ERR_ZT_NO_NODE';
    throw e;
  }
  return n;
}

export interface NetConnectOptions extends TcpConnectOptions {
  node?: ZeroTierNode;
}

function createConnection(
  options: NetConnectOptions | number,
  host?: string | (() => void),
  cb?: () => void,
): Socket {
  const opts: NetConnectOptions =
    typeof options === 'number'
      ? { port: options, host: typeof host === 'string' ? host : '' }
      : options;
  if (typeof host === 'function') cb = host;
  const socket = new Socket(runningNode(opts.node).sockets).connectTo(opts);
  if (cb) socket.once('connect', cb);
  return socket;
}

function createServer(
  options?: { node?: ZeroTierNode } | ((socket: Socket) => void),
  listener?: (socket: Socket) => void,
): Server {
  const node = typeof options === 'object' ? options.node : undefined;
  if (typeof options === 'function') listener = options;
  return new Server(runningNode(node).sockets, listener);
}

export const net = {
  Socket,
  Server,
  createConnection,
  connect: createConnection,
  createServer,
};

export const dgram = {
  createSocket(
    type: 'udp4' | 'udp6' | { type: 'udp4' | 'udp6'; node?: ZeroTierNode },
    listener?: (msg: Buffer, rinfo: unknown) => void,
  ): UdpSocket {
    const node = typeof type === 'object' ? type.node : undefined;
    const socket = new UdpSocket(runningNode(node).sockets);
    if (listener) socket.on('message', listener);
    return socket;
  },
};

/** Connects and resolves once connected (rejects with ECONNREFUSED, ETIMEDOUT, ...). */
export async function connect(options: NetConnectOptions): Promise<ZeroTierSocket> {
  const socket = createConnection(options);
  const failed = once(socket, 'error').then(([e]) => Promise.reject(e as Error));
  return Promise.race([ZeroTierSocket.open(socket), failed]);
}

/** Listens and resolves once listening. */
export async function listen(
  options: ListenOptions & { node?: ZeroTierNode } = {},
): Promise<ZeroTierListener> {
  const server = createServer({ node: options.node });
  const failed = once(server, 'error').then(([e]) => Promise.reject(e as Error));
  server.listen(options);
  await Promise.race([once(server, 'listening'), failed]);
  return new ZeroTierListener(server);
}
