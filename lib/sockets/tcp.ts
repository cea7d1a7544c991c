/**
 * TCP over ZeroTier, shaped like node:net: Socket is a Duplex stream, Server emits
 * 'connection'. Flow control is end to end: the receive window reopens only as the
 * reader consumes, and a write's callback fires once the engine has taken its bytes.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { Duplex } from 'node:stream';

import { fromLwip, LwipErr } from '../errors.js';
import type { NativeEndpoint, NativeSocketEvent } from '../native.js';
import { validateInteger, validateString } from '../validate.js';
import type { SocketChannel, SocketOwner } from './channel.js';
import type { RateLimits, SocketTraffic, TrafficMetrics } from './traffic.js';

export interface TcpConnectOptions {
  host: string;
  port: number;
  /** Give up after this many ms (ETIMEDOUT); default 30 s. */
  timeoutMs?: number;
  noDelay?: boolean;
}

function checkHostPort(host: unknown, port: unknown): asserts host is string {
  validateString(host, 'host');
  if (isIP(host) === 0) {
    const e = new TypeError(
      `host must be an IP address on the network, not ${JSON.stringify(host)}`,
    );
    (e as TypeError & { code: string }).code = 'ERR_INVALID_IP_ADDRESS';
    throw e;
  }
  validateInteger(port, 'port', 0, 65535);
}

export class Socket extends Duplex implements SocketOwner {
  readonly #channel: SocketChannel;
  #id = 0;
  #connecting = false;
  #local: NativeEndpoint | undefined;
  #remote: NativeEndpoint | undefined;
  #unconsumed = 0;
  #wantMore = true;
  #pendingWrites: Array<{ left: number; cb: (err?: Error | null) => void }> = [];
  #nativeOpen = false;
  #bytesRead = 0;
  #bytesWritten = 0;
  #timeoutMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #target: { host: string; port: number } | undefined;
  readonly #traffic: SocketTraffic;

  /** @internal: sockets come from connect() or a Server. */
  constructor(
    channel: SocketChannel,
    accepted?: { id: number; local?: NativeEndpoint; remote?: NativeEndpoint },
  ) {
    super({ allowHalfOpen: false, decodeStrings: true });
    this.#channel = channel;
    this.#traffic = channel.traffic.socket('tcp');
    if (accepted !== undefined) {
      this.#id = accepted.id;
      this.#local = accepted.local;
      this.#remote = accepted.remote;
      this.#nativeOpen = true;
      channel.adopt(accepted.id, this);
    }
  }

  /** @internal */
  connectTo(options: TcpConnectOptions): this {
    checkHostPort(options.host, options.port);
    this.#target = { host: options.host, port: options.port };
    this.#connecting = true;
    this.#id = this.#channel.allocate(this);
    this.#nativeOpen = true;
    this.#channel.native.tcpConnect(
      this.#id,
      options.host,
      options.port,
      options.timeoutMs ?? 30_000,
    );
    if (options.noDelay) this.setNoDelay(true);
    return this;
  }

  get connecting(): boolean {
    return this.#connecting;
  }
  get pending(): boolean {
    return this.#connecting || this.#remote === undefined;
  }
  get readyState(): string {
    if (this.#connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }
  get remoteAddress(): string | undefined {
    return this.#remote?.address;
  }
  get remotePort(): number | undefined {
    return this.#remote?.port;
  }
  get remoteFamily(): string | undefined {
    return this.#remote?.family;
  }
  get localAddress(): string | undefined {
    return this.#local?.address;
  }
  get localPort(): number | undefined {
    return this.#local?.port;
  }
  get bytesRead(): number {
    return this.#bytesRead;
  }
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  address(): NativeEndpoint | Record<string, never> {
    return this.#local ?? {};
  }

  setNoDelay(noDelay = true): this {
    if (this.#nativeOpen) this.#channel.native.socketControl(this.#id, 'nodelay', noDelay ? 1 : 0);
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0): this {
    if (this.#nativeOpen) {
      this.#channel.native.socketControl(
        this.#id,
        'keepalive',
        enable ? Math.max(initialDelay, 1) : 0,
      );
    }
    return this;
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.#timeoutMs = ms;
    if (callback) this.once('timeout', callback);
    this.#touch();
    return this;
  }

  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  /** Send and receive limits for this connection, in bytes a second (null: none). */
  setRateLimit(limits: RateLimits): this {
    this.#traffic.setLimits(limits);
    return this;
  }

  /** Bytes in and out, current rates and limits of this connection. */
  metrics(): TrafficMetrics {
    return this.#traffic.metrics();
  }

  #touch(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#timeoutMs > 0 && !this.destroyed) {
      this.#timer = setTimeout(() => this.emit('timeout'), this.#timeoutMs);
    }
  }

  /** @internal */
  onSocketEvent(e: NativeSocketEvent): void {
    this.#touch();
    switch (e.kind) {
      case 'connect':
        this.#connecting = false;
        if (e.err !== undefined && e.err !== LwipErr.OK) {
          this.#nativeOpen = false;
          const failure = fromLwip(e.err, {
            syscall: 'connect',
            address: this.#target?.host,
            port: this.#target?.port,
          });
          this.#traffic.failed(failure.code);
          this.destroy(failure);
          return;
        }
        this.#traffic.connected();
        this.#local = e.local;
        this.#remote = e.remote;
        this.emit('connect');
        this.emit('ready');
        break;
      case 'data': {
        const data = e.data;
        if (data === undefined) return;
        this.#traffic.inbound(data.length, () => {
          this.#bytesRead += data.length;
          this.#unconsumed += data.length;
          this.#wantMore = this.push(data);
          if (this.#wantMore) this.#consume();
        });
        break;
      }
      case 'end':
        this.#traffic.inbound(0, () => this.push(null));
        break;
      case 'wrote': {
        let n = e.value;
        for (let head = this.#pendingWrites[0]; n > 0 && head; head = this.#pendingWrites[0]) {
          const take = Math.min(n, head.left);
          head.left -= take;
          n -= take;
          if (head.left > 0) break;
          this.#pendingWrites.shift();
          head.cb();
        }
        break;
      }
      case 'close':
        this.#nativeOpen = false;
        this.#channel.release(this.#id);
        if (e.err !== undefined && e.err !== LwipErr.OK) {
          this.destroy(
            fromLwip(e.err, {
              syscall: 'read',
              address: this.#remote?.address,
              port: this.#remote?.port,
            }),
          );
        } else {
          // After the bytes a receive limit still holds back.
          this.#traffic.inbound(0, () => (this.push(null), this.destroy()));
        }
        break;
      default:
        break;
    }
  }

  #consume(): void {
    if (this.#unconsumed > 0 && this.#nativeOpen) {
      this.#channel.native.socketControl(this.#id, 'consumed', this.#unconsumed);
      this.#unconsumed = 0;
    }
  }

  override _read(): void {
    this.#wantMore = true;
    this.#consume();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    cb: (err?: Error | null) => void,
  ): void {
    if (!this.#nativeOpen) {
      cb(fromLwip(LwipErr.CLSD, { syscall: 'write' }));
      return;
    }
    this.#bytesWritten += chunk.length;
    this.#pendingWrites.push({ left: chunk.length, cb });
    this.#traffic.write(chunk, (piece) => {
      if (this.#nativeOpen) this.#channel.native.socketWrite(this.#id, piece);
    });
    this.#touch();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.#nativeOpen) this.#channel.native.socketControl(this.#id, 'shutdown');
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#traffic.close();
    if (this.#nativeOpen) {
      this.#nativeOpen = false;
      this.#channel.native.socketControl(this.#id, err ? 'abort' : 'close');
      this.#channel.release(this.#id);
    }
    const pending = this.#pendingWrites;
    this.#pendingWrites = [];
    for (const p of pending) p.cb(err ?? fromLwip(LwipErr.CLSD, { syscall: 'write' }));
    cb(err);
  }
}

