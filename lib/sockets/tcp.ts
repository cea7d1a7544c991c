/**
 * TCP over ZeroTier, shaped like node:net's Socket: a Duplex with Node's connect forms,
 * events in Node's order ('lookup', 'connect', 'ready', 'data', 'end', 'close' with
 * hadError), half-open sockets and Node's error codes. Flow control is end to end: the
 * receive window reopens only as the reader consumes, and a write's callback fires once
 * the engine has taken its bytes.
 */
import { isIP } from 'node:net';
import { Duplex } from 'node:stream';

import { fromLwip, LwipErr, systemError } from '../errors.js';
import type { NativeEndpoint, NativeSocketEvent } from '../native.js';
import type { ZeroTierNode } from '../node.js';
import { invalidArgType, outOfRange } from '../validate.js';
import type { ResolveHost, SocketChannel, SocketOwner } from './channel.js';
import {
  checkConnectOptions,
  normalizeArgs,
  resolveTarget,
  type AcceptedConnection,
  type SocketOptions,
  type ConnectArgs,
  type SocketConnectOptions,
  type LookupFunction,
} from './net-args.js';
import { endedByOtherParty, socketClosed, socketClosedBeforeConnection } from './net-errors.js';
import { channelOf } from './running.js';
import { IdleTimer } from './idle-timer.js';
import { checkDeadPeerTimeout, keepAliveTimes } from './liveness.js';
import { TcpHandle } from './tcp-handle.js';
import type { RateLimits, SocketTraffic, TrafficMetrics } from './traffic.js';

export type { SocketConnectOptions, SocketOptions, LookupFunction } from './net-args.js';
/** @deprecated the old name of SocketConnectOptions. */
export type TcpConnectOptions = SocketConnectOptions;

const kAccepted = Symbol('zerotier-sockets.accepted');

const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

/**
 * Unconfirmed bytes a socket may have with the engine before write callbacks wait. The
 * engine reports taken bytes in steps of at most its own report size (socket-bridge.cpp,
 * 256 KiB), which must stay below this.
 */
const MAX_IN_FLIGHT = 4 * 1024 * 1024;
/** Received bytes the app took before the engine is told (below: they add up first). */
const CONSUME_BATCH = 64 * 1024;

/** Where a connect is going: addresses still to try and the errors of those tried. */
interface ConnectTarget {
  channel: SocketChannel;
  addresses: string[];
  port: number;
  timeoutMs: number;
  localPort: number;
  errors: Error[];
}

export class Socket extends Duplex implements SocketOwner {
  readonly #node: ZeroTierNode | undefined;
  /** The engine's socket while open (Node's `_handle`). */
  #handle: TcpHandle | undefined;
  #connecting = false;
  #refed = true;
  #local: NativeEndpoint | undefined;
  #remote: NativeEndpoint | undefined;
  #unconsumed = 0;
  /** A write's callback held until the engine has taken enough (see MAX_IN_FLIGHT). */
  #pendingWrite: { cb: (err?: Error | null) => void } | undefined;
  /** Bytes handed to the engine that it has not yet reported taken ('wrote'). */
  #inFlight = 0;
  /** push() said stop: the next _read reopens the window for everything held. */
  #backpressured = false;
  /** Rate limits and metrics (traffic.ts), from the node's channel once there is one. */
  #traffic: SocketTraffic | undefined;
  /** Written bytes a send limit still holds back from the engine. */
  #heldByLimit = 0;
  #bytesRead = 0;
  #bytesWritten = 0;
  readonly #idle = new IdleTimer(() => this.emit('timeout'));
  #noDelay: boolean;
  #keepAlive: boolean;
  #keepAliveDelayMs: number;
  /** undefined: the node's default. */
  #deadPeerTimeoutMs: number | undefined;
  #resetOnDestroy = false;
  /** connect() was called or the socket was accepted: Node has a handle then. */
  #hadHandle = false;
  #onDestroy: (() => void) | undefined;
  /** The Server that accepted this socket (null for clients), as in node:net. */
  server: unknown = null;

