/** The node a socket uses when the caller names none: the process's running NodeService. */
import { runningNode, type ZeroTierNode } from '../node.js';
import type { SocketChannel } from './channel.js';

export { runningNode };

export function channelOf(node?: ZeroTierNode): SocketChannel {
  return runningNode(node).sockets;
}
