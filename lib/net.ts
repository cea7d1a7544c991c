/**
 * Drop-ins for node:net and node:dgram over the process's ZeroTier node (NodeService):
 * `net` has node:net's members (docs/net-compat.md lists each one and how it compares),
 * `dgram.createSocket`, and the promise API (`connect`, `listen`).
 */
import nodeNet from 'node:net';

import { normalizeArgs, type ConnectArgs, type SocketConnectOptions } from './sockets/net-args.js';
import { notSupported } from './sockets/net-errors.js';
import { Socket } from './sockets/tcp.js';
import { Server, type ServerOptions } from './sockets/tcp-server.js';

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

export { dgram } from './dgram.js';

export { connect, listen } from './sockets/promises.js';
