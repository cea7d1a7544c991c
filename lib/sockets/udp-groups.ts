/**
 * A UDP socket's multicast memberships: checked as node:dgram checks them, joined and left
 * through the node (IGMP/MLD in the stack, MULTICAST_LIKE on the networks), and left
 * together when the socket closes, as a kernel socket's are.
 */
import { isIP } from 'node:net';

import type { SocketChannel } from './channel.js';
import { checkMembershipArgs, optionError } from './dgram-args.js';

export class GroupMemberships {
  readonly #groups = new Set<string>();

  constructor(
    readonly channel: SocketChannel,
    readonly family: 4 | 6,
  ) {}

  add(group: unknown, iface: unknown): void {
    checkMembershipArgs(group, iface, 'addMembership', this.family);
    if (typeof iface === 'string') this.checkInterface(iface, 'addMembership', 'ENODEV');
    const g = group as string;
    if (this.#groups.has(g)) throw optionError('addMembership', 'EADDRINUSE');
    this.#groups.add(g);
    this.channel.native.udpMembership(g, true);
  }

  drop(group: unknown, iface: unknown): void {
    checkMembershipArgs(group, iface, 'dropMembership', this.family);
    const g = group as string;
    if (!this.#groups.delete(g)) throw optionError('dropMembership', 'EADDRNOTAVAIL');
    this.channel.native.udpMembership(g, false);
  }

  /** Leaves every group (unless the node, and the groups with it, is gone). */
  leaveAll(nodeGone: boolean): void {
    if (!nodeGone) for (const g of this.#groups) this.channel.native.udpMembership(g, false);
    this.#groups.clear();
  }

  /** An interface address: the family's unspecified address or one of the node's. */
  checkInterface(address: string, syscall: string, notOurs: string): void {
    if (isIP(address) !== this.family) throw optionError(syscall, 'EINVAL');
    if (address === '0.0.0.0' || address === '::') return;
    const ours = this.channel.subnets().map((cidr) => cidr.split('/')[0]);
    if (!ours.includes(address)) throw optionError(syscall, notOurs);
  }
}
