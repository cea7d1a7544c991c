/**
 * How a TCP socket's connect() finds its peer: the host looked up (through the node's
 * network DNS unless the caller gave a lookup), then its addresses tried one at a time in
 * order, as node:net's autoSelectFamily tries them, each failure named as Node names it,
 * and one error that reports them when all fail.
 */
import { fromLwip, LwipErr, systemError, type ZeroTierSystemError } from '../errors.js';
import type { ResolveHost, SocketChannel, SocketOwner } from './channel.js';
import { resolveTarget, type LookupFunction, type SocketConnectOptions } from './net-args.js';
import { TcpHandle } from './tcp-handle.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

/** What a connect's lookup needs of its socket. */
interface ConnectingSocket {
  emit(event: 'lookup', ...args: unknown[]): boolean;
  /** False once the socket was destroyed while the lookup ran. */
  readonly connecting: boolean;
}

/**
 * Looks up connect()'s host, emitting 'lookup' on the socket as Node does, and hands over
 * the addresses to try (`done` is not called if the socket went away meanwhile).
 */
export function lookUpAttempts(
  socket: ConnectingSocket,
  channel: SocketChannel,
  port: number,
  options: SocketConnectOptions,
  done: (err: Error | null, attempts?: ConnectAttempts) => void,
): void {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const host = options.host || 'localhost';
  // No lookup of the caller's: names on the node's networks go to their DNS servers.
  const lookup =
    options.lookup ?? (channel.resolveHost ? networkLookup(channel.resolveHost) : undefined);
  resolveTarget(
    host,
    port,
    { ...options, lookup },
    {
      emitLookup: (err, address, family) => socket.emit('lookup', err, address, family, host),
      stillConnecting: () => socket.connecting,
    },
    (err, addresses) => {
      if (err) done(err);
      else {
        const localPort = options.localPort ?? 0;
        done(null, new ConnectAttempts(channel, addresses, port, timeoutMs, localPort));
      }
    },
  );
}

/** A connect's addresses still to try and the errors of those tried. */
export class ConnectAttempts {
  readonly #rest: string[];
  readonly #errors: Error[] = [];
  /** The address being tried. */
  address = '';
  /** More than one address: a failure moves on to the next, and all failing is one error. */
  readonly several: boolean;

  constructor(
    readonly channel: SocketChannel,
    addresses: string[],
    readonly port: number,
    readonly timeoutMs: number,
    readonly localPort: number,
  ) {
    this.#rest = [...addresses];
    this.several = addresses.length > 1;
  }

  /** The next address to try, now the current one; undefined once all were tried. */
  next(): string | undefined {
    const address = this.#rest.shift();
    if (address !== undefined) this.address = address;
    return address;
  }

  /** Whether an address is left after the current one. */
  get more(): boolean {
    return this.#rest.length > 0;
  }

  /** Opens the connection to the current address, its events going to `owner`. */
  open(owner: SocketOwner): TcpHandle {
    return TcpHandle.connect(
      this.channel,
      owner,
      this.address,
      this.port,
      this.timeoutMs,
      this.localPort,
    );
  }

  /** The current address refused (lwIP's `err`): its error, as Node names it, kept. */
  failed(err: number): ZeroTierSystemError {
    const context = { syscall: 'connect', address: this.address, port: this.port };
    // A local port in use: Node binds (libuv sets SO_REUSEADDR), then connect fails
    // with EADDRNOTAVAIL when that address and port pair is taken; lwIP refuses at bind.
    const error =
      err === LwipErr.USE ? systemError('EADDRNOTAVAIL', context) : fromLwip(err, context);
    this.#errors.push(error);
    return error;
  }

  /** All failed: the one error, or an AggregateError of them with the first's code. */
  error(): Error {
    const [first] = this.#errors;
    return this.#errors.length === 1 && first !== undefined
      ? first
      : Object.assign(new AggregateError(this.#errors), {
          code: (first as NodeJS.ErrnoException | undefined)?.code,
        });
  }
}

/** dns.lookup's shape over the node's network DNS (dns/network-lookup.ts via the channel). */
function networkLookup(resolve: ResolveHost): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : 0;
    resolve(hostname, family).then(
      (r) => (options.all ? callback(null, [r]) : callback(null, r.address, r.family)),
      (err: NodeJS.ErrnoException) => callback(err, options.all ? [] : ''),
    );
  };
}