  constructor(options: SocketOptions & { [kAccepted]?: AcceptedConnection } = {}) {
    if (options === null || typeof options !== 'object') {
      throw invalidArgType('options', 'of type object', options);
    }
    const delay = options.keepAliveInitialDelay;
    if (delay !== undefined && typeof delay !== 'number') {
      throw invalidArgType('options.keepAliveInitialDelay', 'of type number', delay);
    }
    super({
      ...(options.readable === false ? { readable: false } : {}),
      ...(options.writable === false ? { writable: false } : {}),
      signal: options.signal,
      highWaterMark: options.highWaterMark,
      allowHalfOpen: Boolean(options.allowHalfOpen),
      // 'close' carries hadError and comes after the native side let go (see _destroy).
      emitClose: false,
      autoDestroy: true,
      decodeStrings: true,
    });
    this.#node = options.node;
    this.#noDelay = Boolean(options.noDelay);
    this.#keepAlive = Boolean(options.keepAlive);
    this.#keepAliveDelayMs = Math.max(0, delay ?? 0);
    if (options.deadPeerTimeout !== undefined) {
      this.#deadPeerTimeoutMs = checkDeadPeerTimeout(
        options.deadPeerTimeout,
        'options.deadPeerTimeout',
      );
    }
    this.on('end', () => {
      // Node: once the peer ended, a socket that is not half-open refuses more writes.
      if (!this.allowHalfOpen) this.write = this.#writeAfterFin as Duplex['write'];
    });
    const accepted = options[kAccepted];
    if (accepted !== undefined) {
      this.#setHandle(new TcpHandle(accepted.channel, accepted.id));
      this.#local = accepted.local;
      this.#remote = accepted.remote;
      this.#hadHandle = true;
      this.#onDestroy = accepted.onDestroy;
      accepted.channel.adopt(accepted.id, this);
      this.#applySocketOptions();
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
    const deadPeer = options.deadPeerTimeout;
    if (deadPeer !== undefined) checkDeadPeerTimeout(deadPeer, 'options.deadPeerTimeout');
    if (this.#connecting || this.#handle) return this; // Node ignores a second connect
    if (deadPeer !== undefined) this.#deadPeerTimeoutMs = deadPeer;
    if (this.write !== Socket.prototype.write) this.write = Socket.prototype.write;
    if (options.noDelay !== undefined) this.#noDelay = Boolean(options.noDelay);
    if (options.keepAlive !== undefined) this.#keepAlive = Boolean(options.keepAlive);
    if (options.keepAliveInitialDelay !== undefined) {
      this.#keepAliveDelayMs = Math.max(0, options.keepAliveInitialDelay);
    }
    const channel = channelOf(options.node ?? this.#node);
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#connecting = true;
    this.#hadHandle = true;
    this.#idle.touch();
    const host = options.host || 'localhost';
    // No lookup of the caller's: names on the node's networks go to their DNS servers.
    const lookup =
      options.lookup ?? (channel.resolveHost ? networkLookup(channel.resolveHost) : undefined);
    resolveTarget(
      host,
      port,
      { ...options, lookup },
      {
        emitLookup: (err, address, family) => this.emit('lookup', err, address, family, host),
        stillConnecting: () => this.#connecting,
      },
      (err, addresses) => {
        if (err) this.destroy(err);
        else {
          const localPort = options.localPort ?? 0;
          this.#attempt({ channel, addresses, port, timeoutMs, localPort, errors: [] });
        }
      },
    );
    return this;
  }

  /** Connects to the first address that answers, in order (Node's autoSelectFamily). */
  #attempt(target: ConnectTarget): void {
    const [address, ...rest] = target.addresses;
    if (address === undefined) {
      const [first] = target.errors;
      const e =
        target.errors.length === 1 && first !== undefined
          ? first
          : Object.assign(new AggregateError(target.errors), {
              code: (first as NodeJS.ErrnoException | undefined)?.code,
            });
      this.destroy(e);
      return;
    }
    this.emit('connectionAttempt', address, target.port, isIP(address));
    this.#target = { ...target, address, addresses: rest };
    this.#setHandle(
      TcpHandle.connect(
        target.channel,
        this,
        address,
        target.port,
        target.timeoutMs,
        target.localPort,
      ),
    );
  }

  #target: (ConnectTarget & { address: string }) | undefined;

