/**
 * Rate limits and metrics for the node's sockets. Limits are token buckets, one per
 * direction per socket and one per direction for the whole node; bytes wait in order
 * until every bucket they cross allows them, so a limit is honoured by backpressure
 * (a TCP window that stays closed, a write callback that comes later, a datagram sent
 * later), never by dropping. Limits can change at any time; waiting bytes see the change.
 */
import { invalidArgType, invalidArgValue } from '../validate.js';

/** Bytes a second; undefined leaves a limit as it is, null or Infinity removes it. */
export interface RateLimits {
  send?: number | null;
  receive?: number | null;
}

export interface TrafficMetrics {
  bytesIn: number;
  bytesOut: number;
  /** Bytes a second over the last second. */
  rateIn: number;
  rateOut: number;
  limits: { send: number; receive: number };
}

export interface NodeTrafficMetrics extends TrafficMetrics {
  /** Sockets open now, TCP (connections) and UDP. */
  sockets: { tcp: number; udp: number };
  connections: {
    /** Outgoing connections that connected. */
    opened: number;
    /** Incoming connections accepted by listeners. */
    accepted: number;
    /** Outgoing connections that failed, by error code (ECONNREFUSED, ETIMEDOUT, ...). */
    failed: Record<string, number>;
  };
}

const now = (): number => performance.now();

/** A token bucket in debt form: bytes pass while it is not in debt, then wait it off. */
class TokenBucket {
  #rate = Infinity;
  #tokens = 0;
  #last = now();

  get rate(): number {
    return this.#rate;
  }

  set rate(bytesPerSecond: number) {
    this.#refill();
    this.#rate = bytesPerSecond;
    this.#tokens = Math.min(this.#tokens, this.#burst());
  }

  /** Milliseconds until bytes may pass (0: now). */
  wait(): number {
    if (this.#rate === Infinity) return 0;
    this.#refill();
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#rate) * 1000);
  }

  take(n: number): void {
    if (this.#rate !== Infinity) this.#tokens -= n;
  }

  // A burst of a twentieth of a second: smooth enough, and big chunks still pass whole.
  #burst(): number {
    return this.#rate === Infinity ? 0 : this.#rate / 20;
  }

  #refill(): void {
    const t = now();
    if (this.#rate !== Infinity) {
      this.#tokens = Math.min(this.#burst(), this.#tokens + ((t - this.#last) / 1000) * this.#rate);
    }
    this.#last = t;
  }
}

/** Bytes a second over a sliding second, in tenths. */
class RateMeter {
  readonly #slots = new Array<number>(10).fill(0);
  #slot = Math.floor(now() / 100);

  add(n: number): void {
    this.#advance();
    this.#slots[this.#slot % 10] = (this.#slots[this.#slot % 10] ?? 0) + n;
  }

  get rate(): number {
    this.#advance();
    return this.#slots.reduce((a, b) => a + b, 0);
  }

  #advance(): void {
    const current = Math.floor(now() / 100);
    for (let s = Math.max(this.#slot + 1, current - 9); s <= current; s++) this.#slots[s % 10] = 0;
    this.#slot = current;
  }
}

/** One direction of one socket: its bytes in order, through its bucket and the node's. */
class Lane {
  readonly bucket = new TokenBucket();
  readonly meter = new RateMeter();
  bytes = 0;
  readonly #queue: Array<{ n: number; go: () => void }> = [];
  /** Bytes of the calls waiting. */
  waitingBytes = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly shared: Lane | undefined,
    readonly onPass?: (n: number) => void,
  ) {}

  get waiting(): number {
    return this.#queue.length;
  }

  pass(n: number, go: () => void): void {
    if (this.#queue.length === 0 && this.#wait() === 0) {
      this.#take(n);
      go();
      return;
    }
    this.#queue.push({ n, go });
    this.waitingBytes += n;
    this.pump();
  }

  /** Lets through what may pass now and sleeps until the rest may. */
  pump(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (let head = this.#queue[0]; head !== undefined; head = this.#queue[0]) {
      const wait = this.#wait();
      if (wait > 0) {
        this.#timer = setTimeout(() => this.pump(), wait);
        return;
      }
      this.#queue.shift();
      this.waitingBytes -= head.n;
      this.#take(head.n);
      head.go();
    }
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
    this.waitingBytes = 0;
  }

  record(n: number): void {
    this.bytes += n;
    this.meter.add(n);
  }

  #wait(): number {
    return Math.max(this.bucket.wait(), this.shared?.bucket.wait() ?? 0);
  }

  #take(n: number): void {
    this.bucket.take(n);
    this.shared?.bucket.take(n);
    this.record(n);
    this.shared?.record(n);
  }
}

function readLimit(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === Infinity) return Infinity;
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!(value > 0))
    throw invalidArgValue(name, value, 'must be a positive number of bytes a second');
  return value;
}

