// A lossy UDP wire for tests and benchmarks on loopback (the kernels here have no netem):
// a relay that forwards datagrams to one target like a NAT (one upstream socket per client
// address, so answers go back to the client that asked) and impairs each direction on its own:
// drop, delay with jitter, duplicate, reorder. It closes itself after `maxRunMs`, so a test
// that forgets it leaves nothing running for long.
import dgram from 'node:dgram';

export interface Impairment {
  /** Probability (0..1) that a datagram is dropped. */
  loss?: number;
  /** Fixed one-way delay, ms. */
  delayMs?: number;
  /** Extra uniform random delay in [0, jitterMs), ms (can itself reorder). */
  jitterMs?: number;
  /** Probability that a datagram is sent twice. */
  duplicate?: number;
  /** Probability that a datagram is held back `reorderMs` longer, so later ones pass it. */
  reorder?: number;
  /** How long a reordered datagram is held back (default 5 ms). */
  reorderMs?: number;
}

export interface DirectionStats {
  received: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  sent: number;
}

export interface UdpRelayOptions {
  /** Where datagrams from clients go (the server side). */
  target: { host: string; port: number };
  /** Port to listen on for clients on 127.0.0.1 (default: a free one). */
  port?: number;
  /** Client -> target. */
  forward?: Impairment;
  /** Target -> client. */
  backward?: Impairment;
  /** Seed of the random choices, for runs that can be repeated. */
  seed?: number;
  /** The relay closes itself after this long (default 10 minutes). */
  maxRunMs?: number;
}

/** A small seeded PRNG (mulberry32): the same seed, the same drops. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const newStats = (): DirectionStats => ({
  received: 0,
  dropped: 0,
  duplicated: 0,
  reordered: 0,
  sent: 0,
});

export class UdpRelay {
  readonly stats = { forward: newStats(), backward: newStats() };
  #front: dgram.Socket;
  #upstream = new Map<string, dgram.Socket>();
  #timers = new Set<NodeJS.Timeout>();
  #closed = false;
  #rand: () => number;
  #stop: NodeJS.Timeout;

  private constructor(
    front: dgram.Socket,
    readonly options: UdpRelayOptions,
  ) {
    this.#front = front;
    this.#rand = random(options.seed ?? 1);
    this.#stop = setTimeout(() => this.close(), options.maxRunMs ?? 600_000);
    this.#stop.unref();
    front.on('message', (msg, from) => this.#fromClient(msg, from));
  }

  static async start(options: UdpRelayOptions): Promise<UdpRelay> {
    const front = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.bind(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    return new UdpRelay(front, options);
  }

  /** The port clients send to (on 127.0.0.1). */
  get port(): number {
    return this.#front.address().port;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#stop);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#front.close();
    for (const s of this.#upstream.values()) s.close();
    this.#upstream.clear();
  }

  #fromClient(msg: Buffer, from: dgram.RemoteInfo): void {
    const key = `${from.address}:${from.port}`;
    let up = this.#upstream.get(key);
    if (up === undefined) {
      // One upstream socket per client, as a NAT does: the target sees each client at its
      // own port of the relay, and what it sends there goes back to that client.
      const socket = dgram.createSocket('udp4');
      socket.on('message', (reply) =>
        this.#impair(this.options.backward, this.stats.backward, () =>
          this.#front.send(reply, from.port, from.address),
        ),
      );
      socket.on('error', () => undefined);
      socket.bind(0, '127.0.0.1');
      this.#upstream.set(key, socket);
      up = socket;
    }
    const upstream = up;
    const { host, port } = this.options.target;
    this.#impair(this.options.forward, this.stats.forward, () => upstream.send(msg, port, host));
  }

  #impair(how: Impairment | undefined, stats: DirectionStats, send: () => void): void {
    if (this.#closed) return;
    stats.received++;
    const r = this.#rand;
    if (how?.loss && r() < how.loss) {
      stats.dropped++;
      return;
    }
    const copies = how?.duplicate && r() < how.duplicate ? 2 : 1;
    if (copies === 2) stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      let delay = (how?.delayMs ?? 0) + (how?.jitterMs ? r() * how.jitterMs : 0);
      if (how?.reorder && r() < how.reorder) {
        stats.reordered++;
        delay += how.reorderMs ?? 5;
      }
      const out = () => {
        if (this.#closed) return;
        stats.sent++;
        try {
          send();
        } catch {
          // a socket closed under us: the datagram is lost, as on a real wire
        }
      };
      if (delay <= 0) {
        out();
        continue;
      }
      const t = setTimeout(() => {
        this.#timers.delete(t);
        out();
      }, delay);
      this.#timers.add(t);
    }
  }
}
