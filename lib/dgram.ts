/**
 * A drop-in for node:dgram over the process's ZeroTier node (NodeService):
 * `dgram.createSocket(type | options, listener)` and `dgram.Socket`.
 */
import { runningNode, type ZeroTierNode } from './node.js';
import {
  UdpSocket,
  type RemoteInfo,
  type UdpSocketOptions,
  type SocketType,
} from './sockets/udp.js';

export interface DgramSocketOptions extends UdpSocketOptions {
  /** The node to use; default: the process's running node. */
  node?: ZeroTierNode;
}

function createSocket(
  type: SocketType | DgramSocketOptions,
  listener?: (msg: Buffer, rinfo: RemoteInfo) => void,
): UdpSocket {
  const node = type !== null && typeof type === 'object' ? type.node : undefined;
  const socket = new UdpSocket(runningNode(node).sockets, type);
  if (typeof listener === 'function') socket.on('message', listener);
  return socket;
}

export const dgram = {
  createSocket,
  Socket: UdpSocket,
};