  #applySocketOptions(): void {
    const handle = this.#connectedHandle();
    if (this.#noDelay) handle?.noDelay(true);
    if (this.#keepAlive) handle?.keepAlive(keepAliveTimes(this.#keepAliveDelayMs));
    if (this.#deadPeerTimeoutMs !== undefined) handle?.deadPeerTimeout(this.#deadPeerTimeoutMs);
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
    return this.#bytesRead;
  }
  /** Bytes handed to write(), including those still queued (as Node counts them). */
  get bytesWritten(): number {
    let queued = 0;
    const buffered = (this as unknown as { writableBuffer?: Array<{ chunk: Buffer }> })
      .writableBuffer;
    for (const entry of buffered ?? []) queued += entry.chunk.length;
    return this.#bytesWritten + queued;
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
    if (on !== this.#noDelay) {
      this.#noDelay = on;
      this.#connectedHandle()?.noDelay(on);
    }
    return this;
  }

  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.#keepAlive = Boolean(enable);
    this.#keepAliveDelayMs = Math.max(0, Math.trunc(initialDelay ?? 0));
    this.#connectedHandle()?.keepAlive(
      this.#keepAlive ? keepAliveTimes(this.#keepAliveDelayMs) : undefined,
    );
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
    this.#deadPeerTimeoutMs = checkDeadPeerTimeout(ms, 'ms');
    this.#connectedHandle()?.deadPeerTimeout(ms);
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

  #writeAfterFin = (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
    if (!this.writableEnded) {
      return Duplex.prototype.write.call(this, chunk, encoding as BufferEncoding, cb as never);
    }
    const callback = typeof encoding === 'function' ? encoding : cb;
    const e = endedByOtherParty();
    if (typeof callback === 'function') process.nextTick(callback as (e: Error) => void, e);
    this.destroy(e);
    return false;
  };

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
        this.#inbound(data.length, () => {
          this.#bytesRead += data.length;
          this.#unconsumed += data.length;
          if (this.push(data)) this.#consume(false);
          else this.#backpressured = true;
        });
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
        this.#onWrote(e.value);
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
    const target = this.#target;
    if (target === undefined) return;
    if (e.err !== undefined && e.err !== LwipErr.OK) {
      this.#handle?.release();
      this.#setHandle(undefined);
      // A local port in use: Node binds (libuv sets SO_REUSEADDR), then connect fails
      // with EADDRNOTAVAIL when that address and port pair is taken; lwIP refuses at bind.
      const error =
        e.err === LwipErr.USE
          ? systemError('EADDRNOTAVAIL', {
              syscall: 'connect',
              address: target.address,
              port: target.port,
            })
          : fromLwip(e.err, { syscall: 'connect', address: target.address, port: target.port });
      if (target.addresses.length === 0) this.#traffic?.failed(error.code ?? 'UNKNOWN');
      this.emit(
        'connectionAttemptFailed',
        target.address,
        target.port,
        isIP(target.address),
        error,
      );
      if (this.destroyed) return;
      if (target.addresses.length > 0 || target.errors.length > 0) {
        this.#attempt({ ...target, errors: [...target.errors, error] });
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
    this.#applySocketOptions();
    this.emit('connect');
    this.emit('ready');
    if (!this.isPaused()) this.read(0);
  }

  #onWrote(n: number): void {
    this.#inFlight = Math.max(0, this.#inFlight - n);
    this.#releaseWrite();
  }

  /** The held write callback runs once no limit holds its bytes and the engine caught up. */
  #releaseWrite(): void {
    const head = this.#pendingWrite;
    if (head === undefined || this.#heldByLimit > 0 || this.#inFlight > MAX_IN_FLIGHT) return;
    this.#pendingWrite = undefined;
    head.cb();
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

  /**
   * Gives the engine back receive window for what the app took. Small amounts wait until
   * they add up (each report is a trip to the engine thread, and a few KiB of a 2 MiB
   * window hold nobody up); after backpressure everything goes at once.
   */
  #consume(force: boolean): void {
    if (this.#unconsumed === 0 || !this.#handle) return;
    if (!force && this.#unconsumed < CONSUME_BATCH) return;
    this.#handle.consumed(this.#unconsumed);
    this.#unconsumed = 0;
  }

  // --- Duplex ---

  override _read(): void {
    const force = this.#backpressured;
    this.#backpressured = false;
    this.#consume(force);
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
    let total = 0;
    for (const c of chunks) total += c.length;
    this.#idle.touch();
    // A zero-length write has nothing for the engine to report: it is done at once.
    if (total === 0) {
      cb();
      return;
    }
    this.#bytesWritten += total;
    this.#inFlight += total;
    this.#heldByLimit += total;
    // One engine write for corked chunks, as writev is one system call in Node: the engine
    // takes them together, before any answer to the first can arrive. A send limit passes
    // it on in pieces, over time.
    const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
    const send = (piece: Buffer) => {
      this.#heldByLimit -= piece.length;
      this.#handle?.write(piece);
      this.#releaseWrite();
    };
    if (this.#traffic) this.#traffic.write(data, send);
    else send(data);
    // Done, as far as the app is concerned, once the engine holds it, as Node's is once the
    // kernel does; past MAX_IN_FLIGHT unconfirmed bytes the callback waits for the engine.
    if (this.#heldByLimit === 0 && this.#inFlight <= MAX_IN_FLIGHT) process.nextTick(cb);
    else this.#pendingWrite = { cb };
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
    const pending = this.#pendingWrite;
    this.#pendingWrite = undefined;
    pending?.cb(err ?? socketClosed());
    cb(err);
    this.#onDestroy?.();
    // Node emits 'close' once the handle has closed: after 'error', in a later turn.
    if (this.#hadHandle) setImmediate(() => this.emit('close', err !== null && err !== undefined));
    else process.nextTick(() => this.emit('close'));
  }
}

// The Server lives beside the Socket; importers of this module find both here.
export { Server, type ListenOptions, type ServerOptions } from './tcp-server.js';

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
