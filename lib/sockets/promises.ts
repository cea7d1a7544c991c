/**
 * The promise API: ZeroTierSocket (connect, read, write) and ZeroTierListener (accept with
 * a timeout or signal, and tryAccept that never waits), over the stream classes.
 */
import { once } from 'node:events';

import { Server, Socket, type TcpConnectOptions } from './tcp.js';

export class ZeroTierSocket implements AsyncDisposable {
  readonly #socket: Socket;
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
    });
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

export class ZeroTierListener implements AsyncDisposable {
  readonly #server: Server;
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

  close(): Promise<void> {
    for (const w of this.#waiters.splice(0)) w(null);
    for (const s of this.#backlog.splice(0)) s.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#server.listening) await this.close();
  }
}

export type { TcpConnectOptions };
