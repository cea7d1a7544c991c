/**
 * node:net's argument forms, read the way Node reads them: `(port[, host][, cb])`,
 * `(options[, cb])`, a numeric string as a port, a non-numeric string as an IPC path.
 */
import { isIP } from 'node:net';
import type { DuplexOptions } from 'node:stream';

import type { NativeEndpoint } from '../native.js';
import type { ZeroTierNode } from '../node.js';
import { invalidArgType } from '../validate.js';
import type { SocketChannel } from './channel.js';
import { checkDeadPeerTimeout } from './liveness.js';
import {
  badPort,
  invalidAddressFamily,
  invalidIpAddress,
  missingArgs,
  notFound,
  notSupported,
} from './net-errors.js';

export type LookupAddress = { address: string; family: number };
export type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;
/** dns.lookup's shape: `all: true` asks for every address. */
export type LookupFunction = (
  hostname: string,
  options: { family?: number; hints?: number; all?: boolean },
  callback: LookupCallback,
) => void;

export interface SocketConnectOptions {
  port?: number | string;
  host?: string;
  path?: string;
  localAddress?: string;
  localPort?: number;
  family?: number | string;
  hints?: number;
  lookup?: LookupFunction;
  autoSelectFamily?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  /** Idle timeout ('timeout' event), as net.createConnection's option. */
  timeout?: number;
  /** Ours: give up a connect after this many ms (ETIMEDOUT); default 30 s. */
  timeoutMs?: number;
  /**
   * Ours: once connected, fail with ETIMEDOUT when the peer stays silent this many ms
   * while bytes to it are in flight (default: the node's, 60 s). See setDeadPeerTimeout.
   */
  deadPeerTimeout?: number;
  /** Ours: the node whose networks carry the socket (default: the running one). */
  node?: ZeroTierNode;
  signal?: AbortSignal;
  allowHalfOpen?: boolean;
}

export interface SocketOptions extends Pick<DuplexOptions, 'signal' | 'highWaterMark'> {
  readable?: boolean;
  writable?: boolean;
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  /** Ours: the dead-peer timeout in ms (see Socket#setDeadPeerTimeout). */
  deadPeerTimeout?: number;
  /** Ours: the node whose networks carry the socket (default: the running one). */
  node?: ZeroTierNode;
}

/** @internal: how a Server hands an accepted connection to a Socket. */
export interface AcceptedConnection {
  channel: SocketChannel;
  id: number;
  local?: NativeEndpoint;
  remote?: NativeEndpoint;
  pauseOnCreate: boolean;
  onDestroy: () => void;
}
/**
 * A Socket's options checked as node:net checks them (before the stream is made), and the
 * Duplex options they make.
 */
export function duplexOptions(options: SocketOptions): DuplexOptions {
  if (options === null || typeof options !== 'object') {
    throw invalidArgType('options', 'of type object', options);
  }
  const delay = options.keepAliveInitialDelay;
  if (delay !== undefined && typeof delay !== 'number') {
    throw invalidArgType('options.keepAliveInitialDelay', 'of type number', delay);
  }
  return {
    ...(options.readable === false ? { readable: false } : {}),
    ...(options.writable === false ? { writable: false } : {}),
    signal: options.signal,
    highWaterMark: options.highWaterMark,
    allowHalfOpen: Boolean(options.allowHalfOpen),
    // 'close' carries hadError and comes after the native side let go (Socket#_destroy).
    emitClose: false,
    autoDestroy: true,
    decodeStrings: true,
  };
}

export type ConnectArgs =
  | [options: SocketConnectOptions, connectListener?: () => void]
  | [port: number | string, host?: string, connectListener?: () => void]
  | [port: number | string, connectListener?: () => void]
  | [path: string, connectListener?: () => void];

type Normalized = [options: Record<string, unknown>, cb: ((...a: unknown[]) => void) | null];

function toNumber(x: unknown): number | false {
  const n = Number(x);
  return n >= 0 ? n : false;
}

/** A string that is not a number names a pipe (IPC) in node:net. */
export function isPipeName(s: unknown): s is string {
  return typeof s === 'string' && toNumber(s) === false;
}

export function normalizeArgs(args: readonly unknown[]): Normalized {
  if (args.length === 0) return [{}, null];
  const first = args[0];
  let options: Record<string, unknown> = {};
  if (typeof first === 'object' && first !== null) {
    options = first as Record<string, unknown>;
  } else if (isPipeName(first)) {
    options['path'] = first;
  } else {
    options['port'] = first;
    if (args.length > 1 && typeof args[1] === 'string') options['host'] = args[1];
  }
  const cb = args[args.length - 1];
  return [options, typeof cb === 'function' ? (cb as (...a: unknown[]) => void) : null];
}

