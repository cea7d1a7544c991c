/**
 * The measurements themselves, written once over a Transport: the client side of each
 * figure, and the server side (echo, hashing sink, UDP echo). Every one is bounded by a
 * deadline: past it the sockets are destroyed and the figure fails with ETIMEDOUT.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import type {
  ConnectionsResult,
  RoundTripResult,
  ServerTarget,
  TransferResult,
} from './protocol.js';
import { median, quantile } from './stats.js';
import type { DatagramSocket, StreamSocket, Transport } from './transport.js';

/** Bytes handed to write() at a time, waiting for 'drain' as a streaming app would. */
const WRITE_CHUNK = 256 * 1024;
/** Bytes in a round-trip message (TCP and UDP). */
const SMALL = 64;
/** Round trips made before the measured ones (paths, caches, JIT). */
const WARMUP_ROUNDS = 20;
/** The sink's request header: 8-byte length, then the sender's SHA-256. */
const SINK_HEADER = 8 + 32;
/**
 * The sink's answer: RECEIVED_MARK as soon as the last byte is in (the clock stops there:
 * the figure is the stack's, not SHA-256's, which runs at about the speed of loopback
 * here), then 1 if the hashes matched (else 0), then the receiver's SHA-256.
 */
const SINK_REPLY = 1 + 1 + 32;
const RECEIVED_MARK = 0x52;

export function benchTimeout(what: string, ms: number): Error {
  return Object.assign(new Error(`${what}: no result in ${ms} ms`), { code: 'ETIMEDOUT' });
}

/**
 * What a measurement holds (sockets), released once: when it ends, or at its deadline.
 * Past the deadline, a socket that opens late is closed at once and loops stop, so that
 * a late measurement never runs on beside the next one.
 */
export class Held {
  #expired: Error | undefined;
  readonly #releases: Array<() => void> = [];

  /** Registers `thing` for release; throws (releasing it) if the deadline has passed. */
  hold<T>(thing: T, release: (thing: T) => void): T {
    if (this.#expired !== undefined) {
      release(thing);
      throw this.#expired;
    }
    this.#releases.push(() => release(thing));
    return thing;
  }

  /** Throws once the deadline has passed (checked by loops between rounds). */
  check(): void {
    if (this.#expired !== undefined) throw this.#expired;
  }

  /** @internal */
  expire(error: Error): void {
    this.#expired = error;
    this.releaseAll();
  }

  /** @internal */
  releaseAll(): void {
    for (const release of this.#releases.splice(0)) {
      try {
        release();
      } catch {
        // Already closed: nothing left to release.
      }
    }
  }
}

/** Runs `work`, failing with ETIMEDOUT after `ms`; what it held is released either way. */
export async function withDeadline<T>(
  what: string,
  ms: number,
  work: (held: Held) => Promise<T>,
): Promise<T> {
  const held = new Held();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = benchTimeout(what, ms);
      held.expire(e);
      reject(e);
    }, ms);
  });
  try {
    return await Promise.race([work(held), expired]);
  } finally {
    clearTimeout(timer);
    held.releaseAll();
  }
}

const destroy = (s: StreamSocket) => s.destroy();
const close = (s: DatagramSocket) => s.close();

/** Writes `data` in chunks, each after the previous one was taken (backpressure). */
async function writeAll(socket: StreamSocket, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; at += WRITE_CHUNK) {
    if (socket.destroyed) throw new Error('socket closed while writing');
    if (!socket.write(data.subarray(at, at + WRITE_CHUNK))) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => (socket.off('close', onClose), resolve());
        const onClose = () => (socket.off('drain', onDrain), reject(new Error('socket closed')));
        socket.once('drain', onDrain);
        socket.once('close', onClose);
      });
    }
  }
}

/** Feeds every chunk the socket reads to `onData` until it returns true (then resolves). */
function readUntil(socket: StreamSocket, onData: (chunk: Buffer) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      socket.off('data', data);
      socket.off('error', done);
      socket.off('close', closed);
      if (err) reject(err);
      else resolve();
    };
    const data = (chunk: Buffer) => {
      if (onData(chunk)) done();
    };
    const closed = () => done(new Error('connection closed before the answer'));
    socket.on('data', data);
    socket.on('error', done);
    socket.on('close', closed);
  });
}

