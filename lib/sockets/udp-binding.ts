/**
 * A UDP socket's binding in the stack: unbound, binding (its address looked up, then the
 * engine asked) or bound to the local address the engine reported; the engine's id for
 * the socket, and the address a failed bind reports.
 */
import { fromLwip, LwipErr } from '../errors.js';
import type { NativeEndpoint, NativeSocketEvent } from '../native.js';
import type { SocketChannel, SocketOwner } from './channel.js';
import { optionError } from './dgram-args.js';
import type { UdpFamily } from './udp-family.js';
import { inNodeOrder } from './udp-options.js';

const enum Bind {
  Unbound,
  Binding,
  Bound,
}

export class UdpBinding {
  #state = Bind.Unbound;
  /** The engine's id for the socket (0: none yet). */
  id = 0;
  #local: NativeEndpoint | undefined;
  /** What bind() asked for, for its error. */
  #target: { address: string; port: number } | undefined;
  /** A connect waiting for the bind. */
  #connectStep: (() => void) | undefined;

  constructor(
    readonly channel: SocketChannel,
    readonly family: UdpFamily,
  ) {}

  get unbound(): boolean {
    return this.#state === Bind.Unbound;
  }
  get bound(): boolean {
    return this.#state === Bind.Bound;
  }

  /** bind() was called: binding until the engine answers. */
  begin(): void {
    this.#state = Bind.Binding;
  }

  /** The bind failed: unbound again (a later bind may succeed). */
  failed(): void {
    this.#state = Bind.Unbound;
  }

  /** Asks the engine to bind `ip` ('' for any) and `port`, its events going to `owner`. */
  open(owner: SocketOwner, ip: string, port: number): void {
    this.id = this.channel.allocate(owner);
    this.#target = { address: ip !== '' ? ip : this.family.any, port };
    this.channel.native.udpBind(this.id, this.family.bindAddress(ip), port);
  }

  /**
   * The engine's answer ('bound'): bound, or the bind's error (the id let go, and a
   * waiting connect dropped).
   */
  answered(e: NativeSocketEvent): Error | undefined {
    if (e.err !== undefined && e.err !== LwipErr.OK) {
      this.channel.release(this.id);
      this.id = 0;
      this.#connectStep = undefined;
      return fromLwip(e.err, { syscall: 'bind', ...this.#target });
    }
    this.#local = this.family.bound(e.local);
    this.#state = Bind.Bound;
    return undefined;
  }

  /** Runs connect's next step once bound (at once if bound). */
  afterBind(step: () => void): void {
    if (this.#state === Bind.Bound) step();
    else this.#connectStep = step;
  }

  /** Bound: a connect waiting for the bind goes on. */
  connectWaiting(): void {
    const step = this.#connectStep;
    this.#connectStep = undefined;
    step?.();
  }

  /** address(): the local address, in Node's key order (EBADF until bound). */
  address(): NativeEndpoint {
    if (this.#state !== Bind.Bound || this.#local === undefined)
      throw optionError('getsockname', 'EBADF');
    return inNodeOrder(this.#local);
  }

  /** The socket closed: the engine lets its socket go (unless the node, and it, is gone). */
  close(nodeGone: boolean): void {
    if (this.id !== 0 && !nodeGone) {
      this.channel.native.socketControl(this.id, 'close');
      this.channel.release(this.id);
    }
  }
}
