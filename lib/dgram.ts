/**
 * A drop-in for node:dgram over the process's ZeroTier node (NodeService):
 * `dgram.createSocket(type | options, listener)` and `new dgram.Socket(type | options,
 * listener)`, which make the same sockets.
 */
import { runningNode, type ZeroTierNode } from './node.js';
import {
  UdpSocket,
  type RemoteInfo,
  type SocketType,
  type UdpSocketOptions,
} from './sockets/udp.js';

export interface DgramSocketOptions extends UdpSocketOptions {
  /** The node to use; default: the process's running node. */
  node?: ZeroTierNode;
}

/** node:dgram's Socket: made as Node makes it, on the process's (or the given) node. */
class Socket extends UdpSocket {
  constructor(
    type: SocketType | DgramSocketOptions,
    listener?: (msg: Buffer, rinfo: RemoteInfo) => void,
  ) {
    const node = type !== null && typeof type === 'object' ? type.node : undefined;
    super(runningNode(node).sockets, type);
    if (typeof listener === 'function') this.on('message', listener);
  }
}

function createSocket(
  type: SocketType | DgramSocketOptions,
  listener?: (msg: Buffer, rinfo: RemoteInfo) => void,
): UdpSocket {
  return new Socket(type, listener);
}

export const dgram = {
  createSocket,
  Socket,
};
