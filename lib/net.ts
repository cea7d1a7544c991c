/**
 * Drop-ins for node:net and node:dgram over the process's ZeroTier node (NodeService):
 * `net.createConnection`, `net.createServer`, `dgram.createSocket`, and the promise API
 * (`connect`, `listen`).
 */
import { NodeService, type ZeroTierNode } from './node.js';
import { Server, Socket, type TcpConnectOptions } from './sockets/tcp.js';

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

export { dgram } from './dgram.js';

export { connect, listen } from './sockets/promises.js';
