/**
 * A TCP server over ZeroTier, shaped like node:net's Server: Node's listen forms and
 * options, 'connection' with our Socket, maxConnections (extra connections dropped with
 * 'drop'), and close() that stops accepting at once and emits 'close' after the last
 * connection has gone.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';

import { fromLwip, LwipErr } from '../errors.js';
import type { NativeEndpoint, NativeSocketEvent } from '../native.js';
import type { ZeroTierNode } from '../node.js';
import { invalidArgType, invalidArgValue } from '../validate.js';
import type { SocketChannel, SocketOwner } from './channel.js';
import { isPipeName, normalizeArgs, validatePort } from './net-args.js';
import { notFound, notSupported, serverAlreadyListen, serverNotRunning } from './net-errors.js';
import { channelOf } from './running.js';
import { Socket } from './tcp.js';

export interface ServerOptions {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  highWaterMark?: number;
  /** Ours: the node whose networks the server listens on (default: the running one). */
  node?: ZeroTierNode;
}

export interface ListenOptions {
  port?: number | string | null;
  host?: string;
  backlog?: number;
  path?: string;
  signal?: AbortSignal;
  exclusive?: boolean;
  ipv6Only?: boolean;
}

export class Server extends EventEmitter implements SocketOwner {
  readonly #node: ZeroTierNode | undefined;
  /** The engine's listener while there is one. */
  #listener: { channel: SocketChannel; id: number } | undefined;
  #local: NativeEndpoint | undefined;
  /** listen() was called and close() was not: Node's `_handle`. */
  #open = false;
  #refed = true;
  #listening = false;
  #connections = 0;
  readonly #sockets = new Set<Socket>();
  readonly allowHalfOpen: boolean;
  readonly pauseOnConnect: boolean;
  readonly noDelay: boolean;
  readonly keepAlive: boolean;
  /** In seconds, as node:net keeps it. */
  readonly keepAliveInitialDelay: number;
  readonly highWaterMark: number | undefined;
  /** Connections beyond this many are dropped as they arrive ('drop'); unset: no limit. */
  maxConnections: number | undefined;

  constructor(
    options?: ServerOptions | ((socket: Socket) => void) | null,
    connectionListener?: (socket: Socket) => void,
  ) {
    super();
    let opts: ServerOptions = {};
    if (typeof options === 'function') {
      this.on('connection', options);
    } else if (options === null || options === undefined || typeof options === 'object') {
      opts = { ...options };
      if (typeof connectionListener === 'function') this.on('connection', connectionListener);
    } else {
      throw invalidArgType('options', 'of type object', options);
    }
    if (
      opts.keepAliveInitialDelay !== undefined &&
      typeof opts.keepAliveInitialDelay !== 'number'
    ) {
      throw invalidArgType(
        'options.keepAliveInitialDelay',
        'of type number',
        opts.keepAliveInitialDelay,
      );
    }
    this.#node = opts.node;
    this.allowHalfOpen = Boolean(opts.allowHalfOpen);
    this.pauseOnConnect = Boolean(opts.pauseOnConnect);
    this.noDelay = Boolean(opts.noDelay);
    this.keepAlive = Boolean(opts.keepAlive);
    this.keepAliveInitialDelay = Math.trunc(Math.max(0, opts.keepAliveInitialDelay ?? 0) / 1000);
    this.highWaterMark = opts.highWaterMark;
  }

  get listening(): boolean {
    return this.#listening;
  }

  address(): NativeEndpoint | null {
    return this.#listening && this.#local ? { ...this.#local } : null;
  }

