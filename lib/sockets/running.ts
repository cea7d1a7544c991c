/** The node a socket uses when the caller names none: the process's running NodeService. */
import { NodeService, type ZeroTierNode } from '../node.js';
import type { SocketChannel } from './channel.js';

export function runningNode(node?: ZeroTierNode): ZeroTierNode {
  const n = node ?? NodeService.node;
  if (n === undefined || n.closed) {
    const e = new Error('no ZeroTier node is running: start one with NodeService.acquire()');
    (e as Error & { code: string }).code = 'ERR_ZT_NO_NODE';
    throw e;
  }
  return n;
}

export function channelOf(node?: ZeroTierNode): SocketChannel {
  return runningNode(node).sockets;
}
