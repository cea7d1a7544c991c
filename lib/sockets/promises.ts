/**
 * The promise API: ZeroTierSocket (connect, read, write) and ZeroTierListener (accept with
 * a timeout or signal, tryAccept that never waits, and `for await`), over the stream
 * classes. Both join the node's default network when the app holds no lease on it (and
 * leave only what they joined); connect retries transient failures with a bounded backoff.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

import type { NetworkLease } from '../network.js';
import { net, type NetConnectOptions } from '../net.js';
import { runningNode, type ZeroTierNode } from '../node.js';
import { validateInteger } from '../validate.js';
import type { RateLimits, TrafficMetrics } from './traffic.js';
import { Server, Socket, type ListenOptions, type TcpConnectOptions } from './tcp.js';

export class ZeroTierSocket implements AsyncDisposable {
  readonly #socket: Socket;
  /** A lease on the default network this socket took, released when it closes. */
  #ownLease: NetworkLease | undefined;
  readonly #chunks: Buffer[] = [];
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  /** @internal */
  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#chunks.push(d);
      if (this.#chunks.length > 64) socket.pause(); // the reader is behind: stop the window
      this.#wake?.();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#wake?.();
    });
    socket.on('error', (e: Error) => {
      this.#error = e;
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#ended = true;
      this.#wake?.();
      void this.#ownLease?.release();
    });
  }

  /** @internal */
  holdLease(lease: NetworkLease | undefined): this {
    if (lease === undefined) return this;
    if (this.#socket.destroyed) void lease.release();
    else this.#ownLease = lease;
    return this;
  }

  /** @internal */
  static async open(socket: Socket): Promise<ZeroTierSocket> {
    const wrapped = new ZeroTierSocket(socket);
    if (socket.connecting) await once(socket, 'connect');
    return wrapped;
  }

  /** The stream underneath, for pipe() and libraries that want a net.Socket. */
  get stream(): Socket {
    return this.#socket;
  }
  get remoteAddress(): string | undefined {
    return this.#socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.#socket.remotePort;
  }

  /** Limits for this connection, in bytes a second (null or Infinity: none). */
  setRateLimit(limits: RateLimits): this {
    this.#socket.setRateLimit(limits);
    return this;
  }

  /** Bytes in and out, current rates and limits of this connection. */
  metrics(): TrafficMetrics {
    return this.#socket.metrics();
  }

  /** The next bytes the peer sent, or null once it has finished. */
  async read(): Promise<Buffer | null> {
    for (;;) {
      const next = this.#chunks.shift();
      if (next !== undefined) {
        if (this.#chunks.length < 16 && this.#socket.isPaused()) this.#socket.resume();
        return next;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }

  /** Resolves once the engine has taken the bytes (backpressure included). */
  write(data: Uint8Array | string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#socket.write(data, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Sends FIN after what was written; reading goes on. */
  end(): Promise<void> {
    return new Promise((resolve) => this.#socket.end(() => resolve()));
  }

  /** Closes at once (a reset if data is still in flight). */
  destroy(): void {
    this.#socket.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#socket.destroyed) {
      this.#socket.end();
      this.#socket.destroy();
    }
  }
}

export interface AcceptOptions {
  /** Resolve null after this many ms with nobody to accept. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class ZeroTierListener implements AsyncDisposable, AsyncIterable<ZeroTierSocket> {
  readonly #server: Server;
  #closed = false;
  #ownLease: NetworkLease | undefined;
  readonly #backlog: Socket[] = [];
  readonly #waiters: Array<(s: Socket | null) => void> = [];

  /** @internal */
  constructor(server: Server) {
    this.#server = server;
    server.on('connection', (s: Socket) => {
      const waiter = this.#waiters.shift();
      if (waiter) waiter(s);
      else this.#backlog.push(s);
    });
  }

  get port(): number {
    return this.#server.address()?.port ?? 0;
  }
  get server(): Server {
    return this.#server;
  }

  /** A connection already waiting, or null; never waits. */
  tryAccept(): ZeroTierSocket | null {
    const s = this.#backlog.shift();
    return s === undefined ? null : new ZeroTierSocket(s);
  }

  /** The next connection; null on timeout or abort. */
  accept(options: AcceptOptions = {}): Promise<ZeroTierSocket | null> {
    const ready = this.tryAccept();
    if (ready !== null) return Promise.resolve(ready);
    if (options.signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (s: Socket | null) => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        resolve(s === null ? null : new ZeroTierSocket(s));
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(finish);
        if (i >= 0) this.#waiters.splice(i, 1);
        finish(null);
      };
      if (options.timeoutMs !== undefined) timer = setTimeout(onAbort, options.timeoutMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(finish);
    });
  }

  /** @internal */
  holdLease(lease: NetworkLease | undefined): this {
    this.#ownLease = lease;
    return this;
  }

  /** Connections as they come, until the listener closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<ZeroTierSocket> {
    for (;;) {
      const next = await this.accept();
      if (next !== null) yield next;
      else if (this.#closed) return;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w(null);
    for (const s of this.#backlog.splice(0)) s.destroy();
    if (this.#server.listening) {
      await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    }
    await this.#ownLease?.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export type { TcpConnectOptions };

export interface ConnectOptions extends NetConnectOptions {
  /**
   * Attempts in all (default 5; 1: no retry). Transient failures (EHOSTUNREACH,
   * ENETUNREACH, ETIMEDOUT: no route or no ARP answer yet, as just after joining) are
   * tried again after 100 ms, doubling to at most 1 s; there is no wait after the last
   * attempt, so the worst case is attempts × timeoutMs + the sum of backoffDelays().
   */
  attempts?: number;
  /** ECONNREFUSED is transient too (a peer's service still starting). Default false. */
  retryRefused?: boolean;
  /** Stops the retries (the attempt under way finishes). */
  signal?: AbortSignal;
}

const transient = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EHOSTDOWN']);

/** The waits between `attempts` connect attempts: 100 ms doubling to 1 s, none after the last. */
export function backoffDelays(attempts: number): number[] {
  validateInteger(attempts, 'attempts', 1, 1000);
  return Array.from({ length: attempts - 1 }, (_, i) => Math.min(100 * 2 ** i, 1000));
}

/**
 * A lease on the node's default network when the app holds none (waiting until it is
 * ready), else undefined: the app's own leases keep it joined.
 */
async function defaultLease(
  node: ZeroTierNode,
  timeoutMs: number,
): Promise<NetworkLease | undefined> {
  const id = node.defaultNetwork;
  if (id === undefined || node.leases(id) > 0) return undefined;
  const lease = await node.join(id);
  try {
    await lease.ready({ timeoutMs });
  } catch (e) {
    await lease.release();
    throw e;
  }
  return lease;
}

async function connectOnce(options: NetConnectOptions): Promise<ZeroTierSocket> {
  const socket = net.createConnection(options);
  const failed = once(socket, 'error').then(([e]) => Promise.reject(e as Error));
  return Promise.race([ZeroTierSocket.open(socket), failed]);
}

/** Connects and resolves once connected (rejects with ECONNREFUSED, ETIMEDOUT, ...). */
export async function connect(options: ConnectOptions): Promise<ZeroTierSocket> {
  const { attempts = 5, retryRefused = false, signal, ...netOptions } = options;
  const delays = backoffDelays(attempts);
  const lease = await defaultLease(runningNode(options.node), options.timeoutMs ?? 30_000);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await connectOnce(netOptions)).holdLease(lease);
      } catch (e) {
        const code = (e as { code?: string }).code ?? '';
        const retry = transient.has(code) || (retryRefused && code === 'ECONNREFUSED');
        if (!retry || attempt >= delays.length || signal?.aborted) throw e;
        await sleep(delays[attempt], undefined, signal ? { signal } : {}).catch(() => {
          throw e; // aborted while waiting: the last failure is the answer
        });
      }
    }
  } catch (e) {
    await lease?.release();
    throw e;
  }
}

/** Listens and resolves once listening (on the default network's addresses too). */
export async function listen(
  options: ListenOptions & { node?: ZeroTierNode } = {},
): Promise<ZeroTierListener> {
  const node = runningNode(options.node);
  const lease = await defaultLease(node, 30_000);
  try {
    const server = net.createServer({ node });
    const failed = once(server, 'error').then(([e]) => Promise.reject(e as Error));
    server.listen(options);
    await Promise.race([once(server, 'listening'), failed]);
    return new ZeroTierListener(server).holdLease(lease);
  } catch (e) {
    await lease?.release();
    throw e;
  }
}
