/**
 * The errors node:net throws or emits, with Node's codes and messages, for the cases our
 * net shares with it, plus ERR_NOT_SUPPORTED for what a ZeroTier socket cannot do.
 */
import { Duplex } from 'node:stream';
import { inspect } from 'node:util';

import type { ZeroTierSystemError } from '../errors.js';
import { coded } from '../validate.js';

export function badPort(name: string, value: unknown): RangeError {
  return coded(
    new RangeError(`${name} should be >= 0 and < 65536. Received ${describe(value)}.`),
    'ERR_SOCKET_BAD_PORT',
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `type string ('${value}')`;
  if (typeof value === 'number') return `type number (${inspect(value)})`;
  return inspect(value);
}

export function missingArgs(...names: string[]): TypeError {
  const list = names.map((n) => `"${n}"`);
  const text =
    list.length <= 2 ? list.join(' or ') : `${list.slice(0, -1).join(', ')}, or ${list.at(-1)}`;
  return coded(new TypeError(`The ${text} argument must be specified`), 'ERR_MISSING_ARGS');
}

export function invalidIpAddress(value: unknown): TypeError {
  return coded(new TypeError(`Invalid IP address: ${String(value)}`), 'ERR_INVALID_IP_ADDRESS');
}

export function invalidAddressFamily(family: unknown, host: string, port: number): RangeError {
  return coded(
    new RangeError(`Invalid address family: ${String(family)} ${host}:${port}`),
    'ERR_INVALID_ADDRESS_FAMILY',
  );
}

export function serverAlreadyListen(): Error {
  return coded(
    new Error('Listen method has been called more than once without closing.'),
    'ERR_SERVER_ALREADY_LISTEN',
  );
}

export function serverNotRunning(): Error {
  return coded(new Error('Server is not running.'), 'ERR_SERVER_NOT_RUNNING');
}

export function socketClosed(): Error {
  return coded(new Error('Socket is closed'), 'ERR_SOCKET_CLOSED');
}

export function socketClosedBeforeConnection(): Error {
  return coded(
    new Error('Socket closed before the connection was established'),
    'ERR_SOCKET_CLOSED_BEFORE_CONNECTION',
  );
}

/** A write after the peer's FIN on a socket that is not half-open (Node says the same). */
export function endedByOtherParty(): Error & { code: string } {
  const e = new Error('This socket has been ended by the other party') as Error & {
    code: string;
  };
  e.code = 'EPIPE';
  return e;
}

/**
 * node:net's write after the peer's FIN, for a socket that is not half-open: a write
 * before the socket's own end() still goes; one after it fails with EPIPE (to its
 * callback, then as the socket's error, which destroys it).
 */
export function writeAfterFin(socket: Duplex): Duplex['write'] {
  return ((chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
    if (!socket.writableEnded) {
      return Duplex.prototype.write.call(socket, chunk, encoding as BufferEncoding, cb as never);
    }
    const callback = typeof encoding === 'function' ? encoding : cb;
    const e = endedByOtherParty();
    if (typeof callback === 'function') process.nextTick(callback as (e: Error) => void, e);
    socket.destroy(e);
    return false;
  }) as Duplex['write'];
}

/** What a ZeroTier socket cannot do, named, rather than a vague failure later. */
export function notSupported(what: string): Error {
  return coded(new Error(`${what} is not supported over ZeroTier`), 'ERR_NOT_SUPPORTED');
}

/** A name no lookup function could resolve (Node's getaddrinfo error shape). */
export function notFound(host: string): ZeroTierSystemError & { hostname: string } {
  const e = new Error(`getaddrinfo ENOTFOUND ${host}`) as ZeroTierSystemError & {
    hostname: string;
  };
  // getaddrinfo errors carry the resolver's code (UV_EAI_NONAME), not an errno.
  e.errno = -3008;
  e.code = 'ENOTFOUND';
  e.syscall = 'getaddrinfo';
  e.hostname = host;
  return e;
}