function applyLimits(limits: RateLimits, send: Lane, receive: Lane): void {
  if (limits === null || typeof limits !== 'object') {
    throw invalidArgType('limits', 'of type object', limits);
  }
  const s = readLimit(limits.send, 'limits.send');
  const r = readLimit(limits.receive, 'limits.receive');
  if (s !== undefined) send.bucket.rate = s;
  if (r !== undefined) receive.bucket.rate = r;
}

/** A socket's limits and counts. */
export class SocketTraffic {
  readonly #send: Lane;
  readonly #receive: Lane;
  #closed = false;

  /** @internal */
  constructor(
    readonly node: NodeTraffic,
    readonly kind: 'tcp' | 'udp',
    sendShared: Lane,
    receiveShared: Lane,
  ) {
    this.#send = new Lane(sendShared);
    this.#receive = new Lane(receiveShared);
  }

  /** Runs `go` once `n` outgoing bytes are within the limits (at once when they are). */
  outbound(n: number, go: () => void): void {
    if (!this.#closed) this.#send.pass(n, go);
  }

  /**
   * Hands `chunk` to `send` within the send limits: whole when there are none, else in
   * pieces small enough that the rate stays smooth.
   */
  write(chunk: Buffer, send: (piece: Buffer) => void): void {
    const rate = Math.min(this.#send.bucket.rate, this.#send.shared?.bucket.rate ?? Infinity);
    const piece = rate === Infinity ? chunk.length : Math.max(1024, Math.floor(rate / 50));
    for (let at = 0; at < chunk.length; at += piece) {
      const part = chunk.subarray(at, Math.min(at + piece, chunk.length));
      this.outbound(part.length, () => send(part));
    }
  }

  /** Runs `go` once `n` incoming bytes are within the limits; order is kept. */
  inbound(n: number, go: () => void): void {
    if (!this.#closed) this.#receive.pass(n, go);
  }

  /** Calls waiting (in both directions). */
  get waiting(): number {
    return this.#send.waiting + this.#receive.waiting;
  }

  /** Incoming bytes held back by a receive limit. */
  get inboundWaitingBytes(): number {
    return this.#receive.waitingBytes;
  }

  setLimits(limits: RateLimits): void {
    applyLimits(limits, this.#send, this.#receive);
    this.pump();
  }

  /** @internal: re-reads the limits for waiting bytes. */
  pump(): void {
    this.#send.pump();
    this.#receive.pump();
  }

  metrics(): TrafficMetrics {
    return {
      bytesIn: this.#receive.bytes,
      bytesOut: this.#send.bytes,
      rateIn: this.#receive.meter.rate,
      rateOut: this.#send.meter.rate,
      limits: { send: this.#send.bucket.rate, receive: this.#receive.bucket.rate },
    };
  }

  /** An outgoing connection connected. */
  connected(): void {
    this.node.count('opened');
  }
  /** An incoming connection was accepted. */
  accepted(): void {
    this.node.count('accepted');
  }
  /** An outgoing connection failed with `code`. */
  failed(code: string): void {
    this.node.countFailure(code);
  }

  /** Drops what waits (the socket is gone) and stops counting it as open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#send.clear();
    this.#receive.clear();
    this.node.forget(this);
  }
}

/** The node's limits and counts, over all its sockets. */
export class NodeTraffic {
  readonly #send = new Lane(undefined);
  readonly #receive = new Lane(undefined);
  readonly #sockets = new Set<SocketTraffic>();
  readonly #connections = { opened: 0, accepted: 0, failed: {} as Record<string, number> };

  socket(kind: 'tcp' | 'udp'): SocketTraffic {
    const s = new SocketTraffic(this, kind, this.#send, this.#receive);
    this.#sockets.add(s);
    return s;
  }

  setLimits(limits: RateLimits): void {
    applyLimits(limits, this.#send, this.#receive);
    for (const s of this.#sockets) s.pump();
  }

  metrics(): NodeTrafficMetrics {
    const sockets = { tcp: 0, udp: 0 };
    for (const s of this.#sockets) sockets[s.kind]++;
    return {
      bytesIn: this.#receive.bytes,
      bytesOut: this.#send.bytes,
      rateIn: this.#receive.meter.rate,
      rateOut: this.#send.meter.rate,
      limits: { send: this.#send.bucket.rate, receive: this.#receive.bucket.rate },
      sockets,
      connections: {
        opened: this.#connections.opened,
        accepted: this.#connections.accepted,
        failed: { ...this.#connections.failed },
      },
    };
  }

  /** @internal */
  count(what: 'opened' | 'accepted'): void {
    this.#connections[what]++;
  }
  /** @internal */
  countFailure(code: string): void {
    this.#connections.failed[code] = (this.#connections.failed[code] ?? 0) + 1;
  }
  /** @internal */
  forget(s: SocketTraffic): void {
    this.#sockets.delete(s);
  }
}
