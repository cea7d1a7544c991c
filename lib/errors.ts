/**
 * One place that turns the engine's and lwIP's error numbers into errors shaped like
 * Node's own system errors (`code` is the errno name, `errno` the negative number,
 * `syscall`, and `address`/`port` where they apply), so that code written for `net`
 * handles ours unchanged.
 */
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';

/** lwIP's err_t values (lwip/err.h, identical in every 2.x release). */
export const LwipErr = {
  OK: 0,
  MEM: -1,
  BUF: -2,
  TIMEOUT: -3,
  RTE: -4,
  INPROGRESS: -5,
  VAL: -6,
  WOULDBLOCK: -7,
  USE: -8,
  ALREADY: -9,
  ISCONN: -10,
  CONN: -11,
  IF: -12,
  ABRT: -13,
  RST: -14,
  CLSD: -15,
  ARG: -16,
} as const;

export type LwipErrName = keyof typeof LwipErr;

/** The errno name for each lwIP error, in a context-free reading. */
const lwipToErrno: Record<number, string> = {
  [LwipErr.MEM]: 'ENOMEM',
  [LwipErr.BUF]: 'ENOBUFS',
  [LwipErr.TIMEOUT]: 'ETIMEDOUT',
  [LwipErr.RTE]: 'EHOSTUNREACH',
  [LwipErr.INPROGRESS]: 'EINPROGRESS',
  [LwipErr.VAL]: 'EINVAL',
  [LwipErr.WOULDBLOCK]: 'EWOULDBLOCK',
  [LwipErr.USE]: 'EADDRINUSE',
  [LwipErr.ALREADY]: 'EALREADY',
  [LwipErr.ISCONN]: 'EISCONN',
  [LwipErr.CONN]: 'ENOTCONN',
  [LwipErr.IF]: 'EIO',
  [LwipErr.ABRT]: 'ECONNABORTED',
  [LwipErr.RST]: 'ECONNRESET',
  [LwipErr.CLSD]: 'ENOTCONN',
  [LwipErr.ARG]: 'EINVAL',
};

/**
 * What a reset or abort means depends on when it happens: lwIP reports a refused
 * connection as a reset during connect, and a connect that never completed as an abort.
 */
const connectOverrides: Record<number, string> = {
  [LwipErr.RST]: 'ECONNREFUSED',
  [LwipErr.ABRT]: 'ETIMEDOUT',
  [LwipErr.CLSD]: 'ECONNREFUSED',
};

export interface ErrorContext {
  /** The operation, as Node names it: 'connect', 'listen', 'read', 'write', 'bind', 'send', ... */
  syscall: string;
  address?: string;
  port?: number;
}

/** An error with the fields of Node's system errors. */
export interface ZeroTierSystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
}

/** The negative errno number for a name, as Node reports it (-111 for ECONNREFUSED on Linux). */
export function errnoNumber(code: string): number {
  const n = (constants.errno as Record<string, number | undefined>)[code];
  if (n === undefined) throw new RangeError(`unknown errno name ${code}`);
  return -n;
}

/** Builds a Node-shaped system error for an errno name. */
export function systemError(code: string, context: ErrorContext): ZeroTierSystemError {
  const errno = errnoNumber(code);
  let message = `${context.syscall} ${code}`;
  if (context.address !== undefined) {
    message +=
      context.port !== undefined ? ` ${context.address}:${context.port}` : ` ${context.address}`;
  }
  const error = new Error(message) as ZeroTierSystemError;
  error.errno = errno;
  error.code = code;
  error.syscall = context.syscall;
  if (context.address !== undefined) error.address = context.address;
  if (context.port !== undefined) error.port = context.port;
  return error;
}

/** The errno name an lwIP error means in the given operation. */
export function lwipErrnoName(err: number, syscall: string): string {
  if (syscall === 'connect' && connectOverrides[err] !== undefined) return connectOverrides[err];
  const name = lwipToErrno[err];
  if (name === undefined) return 'EIO';
  return name;
}

/** Converts an lwIP err_t (negative, non-zero) into a Node-shaped error. */
export function fromLwip(err: number, context: ErrorContext): ZeroTierSystemError {
  if (err === LwipErr.OK) throw new RangeError('ERR_OK is not an error');
  return systemError(lwipErrnoName(err, context.syscall), context);
}

/**
 * Converts an errno number reported by the engine (either sign; the engine uses positive
 * Linux errno values) into a Node-shaped error. Unknown numbers become EIO.
 */
export function fromErrno(errno: number, context: ErrorContext): ZeroTierSystemError {
  const negative = -Math.abs(errno);
  let name: string;
  try {
    name = getSystemErrorName(negative);
  } catch {
    name = 'EIO';
  }
  if (name.startsWith('Unknown system error')) name = 'EIO';
  return systemError(name, context);
}

/** An error report as the engine sends it across the thread boundary. */
export interface EngineErrorReport {
  domain: 'lwip' | 'errno';
  code: number;
}

export function fromEngine(report: EngineErrorReport, context: ErrorContext): ZeroTierSystemError {
  return report.domain === 'lwip'
    ? fromLwip(report.code, context)
    : fromErrno(report.code, context);
}
