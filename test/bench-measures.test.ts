// The bench's measurements over node:net on loopback, in this process: a transfer only
// counts when the receiver's SHA-256 matches, a peer that stops answering fails the
// figure at its deadline (ETIMEDOUT) instead of hanging, and many connections are counted
// open only when they carry a byte.
import { createHash, randomBytes } from 'node:crypto';
import nodeDgram from 'node:dgram';
import nodeNet from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import {
  duplex,
  echo,
  hashingSink,
  manyConnections,
  oneWay,
  tcpRoundTrips,
  udpRoundTrips,
  withDeadline,
} from '../lib/bench/measures.js';
import type { ServerTarget } from '../lib/bench/protocol.js';
import { kernelTransport, type StreamSocket } from '../lib/bench/transport.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function server(onConnection: (s: StreamSocket) => void): Promise<number> {
  const s = nodeNet.createServer(onConnection);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(() => s.close());
  s.on('connection', (c) => closers.push(() => c.destroy()));
  return (s.address() as nodeNet.AddressInfo).port;
}

const target = (port: number): ServerTarget => ({
  host: '127.0.0.1',
  echoPort: port,
  sinkPort: port,
  udpPort: port,
});

const data = randomBytes(3 * 1024 * 1024 + 17); // not a multiple of the write size
const digest = createHash('sha256').update(data).digest();

describe('bench measurements over node:net', () => {
  it('one-way: the sink verifies the SHA-256 the sender announced', async () => {
    const port = await server(hashingSink);
    const ok = await oneWay(kernelTransport, target(port), data, digest, 10_000);
    expect(ok).toMatchObject({ bytes: data.length, sha256Ok: true });
    expect(ok.mbps).toBeGreaterThan(0);
    const other = createHash('sha256').update('something else').digest();
    const bad = await oneWay(kernelTransport, target(port), data, other, 10_000);
    expect(bad.sha256Ok).toBe(false);
  });

  it('duplex: an echo that changes one byte is caught', async () => {
    const good = await server(echo);
    expect(await duplex(kernelTransport, target(good), data, digest, 10_000)).toMatchObject({
      bytes: 2 * data.length,
      sha256Ok: true,
    });
    let flipped = false;
    const corrupting = await server((s) => {
      s.on('data', (chunk: Buffer) => {
        if (!flipped && chunk.length > 0) {
          chunk = Buffer.from(chunk);
          chunk[0]! ^= 1;
          flipped = true;
        }
        s.write(chunk);
      });
    });
    const r = await duplex(kernelTransport, target(corrupting), data, digest, 10_000);
    expect(flipped).toBe(true);
    expect(r.sha256Ok).toBe(false);
  });

  it('round trips: median and p99 of the measured rounds', async () => {
    const port = await server(echo);
    const r = await tcpRoundTrips(kernelTransport, target(port), 50, 10_000);
    expect(r).toMatchObject({ rounds: 50, lost: 0 });
    expect(r.p99Us).toBeGreaterThanOrEqual(r.medianUs);
  });

  it('a peer that never answers fails the figure at its deadline', async () => {
    const silent = await server(() => undefined);
    const t0 = Date.now();
    await expect(tcpRoundTrips(kernelTransport, target(silent), 10, 300)).rejects.toMatchObject({
      code: 'ETIMEDOUT',
    });
    await expect(oneWay(kernelTransport, target(silent), data, digest, 300)).rejects.toMatchObject({
      code: 'ETIMEDOUT',
    });
    // A UDP port nobody reads: no answer, and no waiting a second per datagram either.
    const nobody = nodeDgram.createSocket('udp4');
    await new Promise<void>((r) => nobody.bind(0, '127.0.0.1', r));
    closers.push(() => nobody.close());
    const udpTarget = { ...target(silent), udpPort: nobody.address().port };
    await expect(udpRoundTrips(kernelTransport, udpTarget, 10, 300)).rejects.toMatchObject({
      code: 'ETIMEDOUT',
    });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('many connections: opened, then each echoes a byte', async () => {
    const port = await server(echo);
    const r = await manyConnections(kernelTransport, target(port), 40, 10_000);
    expect(r).toMatchObject({ attempted: 40, opened: 40, echoed: 40, errors: {} });
  });

  it('a socket that opens after the deadline is closed at once, and stops its loop', async () => {
    const released: string[] = [];
    let rounds = 0;
    const late = withDeadline('late', 50, async (held) => {
      await new Promise((r) => setTimeout(r, 150));
      held.hold('socket', (s) => released.push(s));
      return 'never';
    });
    const looping = withDeadline('looping', 50, async (held) => {
      for (;;) {
        held.check();
        rounds++;
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    await expect(late).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await expect(looping).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await new Promise((r) => setTimeout(r, 200));
    expect(released).toEqual(['socket']);
    const stoppedAt = rounds;
    await new Promise((r) => setTimeout(r, 50));
    expect(rounds).toBe(stoppedAt);
  });
});
