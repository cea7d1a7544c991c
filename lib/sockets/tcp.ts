/**
 * TCP over ZeroTier, shaped like node:net's Socket: a Duplex with Node's connect forms,
 * events in Node's order ('lookup', 'connect', 'ready', 'data', 'end', 'close' with
 * hadError), half-open sockets and Node's error codes. Flow control is end to end: the
 * receive window reopens only as the reader consumes, and a write's callback fires once
 * the engine has taken its bytes.
 */
import { isIP } from 'node:net';
import { Duplex } from 'node:stream';

import { fromLwip, LwipErr } from '../errors.js';
import type { NativeEndpoint, NativeSocketEvent } from '../native.js';
import type { ZeroTierNode } from '../node.js';
import { invalidArgType, outOfRange } from '../validate.js';
import type { SocketOwner } from './channel.js';
import {
  checkConnectOptions,
  duplexOptions,
  normalizeArgs,
  type AcceptedConnection,
  type SocketOptions,
  type ConnectArgs,
  type SocketConnectOptions,
} from './net-args.js';
import { socketClosed, socketClosedBeforeConnection, writeAfterFin } from './net-errors.js';
import { channelOf } from './running.js';
import { IdleTimer } from './idle-timer.js';
import { ConnectAttempts, lookUpAttempts } from './tcp-connect.js';
import { ReceiveWindow, SendWindow } from './tcp-flow.js';
import { TcpHandle } from './tcp-handle.js';
import { TcpOptions } from './tcp-options.js';
import type { RateLimits, SocketTraffic, TrafficMetrics } from './traffic.js';

export type { SocketConnectOptions, SocketOptions, LookupFunction } from './net-args.js';
/** @deprecated the old name of SocketConnectOptions. */
export type TcpConnectOptions = SocketConnectOptions;

const kAccepted = Symbol('zerotier-sockets.accepted');

export class Socket extends Duplex implements SocketOwner {
  readonly #node: ZeroTierNode | undefined;
  /** The engine's socket while open (Node's `_handle`). */
  #handle: TcpHandle | undefined;
  #connecting = false;
  #refed = true;
  #local: NativeEndpoint | undefined;
  #remote: NativeEndpoint | undefined;
  /** The addresses of the connect under way (tcp-connect.ts). */
  #attempts: ConnectAttempts | undefined;
  /** Flow control with the engine, both ways (tcp-flow.ts). */
  readonly #sending = new SendWindow(() => this.#handle);
  readonly #receiving = new ReceiveWindow(() => this.#handle);
  /** Rate limits and metrics (traffic.ts), from the node's channel once there is one. */
  #traffic: SocketTraffic | undefined;
  readonly #idle = new IdleTimer(() => this.emit('timeout'));
  /** noDelay, keep-alive, dead-peer timeout (tcp-options.ts). */
  readonly #options: TcpOptions;
  #resetOnDestroy = false;
  /** connect() was called or the socket was accepted: Node has a handle then. */
  #hadHandle = false;
  #onDestroy: (() => void) | undefined;
  /** The Server that accepted this socket (null for clients), as in node:net. */
  server: unknown = null;

  constructor(options: SocketOptions & { [kAccepted]?: AcceptedConnection } = {}) {
    super(duplexOptions(options));
    this.#node = options.node;
    this.#options = new TcpOptions(options);
    this.on('end', () => {
      // Node: once the peer ended, a socket that is not half-open refuses more writes.
      if (!this.allowHalfOpen) this.write = writeAfterFin(this);
    });
    const accepted = options[kAccepted];
    if (accepted !== undefined) {
      this.#setHandle(new TcpHandle(accepted.channel, accepted.id));
      this.#local = accepted.local;
      this.#remote = accepted.remote;
      this.#hadHandle = true;
      this.#onDestroy = accepted.onDestroy;
      accepted.channel.adopt(accepted.id, this);
      this.#options.applyTo(this.#connectedHandle());
      if (accepted.pauseOnCreate) this.pause();
      else this.read(0);
    }
  }

  /** @internal */
  static fromAccepted(accepted: AcceptedConnection, options: SocketOptions): Socket {
    return new Socket({ ...options, [kAccepted]: accepted });
  }

  // --- connecting ---

  connect(...args: ConnectArgs | unknown[]): this {
    const [options, cb] = normalizeArgs(args);
    return this.#connect(options as SocketConnectOptions, cb);
  }

  /** @internal: createConnection's path, with its arguments already read. */
  connectNormalized(options: SocketConnectOptions, cb: (() => void) | null): this {
    return this.#connect(options, cb);
  }

