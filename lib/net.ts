/**
 * Drop-ins for node:net and node:dgram over the process's ZeroTier node (NodeService):
 * `net` has node:net's members (docs/net-compat.md lists each one and how it compares),
 * `dgram.createSocket`, and the promise API (`connect`, `listen`).
 */
import { once } from 'node:events';
import nodeNet from 'node:net';

import type { ZeroTierNode } from './node.js';
import { normalizeArgs, type ConnectArgs, type SocketConnectOptions } from './sockets/net-args.js';
import { notSupported } from './sockets/net-errors.js';
import { ZeroTierListener, ZeroTierSocket } from './sockets/promises.js';
import { runningNode } from './sockets/running.js';
import { Socket } from './sockets/tcp.js';
import { Server, type ListenOptions, type ServerOptions } from './sockets/tcp-server.js';
import { UdpSocket } from './sockets/udp.js';

export type NetConnectOptions = SocketConnectOptions;

/** net.createConnection / net.connect: every form node:net takes. */
function createConnection(...args: ConnectArgs | unknown[]): Socket {
  const [options, cb] = normalizeArgs(args);
  const opts = options as SocketConnectOptions;
  const socket = new Socket(opts);
  if (opts.timeout) socket.setTimeout(opts.timeout);
  return socket.connectNormalized(opts, cb as (() => void) | null);
}

function createServer(
  options?: ServerOptions | ((socket: Socket) => void),
  listener?: (socket: Socket) => void,
): Server {
  return new Server(options, listener);
}

/**
 * Happy-eyeballs settings: our connect tries a lookup's addresses in order, one at a
 * time, so these only keep code that sets them working.
 */
let autoSelectFamily = true;
let autoSelectFamilyAttemptTimeout = 250;

export const net = {
  Socket,
  Stream: Socket,
  Server,
  createConnection,
  connect: createConnection,
  createServer,
  isIP: nodeNet.isIP,
  isIPv4: nodeNet.isIPv4,
  isIPv6: nodeNet.isIPv6,
  // Plain values with no socket behind them: Node's own classes serve unchanged.
  SocketAddress: nodeNet.SocketAddress,
  BlockList: nodeNet.BlockList,
  getDefaultAutoSelectFamily: (): boolean => autoSelectFamily,
  setDefaultAutoSelectFamily(value: boolean): void {
    if (typeof value !== 'boolean') throw new TypeError('value must be a boolean');
    autoSelectFamily = value;
  },
  getDefaultAutoSelectFamilyAttemptTimeout: (): number => autoSelectFamilyAttemptTimeout,
  setDefaultAutoSelectFamilyAttemptTimeout(value: number): void {
    if (!Number.isInteger(value) || value < 1) throw new RangeError('value must be >= 1');
    autoSelectFamilyAttemptTimeout = Math.max(10, value);
  },
  /** Windows-only and deprecated in Node; nothing to do for ZeroTier sockets. */
  _setSimultaneousAccepts(): void {
    throw notSupported('net._setSimultaneousAccepts (deprecated, Windows only)');
  },
  _normalizeArgs: normalizeArgs,
  _createServerHandle(): never {
    throw notSupported('net._createServerHandle (an internal of node:net)');
  },
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
  const { node, ...listenOptions } = options;
  const server = createServer({ node });
  const failed = once(server, 'error').then(([e]) => Promise.reject(e as Error));
  server.listen({ port: 0, ...listenOptions });
  await Promise.race([once(server, 'listening'), failed]);
  return new ZeroTierListener(server);
}
