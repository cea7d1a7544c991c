/**
 * The link between socket objects and the node's engine: ids, the native calls, and the
 * routing of 'socket' events to the object that owns the id.
 */
import type { NativeNode, NativeSocketEvent } from '../native.js';
import { NodeTraffic } from './traffic.js';

export interface SocketOwner {
  onSocketEvent(e: NativeSocketEvent): void;
}

/** Turns a host name into an address on the network (set by the node: its DNS). */
export type ResolveHost = (
  host: string,
  family: 0 | 4 | 6,
) => Promise<{ address: string; family: 4 | 6 }>;

export class SocketChannel {
  readonly #owners = new Map<number, SocketOwner>();
  #nextId = 1;
  /** How sockets on this channel resolve host names; unset: only IP literals. */
  resolveHost: ResolveHost | undefined;
  /** Whether the node itself keeps the process alive (ZeroTierNode#ref/unref). */
  #nodeHeld = true;
  /** Open sockets and servers that are ref'd: each keeps the process alive, as in Node. */
  readonly #held = new Set<object>();
  #alive = true;
  /** The node's rate limits and metrics, which every socket reports to. */
  readonly traffic = new NodeTraffic();
  /** The node's subnets ("ip/bits") as last configured, for broadcast checks. */
  subnets: () => readonly string[] = () => [];

  constructor(readonly native: NativeNode) {
    process.on('exit', this.#stopAtExit);
  }

  /**
   * A process that ends with the node still running (unref'd, or process.exit()) stops
   * the engine first: once Node tears the environment down, the engine's events could
   * no longer reach JS.
   */
  readonly #stopAtExit = (): void => this.native.close();

  /** The node's own ref/unref. */
  holdNode(on: boolean): void {
    this.#nodeHeld = on;
    this.#updateAlive();
  }

  /** A socket or server that is open and ref'd keeps the process alive (on = true). */
  hold(owner: object, on: boolean): void {
    if (on) this.#held.add(owner);
    else this.#held.delete(owner);
    this.#updateAlive();
  }

  #updateAlive(): void {
    const alive = this.#nodeHeld || this.#held.size > 0;
    if (alive === this.#alive) return;
    this.#alive = alive;
    this.native.keepAlive(alive);
  }

  /** A fresh id for a socket JS opens (the engine numbers accepted ones from 2^31). */
  allocate(owner: SocketOwner): number {
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0x7fffffff ? 1 : this.#nextId + 1;
    this.#owners.set(id, owner);
    return id;
  }

  adopt(id: number, owner: SocketOwner): void {
    this.#owners.set(id, owner);
  }

  release(id: number): void {
    this.#owners.delete(id);
  }

  dispatch(e: NativeSocketEvent): void {
    this.#owners.get(e.id)?.onSocketEvent(e);
  }

  /** The node closed: every socket hears a reset. */
  closeAll(): void {
    process.off('exit', this.#stopAtExit);
    for (const [id, owner] of [...this.#owners]) {
      owner.onSocketEvent({ type: 'socket', kind: 'close', id, err: -14, value: 0 });
    }
    this.#owners.clear();
  }
}
