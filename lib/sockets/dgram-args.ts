/**
 * The errors node:dgram throws or reports, with Node's codes, classes and messages, and
 * the argument readers that decide between them (ports, messages, offsets), so that code
 * written against node:dgram handles ours unchanged.
 */
import { isIP } from 'node:net';
import { inspect } from 'node:util';

import { systemError, type ZeroTierSystemError } from '../errors.js';
import { invalidArgType } from '../validate.js';
import type { SocketChannel } from './channel.js';
import type { BindOptions } from './udp-options.js';

type Coded<E extends Error> = E & { code: string };

function coded<E extends Error>(error: E, code: string): Coded<E> {
  const e = error as Coded<E>;
  e.code = code;
  // Node shows the code in the stack's first line: "Error [ERR_SOCKET_...]: ...".
  Object.defineProperty(e, 'name', { value: `${error.name} [${code}]`, configurable: true });
  void e.stack; // formatted lazily: make it now, with the decorated name
  delete (e as { name?: string }).name; // back to the class's own name
  return e;
}

export const notRunning = (): Error =>
  coded(new Error('Not running'), 'ERR_SOCKET_DGRAM_NOT_RUNNING');
export const alreadyBound = (): Error =>
  coded(new Error('Socket is already bound'), 'ERR_SOCKET_ALREADY_BOUND');
export const isConnected = (): Error =>
  coded(new Error('Already connected'), 'ERR_SOCKET_DGRAM_IS_CONNECTED');
export const notConnected = (): Error =>
  coded(new Error('Not connected'), 'ERR_SOCKET_DGRAM_NOT_CONNECTED');
export const badType = (): TypeError =>
  coded(
    new TypeError('Bad socket type specified. Valid types are: udp4, udp6'),
    'ERR_SOCKET_BAD_TYPE',
  );
export const missingArgs = (name: string): TypeError =>
  coded(new TypeError(`The "${name}" argument must be specified`), 'ERR_MISSING_ARGS');
export const outOfBounds = (name: string): RangeError =>
  coded(new RangeError(`"${name}" is outside of buffer bounds`), 'ERR_BUFFER_OUT_OF_BOUNDS');

/** What the ZeroTier stack cannot do (yet), named, rather than a silent difference. */
export function notSupported(what: string): Error {
  return coded(new Error(`${what} is not supported on ZeroTier sockets`), 'ERR_NOT_SUPPORTED');
}

/** Node's ERR_SOCKET_BUFFER_SIZE, a SystemError wrapping the errno of the failed call. */
export function bufferSizeError(syscall: string, errnoCode: string): Error {
  const inner = systemError(errnoCode, { syscall });
  const e = coded(
    new Error(
      `Could not get or set buffer size: ${syscall} returned ${errnoCode} (${
        errnoCode === 'EBADF' ? 'bad file descriptor' : 'invalid argument'
      })`,
    ),
    'ERR_SOCKET_BUFFER_SIZE',
  );
  Object.defineProperty(e, 'name', { value: 'SystemError', configurable: true });
  Object.assign(e, { errno: inner.errno, syscall, info: { errno: inner.errno, code: errnoCode } });
  return e;
}

/** A system error of a socket option or query (`setTTL EINVAL`), without an address. */
export function optionError(syscall: string, code: string): ZeroTierSystemError {
  return systemError(code, { syscall });
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `type string (${inspect(value)})`;
  if (typeof value === 'number') return `type number (${inspect(value)})`;
  return `type ${typeof value} (${inspect(value, { depth: 0 })})`;
}

/**
 * A destination port as dgram accepts it: an integer or a numeric string, 1..65535 (0 too
 * for bind). Anything else is ERR_SOCKET_BAD_PORT, as Node reports it.
 */
export function readPort(value: unknown, allowZero: boolean): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : NaN;
  if (Number.isInteger(n) && n >= (allowZero ? 0 : 1) && n <= 65535) return n;
  const bound = allowZero ? '>= 0' : '> 0';
  throw coded(
    new RangeError(`Port should be ${bound} and < 65536. Received ${describe(value)}.`),
    'ERR_SOCKET_BAD_PORT',
  );
}

const bufferTypes = 'of type string or an instance of Buffer, TypedArray, or DataView';

