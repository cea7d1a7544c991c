/**
 * The link between socket objects and the node's engine: ids, the native calls, and the
 * routing of 'socket' events to the object that owns the id.
 */
import type { NativeNode, NativeSocketEvent } from '../native.js';
import { NodeTraffic } from './traffic.js';

export interface SocketOwner {
  onSocketEvent(e: NativeSocketEvent): void;
}

export class SocketChannel {
  readonly #owners = new Map<number, SocketOwner>();
  #nextId = 1;
  /** The node's rate limits and metrics, which every socket reports to. */
  readonly traffic = new NodeTraffic();
  /** The node's subnets ("ip/bits") as last configured, for broadcast checks. */
  subnets: () => readonly string[] = () => [];
  /**
   * A socket that should keep the process alive (+1) or no longer (-1): a bound, ref'd
   * socket does, as in Node. The node keeps the process alive while it or any holds it.
   */
  keepAlive: (delta: 1 | -1) => void = () => undefined;

  constructor(readonly native: NativeNode) {}

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
    for (const [id, owner] of [...this.#owners]) {
      owner.onSocketEvent({ type: 'socket', kind: 'close', id, err: -14, value: 0 });
    }
    this.#owners.clear();
  }
}
