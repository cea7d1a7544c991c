/**
 * A UDP socket's options as node:dgram checks them: TTLs, buffer sizes (kept and
 * reported, as Linux reports them: doubled), broadcast permission, and the types the
 * socket's API uses.
 */
import type { NativeEndpoint } from '../native.js';
import { invalidArgType, validateString } from '../validate.js';
import {
  badType,
  bufferSizeError,
  notSupported,
  optionError,
  type LookupFunction,
} from './dgram-args.js';

export interface RemoteInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
}

export type SocketType = 'udp4' | 'udp6';

export interface UdpSocketOptions {
  type: SocketType;
  /** Accepted for node:dgram compatibility; each ZeroTier socket has its own port. */
  reuseAddr?: boolean;
  /** A udp6 socket then hears IPv6 only. */
  ipv6Only?: boolean;
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Resolves host names (dns.lookup's signature); default: IP literals only. */
  lookup?: LookupFunction;
  /** Closes the socket when aborted. */
  signal?: AbortSignal;
}

export interface BindOptions {
  port?: number;
  address?: string;
  exclusive?: boolean;
  fd?: number;
}

/** createSocket's options as node:dgram checks them: a type, or options with one. */
export function readSocketOptions(options: UdpSocketOptions | SocketType): UdpSocketOptions {
  const opts = typeof options === 'string' ? { type: options } : options;
  if (opts === null || typeof opts !== 'object') throw badType();
  if (opts.type !== 'udp4' && opts.type !== 'udp6') throw badType();
  if (opts.lookup !== undefined && typeof opts.lookup !== 'function') {
    throw invalidArgType('options.lookup', 'of type function', opts.lookup);
  }
  return opts;
}

/** What a datagram may be made of. */
export type Message = string | ArrayBufferView | ReadonlyArray<string | ArrayBufferView>;

/** A copy with Node's key order (address, family, port), which JSON and inspect show. */
export function inNodeOrder(e: NativeEndpoint): NativeEndpoint {
  return { address: e.address, family: e.family, port: e.port };
}

// What getRecvBufferSize/getSendBufferSize report until set: Linux's default, doubled as
// the kernel reports it.
const defaultBufferSize = 212992;

export class UdpOptions {
  /** setBroadcast: broadcasts are refused (EACCES) until allowed, as SO_BROADCAST. */
  broadcast = false;
  readonly buffers = { recv: defaultBufferSize, send: defaultBufferSize };

  constructor(options: { recvBufferSize?: number; sendBufferSize?: number }) {
    if (options.recvBufferSize !== undefined) this.buffers.recv = options.recvBufferSize * 2;
    if (options.sendBufferSize !== undefined) this.buffers.send = options.sendBufferSize * 2;
  }

  /** A TTL checked as Node does (type, EBADF before bind, EINVAL out of min..255). */
  ttl(ttl: unknown, syscall: string, min: number, bound: boolean): number {
    if (typeof ttl !== 'number') throw invalidArgType('ttl', 'of type number', ttl);
    if (!bound) throw optionError(syscall, 'EBADF');
    if (!Number.isInteger(ttl) || ttl < min || ttl > 255) throw optionError(syscall, 'EINVAL');
    return ttl;
  }

  bufferSize(which: 'recv' | 'send', bound: boolean): number {
    if (!bound) throw bufferSizeError(`uv_${which}_buffer_size`, 'EBADF');
    return this.buffers[which];
  }

  setBufferSize(which: 'recv' | 'send', size: unknown, bound: boolean): void {
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || size > 0xffffffff) {
      throw invalidArgType('size', 'of type number', size);
    }
    this.bufferSize(which, bound);
    if (size === 0) throw bufferSizeError(`uv_${which}_buffer_size`, 'EINVAL');
    this.buffers[which] = size * 2;
  }
}

/** add/dropSourceSpecificMembership: lwIP has no source filters (IGMPv3/MLDv2). */
export function sourceSpecific(join: boolean, source: unknown, group: unknown): never {
  validateString(source, 'sourceAddress');
  validateString(group, 'groupAddress');
  if (join) throw notSupported('source-specific multicast (addSourceSpecificMembership)');
  // Nothing can have been joined, as Linux answers for a group not joined.
  throw optionError('dropSourceSpecificMembership', 'EADDRNOTAVAIL');
}
