// A full-cone NAT for one inside host, with an impaired wire (drop, delay, jitter, duplicate,
// reorder; each direction on its own), for measuring a node that sits behind it. The inside
// host (in a network namespace) reaches the outside only through this NAT: every outside
// endpoint E it talks to appears to it as a socket M(E) on `insideHost`, and the outside sees
// it at one socket on `outsideHost`. So the node's peers on the outside, which learn its
// address from the root, reach it through the NAT, and it answers them through the NAT too.
// test/helpers/udp-relay.ts is the simpler relay for tests (the same impairments, no NAT).
import dgram from 'node:dgram';

function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Buffers as large as the kernel allows (rmem_max): a burst of a whole congestion window
// must meet the configured loss, not this relay's socket buffer.
const udpSocket = () =>
  dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });

const bind = (socket, host) =>
  new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve(socket.address().port));
  });

export class UdpNat {
  /**
   * @param {{ insideHost: string, outsideHost: string, inbound?: object, outbound?: object,
   *   seed?: number, maxRunMs?: number }} options  inbound: outside -> inside;
   *   outbound: inside -> outside; each { loss, delayMs, jitterMs, duplicate, reorder, reorderMs }.
   */
  constructor(options) {
    this.options = options;
    this.rand = random(options.seed ?? 1);
    this.mirrors = new Map(); // "host:port" of an outside endpoint -> inside socket
    this.inside = undefined; // the inside host's address, learned from its first datagram
    this.timers = new Set();
    this.closed = false;
    this.stats = { inbound: { sent: 0, dropped: 0 }, outbound: { sent: 0, dropped: 0 } };
  }

  async start() {
    await this.rebind();
    this.stop = setTimeout(() => this.close(), this.options.maxRunMs ?? 30 * 60_000);
    this.stop.unref();
    return this;
  }

  /**
   * A new outside socket (a new port), as a NAT that forgets its mapping: from now on the
   * outside sees the inside host at another address, and what is sent to the old one is lost.
   */
  async rebind() {
    const old = this.outside;
    this.outside = udpSocket();
    await bind(this.outside, this.options.outsideHost);
    this.outside.on('message', (msg, from) => this.#fromOutside(msg, from));
    old?.close();
    return this.outside.address().port;
  }

  /** The inside port standing for outside endpoint host:port (made on first use). */
  async mirror(host, port) {
    const key = `${host}:${port}`;
    let m = this.mirrors.get(key);
    if (m === undefined) {
      m = udpSocket();
      this.mirrors.set(key, m);
      await bind(m, this.options.insideHost);
      m.on('message', (msg, from) => {
        this.inside = { host: from.address, port: from.port };
        this.#impair(this.options.outbound, this.stats.outbound, () =>
          this.outside.send(msg, port, host),
        );
      });
    }
    return m.address().port;
  }

  #fromOutside(msg, from) {
    if (this.inside === undefined) return; // nobody inside has spoken yet
    void this.mirror(from.address, from.port).then(() => {
      const m = this.mirrors.get(`${from.address}:${from.port}`);
      const { host, port } = this.inside;
      this.#impair(this.options.inbound, this.stats.inbound, () => m.send(msg, port, host));
    });
  }

  #impair(how = {}, stats, send) {
    if (this.closed) return;
    const r = this.rand;
    if (how.loss && r() < how.loss) {
      stats.dropped++;
      return;
    }
    const copies = how.duplicate && r() < how.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      let delay = (how.delayMs ?? 0) + (how.jitterMs ? r() * how.jitterMs : 0);
      if (how.reorder && r() < how.reorder) delay += how.reorderMs ?? 5;
      const out = () => {
        if (this.closed) return;
        stats.sent++;
        try {
          send();
        } catch {
          // closed under us: lost, as on a wire
        }
      };
      if (delay <= 0) {
        out();
        continue;
      }
      const t = setTimeout(() => {
        this.timers.delete(t);
        out();
      }, delay);
      this.timers.add(t);
    }
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.stop);
    for (const t of this.timers) clearTimeout(t);
    this.outside.close();
    for (const m of this.mirrors.values()) m.close();
  }
}