/** Node's port rule: a number or numeric string, an integer from 0 to 65535. */
export function validatePort(port: unknown, name = 'Port'): number {
  if (
    (typeof port !== 'number' && typeof port !== 'string') ||
    (typeof port === 'string' && port.trim().length === 0) ||
    +port !== +port >>> 0 ||
    +port > 0xffff
  ) {
    throw badPort(name, port);
  }
  return +port | 0;
}

export function validateConnectPort(port: unknown): number {
  if (port === undefined) return 0;
  if (typeof port !== 'number' && typeof port !== 'string') {
    throw invalidArgType('options.port', 'of type number or string', port);
  }
  return validatePort(port);
}

/**
 * A connect's options checked as Node checks them, with ERR_NOT_SUPPORTED for what a
 * ZeroTier socket cannot do; returns the port.
 */
export function checkConnectOptions(options: SocketConnectOptions): number {
  if (options.path !== undefined && options.path !== null) {
    throw notSupported('IPC (options.path)');
  }
  if (options.port === undefined) throw missingArgs('options', 'port', 'path');
  const { localAddress, localPort } = options;
  if (localAddress && isIP(localAddress) === 0) throw invalidIpAddress(localAddress);
  if (localPort) {
    if (typeof localPort !== 'number') {
      throw invalidArgType('options.localPort', 'of type number', localPort);
    }
    validatePort(localPort, 'options.localPort');
  }
  const port = validateConnectPort(options.port);
  const { lookup } = options;
  if (lookup !== undefined && lookup !== null && typeof lookup !== 'function') {
    throw invalidArgType('options.lookup', 'of type function', lookup);
  }
  const { deadPeerTimeout } = options;
  if (deadPeerTimeout !== undefined) {
    checkDeadPeerTimeout(deadPeerTimeout, 'options.deadPeerTimeout');
  }
  return port;
}

export function familyNumber(family: unknown): number | undefined {
  if (family === 'IPv4') return 4;
  if (family === 'IPv6') return 6;
  return typeof family === 'number' ? family : undefined;
}

/**
 * The lookup used when the caller gives none: IP literals only. Names on a ZeroTier
 * network need a resolver of their own (pass `lookup`).
 */
export const literalLookup: LookupFunction = (hostname, options, callback) => {
  const family = isIP(hostname);
  process.nextTick(() => {
    if (family === 0) callback(notFound(hostname), options.all ? [] : '');
    else if (options.all) callback(null, [{ address: hostname, family }]);
    else callback(null, hostname, family);
  });
};

export interface LookupHooks {
  /** The 'lookup' event's arguments, once per address (Node's order). */
  emitLookup(err: Error | null, address: string | undefined, family: number | undefined): void;
  /** False once the socket was destroyed while the lookup ran. */
  stillConnecting(): boolean;
}

/**
 * Resolves a connect's host to the addresses to try, in order, the way node:net does:
 * IP literals at once, names through options.lookup (all addresses unless a family or a
 * local address was asked for). `done` is not called if the socket went away meanwhile.
 */
export function resolveTarget(
  host: string,
  port: number,
  options: SocketConnectOptions,
  hooks: LookupHooks,
  done: (err: Error | null, addresses: string[]) => void,
): void {
  if (isIP(host) !== 0) {
    process.nextTick(() => {
      if (hooks.stillConnecting()) done(null, [host]);
    });
    return;
  }
  const family = familyNumber(options.family);
  const lookup = options.lookup ?? literalLookup;
  const all =
    family !== 4 && family !== 6 && !options.localAddress && options.autoSelectFamily !== false;
  lookup(host, { family, hints: options.hints ?? 0, all }, (err, address, addressFamily) => {
    if (err || !all) {
      hooks.emitLookup(err, all ? undefined : (address as string), addressFamily);
    }
    if (!hooks.stillConnecting()) return;
    if (err) {
      process.nextTick(() => done(err, []));
      return;
    }
    const list: LookupAddress[] = Array.isArray(address)
      ? address
      : [{ address, family: addressFamily ?? isIP(address) }];
    if (Array.isArray(address)) {
      for (const a of list) hooks.emitLookup(null, a.address, a.family);
    }
    const usable = list.filter((a) => isIP(a.address) !== 0 && (a.family === 4 || a.family === 6));
    if (usable.length > 0) {
      done(null, [...new Set(usable.map((a) => a.address))]); // each address tried once
      return;
    }
    const first = list[0];
    const e =
      first === undefined || isIP(first.address) === 0
        ? invalidIpAddress(first?.address)
        : invalidAddressFamily(first.family, host, port);
    process.nextTick(() => done(e, []));
  });
}