/** One datagram's bytes from a string, a view or a list of those (dgram's `msg`). */
export function readMessage(msg: unknown): Buffer {
  if (typeof msg === 'string') return Buffer.from(msg);
  if (ArrayBuffer.isView(msg)) return Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
  if (Array.isArray(msg)) {
    const parts = msg.map((part: unknown) => {
      if (typeof part === 'string') return Buffer.from(part);
      if (ArrayBuffer.isView(part)) {
        return Buffer.from(part.buffer, part.byteOffset, part.byteLength);
      }
      throw invalidArgType('buffer list arguments', bufferTypes, msg);
    });
    return Buffer.concat(parts);
  }
  throw invalidArgType('buffer', bufferTypes, msg);
}

/** `msg` cut to `offset`/`length` (only a single string or view may be cut). */
export function sliceMessage(msg: unknown, offset: unknown, length: unknown): Buffer {
  if (typeof msg !== 'string' && !ArrayBuffer.isView(msg)) {
    throw invalidArgType('buffer', bufferTypes, msg);
  }
  const bytes = readMessage(msg);
  // dgram reads both as unsigned 32-bit integers, as `>>> 0` does.
  const start = Number(offset) >>> 0;
  const count = Number(length) >>> 0;
  if (start > bytes.length) throw outOfBounds('offset');
  if (start + count > bytes.length) throw outOfBounds('length');
  return bytes.subarray(start, start + count);
}

/** dns.lookup's shape, as dgram calls it: the family as a number (4 or 6). */
export type LookupFunction = (
  hostname: string,
  family: number,
  callback: (err: Error | null, address: string, family: number) => void,
) => void;

/**
 * The default `lookup`: IP literals only. Names need a user-supplied lookup (ZeroTier
 * networks carry no resolver of their own here); an unknown name fails like getaddrinfo.
 */
export const literalLookup: LookupFunction = (hostname, _family, callback) => {
  const family = isIP(hostname);
  if (family !== 0) {
    process.nextTick(callback, null, hostname, family);
    return;
  }
  const e = new Error(`getaddrinfo ENOTFOUND ${hostname}`) as Error & Record<string, unknown>;
  Object.assign(e, { errno: -3008, code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname });
  process.nextTick(callback, e, '', 0);
};

/**
 * The lookup a socket uses when the caller gives none: IP literals, and names on the
 * node's networks through their DNS (the node sets channel.resolveHost).
 */
export function networkLookup(channel: SocketChannel): LookupFunction {
  return (hostname, family, callback) => {
    const resolve = channel.resolveHost;
    if (resolve === undefined || isIP(hostname) !== 0) {
      literalLookup(hostname, family, callback);
      return;
    }
    resolve(hostname, family === 6 ? 6 : 4).then(
      (r) => callback(null, r.address, r.family),
      (err: Error) => callback(err, '', 0),
    );
  };
}

/** How a socket turns a host into an IP: see hostResolver. */
export type HostResolver = (
  host: string | undefined,
  done: (err: Error | null, ip: string) => void,
) => void;

/**
 * No host ('' for any) and IP literals as they are, in a later tick; names through
 * `lookup`, for the socket's family.
 */
export function hostResolver(lookup: LookupFunction, family: 4 | 6): HostResolver {
  return (host, done) => {
    if (host === undefined || isIP(host) !== 0) {
      process.nextTick(done, null, host ?? '');
      return;
    }
    lookup(host, family, (err, ip) => done(err, ip));
  };
}

/** True for IPv4's limited broadcast or a subnet's directed broadcast. */
export function isBroadcast(address: string, subnets: ReadonlyArray<string>): boolean {
  if (address === '255.255.255.255') return true;
  if (isIP(address) !== 4) return false;
  const ip = toInt(address);
  for (const cidr of subnets) {
    const [base, bits] = cidr.split('/');
    if (base === undefined || isIP(base) !== 4) continue;
    const prefix = Number(bits);
    if (!(prefix > 0 && prefix < 31)) continue;
    const hostMask = 2 ** (32 - prefix) - 1;
    if (Math.floor(toInt(base) / (hostMask + 1)) === Math.floor(ip / (hostMask + 1))) {
      if (ip % (hostMask + 1) === hostMask) return true;
    }
  }
  return false;
}