  #connect(options: SocketConnectOptions, cb: ((...a: unknown[]) => void) | null): this {
    if (cb !== null) this.once('connect', cb);
    const port = checkConnectOptions(options);
    if (this.#connecting || this.#handle) return this; // Node ignores a second connect
    this.#options.update(options);
    if (this.write !== Socket.prototype.write) this.write = Socket.prototype.write;
    const channel = channelOf(options.node ?? this.#node);
    this.#connecting = true;
    this.#hadHandle = true;
    this.#idle.touch();
    lookUpAttempts(this, channel, port, options, (err, attempts) => {
      if (err) this.destroy(err);
      else if (attempts) {
        this.#attempts = attempts;
        this.#attempt(attempts);
      }
    });
    return this;
  }

  /** Connects to the first address that answers, in order (Node's autoSelectFamily). */
  #attempt(attempts: ConnectAttempts): void {
    const address = attempts.next();
    if (address === undefined) {
      this.destroy(attempts.error());
      return;
    }
    this.emit('connectionAttempt', address, attempts.port, isIP(address));
    this.#setHandle(attempts.open(this));
  }

  #connectedHandle(): TcpHandle | undefined {
    return this.#connecting ? undefined : this.#handle;
  }

  // --- state, as node:net reports it ---

  get connecting(): boolean {
    return this.#connecting;
  }
  get pending(): boolean {
    return this.#handle === undefined || this.#connecting;
  }
  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
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
  get localFamily(): string | undefined {
    return this.#local?.family;
  }
  get bytesRead(): number {
    return this.#receiving.bytesRead;
  }
  /** Bytes handed to write(), including those still queued (as Node counts them). */
  get bytesWritten(): number {
    let queued = 0;
    const buffered = (this as unknown as { writableBuffer?: Array<{ chunk: Buffer }> })
      .writableBuffer;
    for (const entry of buffered ?? []) queued += entry.chunk.length;
    return this.#sending.bytesWritten + queued;
  }
  get bufferSize(): number | undefined {
    return this.#handle ? this.writableLength : undefined;
  }
  get timeout(): number | undefined {
    return this.#idle.ms;
  }

  address(): NativeEndpoint | Record<string, never> {
    return this.#connectedHandle() && this.#local ? { ...this.#local } : {};
  }

  setNoDelay(noDelay?: boolean): this {
    const on = noDelay === undefined ? true : Boolean(noDelay);
    this.#options.setNoDelay(on, this.#connectedHandle());
    return this;
  }

  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.#options.setKeepAlive(Boolean(enable), initialDelay ?? 0, this.#connectedHandle());
    return this;
  }

  /**
   * Ours (node:net has no such call; Linux's TCP_USER_TIMEOUT is the nearest): once the
   * peer has been silent for `ms` while bytes to it are in flight (sent and unacknowledged,
   * or waiting for its window), the socket fails with ETIMEDOUT. A peer that answers, even
   * with a zero window, is alive. Default: the node's `deadPeerTimeout` (60 s). Idle
   * connections are watched by setKeepAlive instead.
   */
  setDeadPeerTimeout(ms: number): this {
    this.#options.setDeadPeerTimeout(ms, this.#connectedHandle());
    return this;
  }

  setTimeout(ms: number, callback?: () => void): this {
    if (typeof ms !== 'number') throw invalidArgType('msecs', 'of type number', ms);
    if (ms < 0 || !Number.isFinite(ms))
      throw outOfRange('msecs', 'a non-negative finite number', ms);
    if (callback !== undefined && typeof callback !== 'function') {
      throw invalidArgType('callback', 'of type function', callback);
    }
    if (!this.destroyed) this.#idle.set(ms);
    if (ms === 0) {
      if (callback) this.removeListener('timeout', callback);
    } else if (callback) {
      this.once('timeout', callback);
    }
    return this;
  }

  /** While open, a ref'd socket keeps the process alive (see ZeroTierNode#unref). */
  ref(): this {
    this.#refed = true;
    this.#handle?.channel.hold(this, true);
    return this;
  }
  unref(): this {
    this.#refed = false;
    this.#handle?.channel.hold(this, false);
    return this;
  }

  #setHandle(handle: TcpHandle | undefined): void {
    if (this.#handle !== handle) this.#handle?.channel.hold(this, false);
    this.#handle = handle;
    if (handle && !this.destroyed) this.#traffic ??= handle.channel.traffic.socket('tcp');
    if (handle && this.#refed) handle.channel.hold(this, true);
  }

  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Closes with a TCP reset (RST) instead of an orderly FIN. */
  resetAndDestroy(): this {
    if (!this.#handle && !this.#connecting) {
      this.destroy(socketClosed());
    } else if (this.#connecting) {
      this.once('connect', () => this.resetAndDestroy());
    } else {
      this.#resetOnDestroy = true;
      this.destroy();
    }
    return this;
  }

  override async [Symbol.asyncDispose](): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.once('close', () => resolve());
      this.destroy();
    });
  }

  // --- the engine's news ---

  /** @internal */
  onSocketEvent(e: NativeSocketEvent): void {
    switch (e.kind) {
      case 'connect':
        this.#onConnect(e);
        break;
      case 'data': {
        const data = e.data;
        if (data === undefined) return;
        this.#idle.touch();
        // A receive limit delays the push, and with it the window it reopens.
        this.#inbound(data.length, () => this.#receiving.received(data, (d) => this.push(d)));
        break;
      }
      case 'end':
        this.#idle.touch();
        this.#inbound(0, () => {
          this.push(null);
          // Let 'end' (and the close it leads to) happen even if nobody reads (as Node).
          this.read(0);
        });
        break;
      case 'wrote':
        this.#sending.taken(e.value);
        break;
      case 'close':
        this.#handle?.release();
        this.#setHandle(undefined);
        if (e.err !== undefined && e.err !== LwipErr.OK) {
          this.destroy(fromLwip(e.err, { syscall: 'read' }));
        } else {
          // After the bytes a receive limit still holds back.
          this.#inbound(0, () => {
            this.push(null);
            this.destroy();
          });
        }
        break;
      default:
        break;
    }
  }

  #onConnect(e: NativeSocketEvent): void {
    const attempts = this.#attempts;
    if (attempts === undefined) return;
    if (e.err !== undefined && e.err !== LwipErr.OK) {
      this.#handle?.release();
      this.#setHandle(undefined);
      const { address, port } = attempts;
      const error = attempts.failed(e.err);
      if (!attempts.more) this.#traffic?.failed(error.code ?? 'UNKNOWN');
      this.emit('connectionAttemptFailed', address, port, isIP(address), error);
      if (this.destroyed) return;
      if (attempts.several) {
        this.#attempt(attempts);
      } else {
        this.#connecting = false;
        this.destroy(error);
      }
      return;
    }
    this.#connecting = false;
    this.#local = e.local;
    this.#remote = e.remote;
    this.#traffic?.connected();
    this.#idle.touch();
    this.#options.applyTo(this.#connectedHandle());
    this.emit('connect');
    this.emit('ready');
    if (!this.isPaused()) this.read(0);
  }

  #inbound(n: number, go: () => void): void {
    if (this.#traffic) this.#traffic.inbound(n, go);
    else go();
  }

  /** Send and receive limits for this connection, in bytes a second (null: none). */
  setRateLimit(limits: RateLimits): this {
    this.#trafficOf().setLimits(limits);
    return this;
  }

  /** Bytes in and out, current rates and limits of this connection. */
  metrics(): TrafficMetrics {
    return this.#trafficOf().metrics();
  }

  #trafficOf(): SocketTraffic {
    this.#traffic ??= channelOf(this.#node).traffic.socket('tcp');
    return this.#traffic;
  }

  // --- Duplex ---

  override _read(): void {
    this.#receiving.read();
  }

  #send(chunks: Buffer[], cb: (err?: Error | null) => void): void {
    if (this.#connecting) {
      const onClose = () => cb(socketClosedBeforeConnection());
      this.once('close', onClose);
      this.once('connect', () => {
        this.off('close', onClose);
        this.#send(chunks, cb);
      });
      return;
    }
    const handle = this.#handle;
    if (handle === undefined) {
      cb(socketClosed());
      return;
    }
    this.#idle.touch();
    this.#sending.send(chunks, this.#traffic, cb);
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    cb: (err?: Error | null) => void,
  ): void {
    this.#send([chunk], cb);
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    cb: (err?: Error | null) => void,
  ): void {
    this.#send(
      chunks.map((c) => c.chunk),
      cb,
    );
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.#connecting) {
      this.once('connect', () => this._final(cb));
      return;
    }
    this.#handle?.shutdown();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#idle.stop();
    this.#traffic?.close();
    this.#connecting = false;
    this.#handle?.close(this.#resetOnDestroy);
    this.#setHandle(undefined);
    this.#sending.abort(err);
    cb(err);
    this.#onDestroy?.();
    // Node emits 'close' once the handle has closed: after 'error', in a later turn.
    if (this.#hadHandle) setImmediate(() => this.emit('close', err !== null && err !== undefined));
    else process.nextTick(() => this.emit('close'));
  }
}

// The Server lives beside the Socket; importers of this module find both here.
export { Server, type ListenOptions, type ServerOptions } from './tcp-server.js';
