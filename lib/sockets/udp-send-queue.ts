/**
 * A UDP socket's sends on their way to the stack: the steps waiting, in order, for the
 * bind or connect to finish, and the datagrams (and their bytes) not yet handed over,
 * which node:dgram reports as getSendQueueCount and getSendQueueSize.
 */
export class SendQueue {
  #waiting: Array<() => void> = [];
  /** Bytes between send() and the stack: waiting for a bind, a lookup or the rate limit. */
  bytes = 0;
  count = 0;

  /** A datagram of `size` bytes was sent. */
  add(size: number): void {
    this.bytes += size;
    this.count++;
  }

  /** A datagram of `size` bytes went to the stack, or failed. */
  remove(size: number): void {
    this.bytes -= size;
    this.count--;
  }

  /** A step that waits for the socket to be ready, after those before it. */
  wait(step: () => void): void {
    this.#waiting.push(step);
  }

  /** Runs the waiting steps, in order, while the socket stays `ready`. */
  flush(ready: () => boolean): void {
    while (ready()) {
      const next = this.#waiting.shift();
      if (next === undefined) return;
      next();
    }
  }

  /** The socket closed: nothing waits any more. */
  clear(): void {
    this.#waiting = [];
    this.bytes = 0;
    this.count = 0;
  }
}