  listen(...args: unknown[]): this {
    const [normalized, cb] = normalizeArgs(args);
    if (this.#open) throw serverAlreadyListen();
    const options = normalized as ListenOptions;
    if (
      args.length === 0 ||
      typeof args[0] === 'function' ||
      (options.port === undefined && 'port' in options) ||
      options.port === null
    ) {
      options.port = 0;
    }
    if (options.port === undefined) {
      if (options.path !== undefined && isPipeName(options.path)) {
        throw notSupported('IPC (listening on a path)');
      }
      if (!('port' in options) && !('path' in options)) {
        throw invalidArgValue('options', options, 'must have the property "port" or "path"');
      }
      throw invalidArgValue('options', options, 'is invalid');
    }
    const port = validatePort(options.port, 'options.port');
    if (cb !== null) this.once('listening', cb);
    const channel = channelOf(this.#node);
    this.#open = true;
    if (options.signal !== undefined) this.#watchSignal(options.signal);
    const host = options.host ?? '';
    if (host !== '' && isIP(host) === 0) {
      // No resolver for names on a network here: Node would have failed its lookup too.
      process.nextTick(() => {
        this.#open = false;
        this.emit('error', notFound(host));
      });
      return this;
    }
    const id = channel.allocate(this);
    this.#listener = { channel, id };
    if (this.#refed) channel.hold(this, true);
    channel.native.tcpListen(id, host === '0.0.0.0' || host === '::' ? '' : host, port);
    return this;
  }

  #watchSignal(signal: AbortSignal): void {
    if (signal.aborted) {
      process.nextTick(() => this.close());
      return;
    }
    const onAbort = () => this.close();
    signal.addEventListener('abort', onAbort, { once: true });
    this.once('close', () => signal.removeEventListener('abort', onAbort));
  }

  /** @internal */
  onSocketEvent(e: NativeSocketEvent): void {
    if (e.kind === 'listening') {
      if (!this.#open) return;
      if (e.err !== undefined && e.err !== LwipErr.OK) {
        this.#open = false;
        this.#listener?.channel.release(this.#listener.id);
        this.#listener?.channel.hold(this, false);
        this.#listener = undefined;
        this.emit('error', fromLwip(e.err, { syscall: 'listen', port: e.local?.port }));
        return;
      }
      this.#local = e.local;
      this.#listening = true;
      this.emit('listening');
    } else if (e.kind === 'accept' && e.accepted !== undefined && this.#listener) {
      this.#accept(this.#listener.channel, e.accepted, e.local, e.remote);
    } else if (e.kind === 'close') {
      this.#listening = false;
    }
  }

  #accept(
    channel: SocketChannel,
    id: number,
    local?: NativeEndpoint,
    remote?: NativeEndpoint,
  ): void {
    if (this.maxConnections !== undefined && this.#connections >= this.maxConnections) {
      channel.native.socketControl(id, 'close');
      this.emit('drop', {
        localAddress: local?.address,
        localPort: local?.port,
        localFamily: local?.family,
        remoteAddress: remote?.address,
        remotePort: remote?.port,
        remoteFamily: remote?.family,
      });
      return;
    }
    let counted = true;
    const socket = Socket.fromAccepted(
      {
        channel,
        id,
        local,
        remote,
        pauseOnCreate: this.pauseOnConnect,
        onDestroy: () => {
          if (!counted) return;
          counted = false;
          this.#connections--;
          this.#sockets.delete(socket);
          this.#emitCloseIfDrained();
        },
      },
      {
        allowHalfOpen: this.allowHalfOpen,
        highWaterMark: this.highWaterMark,
        noDelay: this.noDelay,
        keepAlive: this.keepAlive,
        keepAliveInitialDelay: this.keepAliveInitialDelay * 1000,
      },
    );
    this.#connections++;
    this.#sockets.add(socket);
    socket.server = this;
    channel.traffic.count('accepted');
    this.emit('connection', socket);
  }

  getConnections(cb: (err: Error | null, count: number) => void): this {
    const count = this.#connections;
    process.nextTick(cb, null, count);
    return this;
  }

  /** Stops accepting now; 'close' (and cb) once every connection has closed. */
  close(cb?: (err?: Error) => void): this {
    if (typeof cb === 'function') {
      if (!this.#open) this.once('close', () => cb(serverNotRunning()));
      else this.once('close', () => cb());
    }
    if (this.#open) {
      this.#open = false;
      this.#listening = false;
      const listener = this.#listener;
      this.#listener = undefined;
      if (listener) {
        listener.channel.native.socketControl(listener.id, 'close');
        listener.channel.release(listener.id);
        listener.channel.hold(this, false);
      }
    }
    this.#emitCloseIfDrained();
    return this;
  }

  #emitCloseIfDrained(): void {
    if (this.#open || this.#connections > 0) return;
    process.nextTick(() => this.emit('close'));
  }

  /** While listening, a ref'd server keeps the process alive (see ZeroTierNode#unref). */
  ref(): this {
    this.#refed = true;
    this.#listener?.channel.hold(this, true);
    return this;
  }
  unref(): this {
    this.#refed = false;
    this.#listener?.channel.hold(this, false);
    return this;
  }

  /** With captureRejections, a 'connection' handler that rejects destroys its socket. */
  override [EventEmitter.captureRejectionSymbol](err: Error, event: string, socket?: Socket): void {
    if (event === 'connection' && socket) socket.destroy(err);
    else this.emit('error', err);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#open) return;
    await new Promise<void>((resolve) => this.close(() => resolve()));
  }
}