/** One-way: `data` to the sink, which hashes it; timed until the sink's answer arrives. */
export async function oneWay(
  t: Transport,
  target: ServerTarget,
  data: Buffer,
  digest: Buffer,
  timeoutMs: number,
): Promise<TransferResult> {
  return withDeadline('one-way transfer', timeoutMs, async (held) => {
    const socket = held.hold(await t.connect(target.host, target.sinkPort, timeoutMs), destroy);
    const header = Buffer.alloc(SINK_HEADER);
    header.writeBigUInt64BE(BigInt(data.length));
    digest.copy(header, 8);
    let reply = Buffer.alloc(0);
    let t1 = 0;
    const answered = readUntil(socket, (chunk) => {
      if (reply.length === 0) t1 = performance.now();
      reply = Buffer.concat([reply, chunk]);
      return reply.length >= SINK_REPLY;
    });
    const t0 = performance.now();
    socket.write(header);
    await writeAll(socket, data);
    await answered;
    const seconds = (t1 - t0) / 1000;
    const sha256Ok =
      reply[0] === RECEIVED_MARK && reply[1] === 1 && reply.subarray(2, SINK_REPLY).equals(digest);
    return { bytes: data.length, seconds, mbps: data.length / seconds / 1e6, sha256Ok };
  });
}

/**
 * Duplex: `data` to the echo server while reading the echo; both directions counted. The
 * echo is kept and hashed once the last byte is in, after the clock stops (see SINK_REPLY).
 */
export async function duplex(
  t: Transport,
  target: ServerTarget,
  data: Buffer,
  digest: Buffer,
  timeoutMs: number,
): Promise<TransferResult> {
  return withDeadline('duplex transfer', timeoutMs, async (held) => {
    const socket = held.hold(await t.connect(target.host, target.echoPort, timeoutMs), destroy);
    const chunks: Buffer[] = [];
    let received = 0;
    const echoed = readUntil(socket, (chunk) => {
      chunks.push(chunk);
      received += chunk.length;
      return received >= data.length;
    });
    const t0 = performance.now();
    await Promise.all([writeAll(socket, data), echoed]);
    const seconds = (performance.now() - t0) / 1000;
    const hash = createHash('sha256');
    for (const c of chunks) hash.update(c);
    const sha256Ok = received === data.length && hash.digest().equals(digest);
    return { bytes: 2 * data.length, seconds, mbps: (2 * data.length) / seconds / 1e6, sha256Ok };
  });
}

/** 64-byte TCP round trips with noDelay, one at a time, after a few unmeasured ones. */
export async function tcpRoundTrips(
  t: Transport,
  target: ServerTarget,
  rounds: number,
  timeoutMs: number,
): Promise<RoundTripResult> {
  return withDeadline('TCP round trips', timeoutMs, async (held) => {
    const s = held.hold(await t.connect(target.host, target.echoPort, timeoutMs), destroy);
    s.setNoDelay(true);
    const message = Buffer.alloc(SMALL, 0x5a);
    const times: number[] = [];
    for (let i = 0; i < WARMUP_ROUNDS + rounds; i++) {
      held.check();
      let got = 0;
      const back = readUntil(s, (chunk) => (got += chunk.length) >= SMALL);
      const t0 = performance.now();
      s.write(message);
      await back;
      if (i >= WARMUP_ROUNDS) times.push((performance.now() - t0) * 1000);
    }
    return { rounds, medianUs: median(times), p99Us: quantile(times, 0.99), lost: 0 };
  });
}