function toInt(v4: string): number {
  return v4.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function isMulticast(address: string): boolean {
  const family = isIP(address);
  if (family === 4) {
    const first = Number(address.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  return family === 6 && /^ff/i.test(address);
}

/**
 * Reads bind([port][, address][, callback]) and bind(options[, callback]) as node:dgram
 * does. The address comes back undefined for "any".
 */
export function readBindArgs(
  port: number | string | BindOptions | (() => void) | null | undefined,
  address: string | (() => void) | undefined,
  callback: (() => void) | undefined,
): { port: number; address: string | undefined; callback: (() => void) | undefined } {
  let cb = typeof address === 'function' ? address : callback;
  let host: unknown = typeof address === 'function' ? undefined : address;
  let p: unknown = port;
  if (typeof port === 'function') {
    cb = port;
    p = 0;
  } else if (port !== null && typeof port === 'object') {
    if (port.fd !== undefined) throw notSupported('bind({ fd }) (an OS socket)');
    p = port.port ?? 0;
    host = port.address;
  }
  const bindPort = readPort(p ?? 0, true);
  if (host !== undefined && host !== null && typeof host !== 'string') {
    throw invalidArgType('hostname', 'of type string', host);
  }
  const name = typeof host === 'string' && host !== '' ? host : undefined;
  return { port: bindPort, address: name, callback: cb };
}

/** Reads connect(port[, address][, callback]) as node:dgram does. */
export function readConnectArgs(
  port: number | string,
  address: string | (() => void) | undefined,
  callback: ((err?: Error) => void) | undefined,
): { port: number; address: string | undefined; callback: ((err?: Error) => void) | undefined } {
  if (typeof address === 'function') {
    callback = address;
    address = undefined;
  }
  const remotePort = readPort(port, false);
  if (address !== undefined && typeof address !== 'string') {
    throw invalidArgType('address', 'of type string', address);
  }
  return { port: remotePort, address, callback };
}

export type SendCallback = (error: Error | null, bytes?: number) => void;

/**
 * Reads send(msg[, offset, length][, port][, address][, callback]) as node:dgram does,
 * quirks included: on a connected socket a port after the message is taken for a
 * (non-function, so ignored) callback, and the datagram goes to the connected peer.
 */
export function readSendArgs(
  connected: boolean,
  msg: unknown,
  args: unknown[],
): { data: Buffer; port: unknown; address: string | undefined; callback?: SendCallback } {
  const [offset, length] = args;
  let [, , port, address, callback] = args;
  let data: Buffer;
  if (connected) {
    if (typeof length === 'number') {
      data = sliceMessage(msg, offset, length);
      if (typeof port === 'function') {
        callback = port;
        port = undefined;
      }
    } else {
      data = readMessage(msg);
      callback = offset;
      port = undefined;
    }
    if (port || address) throw isConnected();
  } else if (address || (port && typeof port !== 'function')) {
    // The six-argument form: msg, offset, length, port, address, callback.
    data = sliceMessage(msg, offset, length);
  } else {
    data = readMessage(msg);
    callback = port;
    port = offset;
    address = length;
  }
  if (typeof address === 'function') {
    callback = address;
    address = undefined;
  }
  if (address !== undefined && address !== null && typeof address !== 'string') {
    throw invalidArgType('address', 'of type string', address);
  }
  return {
    data,
    port,
    address: typeof address === 'string' && address !== '' ? address : undefined,
    ...(typeof callback === 'function' ? { callback: callback as SendCallback } : {}),
  };
}

/** add/dropMembership's arguments: a group the socket can join, an optional interface. */
export function checkMembershipArgs(
  group: unknown,
  iface: unknown,
  syscall: string,
  family: 4 | 6,
): void {
  if (!group) throw missingArgs('multicastAddress');
  if (iface !== undefined && typeof iface !== 'string') {
    throw invalidArgType('interfaceAddress', 'of type string', iface);
  }
  if (typeof group !== 'string' || !isMulticast(group)) throw optionError(syscall, 'EINVAL');
  // A udp6 socket may join IPv4 groups too (dual stack); a udp4 one has no IPv6 options.
  if (family === 4 && isIP(group) === 6) throw optionError(syscall, 'ENOPROTOOPT');
}
