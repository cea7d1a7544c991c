/**
 * A TCP socket's options that the engine applies to a connection: noDelay (Nagle off),
 * keep-alive probes and the dead-peer timeout. They are kept from the constructor,
 * connect() and the setters, since a socket may set them before it has a connection, and
 * given to the connection once it is open.
 */
import { checkDeadPeerTimeout, keepAliveTimes } from './liveness.js';
import type { SocketConnectOptions, SocketOptions } from './net-args.js';
import type { TcpHandle } from './tcp-handle.js';

export class TcpOptions {
  #noDelay: boolean;
  #keepAlive: boolean;
  #keepAliveDelayMs: number;
  /** undefined: the node's default. */
  #deadPeerTimeoutMs: number | undefined;

  /** The constructor's options (the Socket checked keepAliveInitialDelay's type). */
  constructor(options: SocketOptions) {
    this.#noDelay = Boolean(options.noDelay);
    this.#keepAlive = Boolean(options.keepAlive);
    this.#keepAliveDelayMs = Math.max(0, options.keepAliveInitialDelay ?? 0);
    if (options.deadPeerTimeout !== undefined) {
      this.#deadPeerTimeoutMs = checkDeadPeerTimeout(
        options.deadPeerTimeout,
        'options.deadPeerTimeout',
      );
    }
  }

  /** connect()'s options, which override the constructor's (deadPeerTimeout checked). */
  update(options: SocketConnectOptions): void {
    if (options.deadPeerTimeout !== undefined) this.#deadPeerTimeoutMs = options.deadPeerTimeout;
    if (options.noDelay !== undefined) this.#noDelay = Boolean(options.noDelay);
    if (options.keepAlive !== undefined) this.#keepAlive = Boolean(options.keepAlive);
    if (options.keepAliveInitialDelay !== undefined) {
      this.#keepAliveDelayMs = Math.max(0, options.keepAliveInitialDelay);
    }
  }

  /** Gives the options to a connection that just opened (connected or accepted). */
  applyTo(handle: TcpHandle | undefined): void {
    if (this.#noDelay) handle?.noDelay(true);
    if (this.#keepAlive) handle?.keepAlive(keepAliveTimes(this.#keepAliveDelayMs));
    if (this.#deadPeerTimeoutMs !== undefined) handle?.deadPeerTimeout(this.#deadPeerTimeoutMs);
  }

  /** `handle`: the open connection, if any (the setters' changes go to it at once). */
  setNoDelay(on: boolean, handle: TcpHandle | undefined): void {
    if (on === this.#noDelay) return;
    this.#noDelay = on;
    handle?.noDelay(on);
  }

  setKeepAlive(enable: boolean, initialDelayMs: number, handle: TcpHandle | undefined): void {
    this.#keepAlive = enable;
    this.#keepAliveDelayMs = Math.max(0, Math.trunc(initialDelayMs));
    handle?.keepAlive(this.#keepAlive ? keepAliveTimes(this.#keepAliveDelayMs) : undefined);
  }

  setDeadPeerTimeout(ms: number, handle: TcpHandle | undefined): void {
    this.#deadPeerTimeoutMs = checkDeadPeerTimeout(ms, 'ms');
    handle?.deadPeerTimeout(ms);
  }
}
