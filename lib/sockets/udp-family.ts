/**
 * The addresses a udp4 or udp6 socket binds, sends to and hears, as Node's dual-stack
 * sockets have them: a udp6 socket bound to "any" takes IPv4 too (unless ipv6Only), hears
 * IPv4 senders as IPv4-mapped addresses (::ffff:a.b.c.d) and sends to those as IPv4.
 */
import { isIP } from 'node:net';

import type { NativeEndpoint } from '../native.js';
import type { SocketType } from './udp-options.js';

// What an unconnected IPv4/IPv6 datagram may carry (lwIP refuses more, as the kernel does).
const maxPayload = { IPv4: 65507, IPv6: 65527 } as const;

export class UdpFamily {
  readonly version: 4 | 6;
  readonly name: 'IPv4' | 'IPv6';
  /** The family's unspecified address, as Node shows an "any" bind. */
  readonly any: string;
  /** Where connect() and send() go without an address. */
  readonly loopback: string;

  constructor(
    type: SocketType,
    readonly ipv6Only: boolean,
  ) {
    this.version = type === 'udp4' ? 4 : 6;
    this.name = type === 'udp4' ? 'IPv4' : 'IPv6';
    this.any = type === 'udp4' ? '0.0.0.0' : '::';
    this.loopback = type === 'udp4' ? '127.0.0.1' : '::1';
  }

  /** Whether `ip` is an address of this family. */
  has(ip: string): boolean {
    return isIP(ip) === this.version;
  }

  /** What the engine binds for a looked-up `ip` ('' for any: both families, on udp6). */
  bindAddress(ip: string): string {
    if (ip !== '') return ip;
    return this.version === 4 ? '0.0.0.0' : this.ipv6Only ? '::' : '';
  }

  /** The engine's bound address as Node shows it: "any" as the family's unspecified one. */
  bound(local: NativeEndpoint | undefined): NativeEndpoint {
    const shown = local ?? { address: '', port: 0, family: this.name };
    if (shown.address === '' || shown.address === '::' || shown.address === '0.0.0.0') {
      shown.address = this.any;
      shown.family = this.name;
    }
    return shown;
  }

  /** The address a datagram to `ip` goes to (IPv4 for a mapped one), or undefined. */
  destination(ip: string): string | undefined {
    if (this.version === 6 && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip)) return ip.slice(7);
    return this.has(ip) ? ip : undefined;
  }

  /** Whether a datagram of `size` bytes to `target` is within what one may carry. */
  fits(target: string, size: number): boolean {
    return size <= maxPayload[isIP(target) === 4 ? 'IPv4' : 'IPv6'];
  }

  /** The sender as this socket's family shows it, or undefined if it must not hear it. */
  asSeen(remote: NativeEndpoint): NativeEndpoint | undefined {
    if (this.version === 4) return remote.family === 'IPv4' ? remote : undefined;
    if (remote.family === 'IPv6') return remote;
    if (this.ipv6Only) return undefined;
    return { address: `::ffff:${remote.address}`, family: 'IPv6', port: remote.port };
  }
}