/** 64-byte datagram round trips; one that gets no answer in a second counts as lost. */
export async function udpRoundTrips(
  t: Transport,
  target: ServerTarget,
  rounds: number,
  timeoutMs: number,
): Promise<RoundTripResult> {
  return withDeadline('UDP round trips', timeoutMs, async (held) => {
    const bound = await t.bindUdp(target.host === '127.0.0.1' ? '127.0.0.1' : '', 0);
    const s = held.hold(bound.socket, close);
    const message = Buffer.alloc(SMALL, 0x5a);
    const times: number[] = [];
    let lost = 0;
    for (let seq = 0; seq < WARMUP_ROUNDS + rounds; seq++) {
      held.check();
      message.writeUInt32BE(seq);
      const answered = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => (s.off('message', onMessage), resolve(false)), 1000);
        // Only this round's answer counts: a late one from a lost round is ignored.
        const onMessage = (msg: Buffer) => {
          if (msg.length !== SMALL || msg.readUInt32BE(0) !== seq) return;
          clearTimeout(timer);
          s.off('message', onMessage);
          resolve(true);
        };
        s.on('message', onMessage);
      });
      const t0 = performance.now();
      s.send(message, target.udpPort, target.host);
      const ok = await answered;
      if (seq < WARMUP_ROUNDS) continue;
      if (ok) times.push((performance.now() - t0) * 1000);
      else lost++;
    }
    if (times.length === 0) throw new Error(`no datagram of ${rounds} was answered`);
    return { rounds, medianUs: median(times), p99Us: quantile(times, 0.99), lost };
  });
}

/** How long the open connections get to echo their one byte each. */
const ECHO_CHECK_MS = 10_000;

const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

/** Opens `count` connections at once and keeps them open to weigh them (RSS). */
export async function manyConnections(
  t: Transport,
  target: ServerTarget,
  count: number,
  timeoutMs: number,
): Promise<ConnectionsResult> {
  // One connection first, so that finding the peer's path is not in the figure.
  (await t.connect(target.host, target.echoPort, timeoutMs)).destroy();
  collectGarbage();
  const before = process.memoryUsage.rss();
  const sockets: StreamSocket[] = [];
  const errors: Record<string, number> = {};
  let lastOpen = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: count }, () =>
      t.connect(target.host, target.echoPort, timeoutMs).then(
        (s) => {
          sockets.push(s);
          lastOpen = performance.now();
          // A reset from the server must not crash the process while the others open.
          s.on('error', () => undefined);
        },
        (e: Error & { code?: string }) => {
          const code = e.code ?? e.message;
          errors[code] = (errors[code] ?? 0) + 1;
        },
      ),
    ),
  );
  collectGarbage();
  const added = process.memoryUsage.rss() - before;
  const opened = sockets.length;
  // Each open connection carries a byte there and back: open means usable, not just counted.
  let echoed = 0;
  await Promise.race([
    Promise.all(
      sockets.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.once('data', () => (echoed++, resolve()));
            s.once('close', () => resolve());
            s.write('e');
          }),
      ),
    ),
    new Promise((resolve) => setTimeout(resolve, ECHO_CHECK_MS).unref()),
  ]);
  for (const s of sockets) s.destroy();
  return {
    attempted: count,
    opened,
    echoed,
    openMs: opened > 0 ? lastOpen - t0 : 0,
    kibPerConnection: opened > 0 ? added / 1024 / opened : null,
    errors,
  };
}

/** The server side: echo everything back, with backpressure. */
export function echo(socket: StreamSocket): void {
  socket.on('error', () => undefined);
  socket.pipe(socket);
}

/**
 * The server side of oneWay(): take `length` bytes, say so at once, then hash them and
 * answer whether they match the sender's SHA-256.
 */
export function hashingSink(socket: StreamSocket): void {
  socket.on('error', () => undefined);
  let header = Buffer.alloc(0);
  let left = -1;
  let expected: Buffer | undefined;
  const parts: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => {
    if (left === 0) return; // anything past the announced length is not ours to hash
    if (left < 0) {
      header = Buffer.concat([header, chunk]);
      if (header.length < SINK_HEADER) return;
      left = Number(header.readBigUInt64BE(0));
      expected = header.subarray(8, SINK_HEADER);
      chunk = header.subarray(SINK_HEADER);
    }
    const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
    parts.push(part);
    left -= part.length;
    if (left === 0) {
      socket.write(Buffer.from([RECEIVED_MARK]));
      const hash = createHash('sha256');
      for (const p of parts.splice(0)) hash.update(p);
      const got = hash.digest();
      const ok = expected !== undefined && got.equals(expected) ? 1 : 0;
      socket.write(Buffer.concat([Buffer.from([ok]), got]));
    }
  });
}

/** The server side of udpRoundTrips(). */
export function udpEcho(socket: DatagramSocket): void {
  socket.on('message', (msg: Buffer, rinfo: { address: string; port: number }) =>
    socket.send(msg, rinfo.port, rinfo.address),
  );
}