export interface ListenOptions {
  port?: number;
  host?: string;
}

export class Server extends EventEmitter implements SocketOwner {
  readonly #channel: SocketChannel;
  #id = 0;
  #local: NativeEndpoint | undefined;
  #listening = false;
  readonly #connections = new Set<Socket>();

  /** @internal */
  constructor(channel: SocketChannel, connectionListener?: (socket: Socket) => void) {
    super();
    this.#channel = channel;
    if (connectionListener) this.on('connection', connectionListener);
  }

  get listening(): boolean {
    return this.#listening;
  }

  address(): NativeEndpoint | null {
    return this.#local ?? null;
  }

  listen(port?: number | ListenOptions, host?: string | (() => void), cb?: () => void): this {
    let options: ListenOptions = typeof port === 'object' ? port : { port };
    if (typeof host === 'function') cb = host;
    else if (typeof host === 'string') options = { ...options, host };
    const p = options.port ?? 0;
    validateInteger(p, 'port', 0, 65535);
    const h = options.host ?? '';
    if (h !== '' && isIP(h) === 0) throw new TypeError(`host must be an IP address, not ${h}`);
    if (cb) this.once('listening', cb);
    this.#id = this.#channel.allocate(this);
    this.#channel.native.tcpListen(this.#id, h === '0.0.0.0' || h === '::' ? '' : h, p);
    return this;
  }

  /** @internal */
  onSocketEvent(e: NativeSocketEvent): void {
    if (e.kind === 'listening') {
      if (e.err !== undefined && e.err !== LwipErr.OK) {
        this.#channel.release(this.#id);
        this.emit('error', fromLwip(e.err, { syscall: 'listen', port: e.local?.port }));
        return;
      }
      this.#local = e.local;
      this.#listening = true;
      this.emit('listening');
    } else if (e.kind === 'accept' && e.accepted !== undefined) {
      const socket = new Socket(this.#channel, {
        id: e.accepted,
        local: e.local,
        remote: e.remote,
      });
      this.#channel.traffic.count('accepted');
      this.#connections.add(socket);
      socket.once('close', () => this.#connections.delete(socket));
      this.emit('connection', socket);
    } else if (e.kind === 'close') {
      this.#listening = false;
    }
  }

  getConnections(cb: (err: Error | null, count: number) => void): this {
    cb(null, this.#connections.size);
    return this;
  }

  close(cb?: (err?: Error) => void): this {
    if (this.#listening) {
      this.#listening = false;
      this.#channel.native.socketControl(this.#id, 'close');
      this.#channel.release(this.#id);
      queueMicrotask(() => this.emit('close'));
      if (cb) this.once('close', () => cb());
    } else if (cb) {
      const e = new Error('Server is not running.');
      (e as Error & { code: string }).code = 'ERR_SERVER_NOT_RUNNING';
      queueMicrotask(() => cb(e));
    }
    return this;
  }

  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#listening) await new Promise<void>((r) => this.close(() => r()));
  }
}
