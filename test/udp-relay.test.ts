// The lossy UDP wire of test/helpers/udp-relay.ts does what it says, each direction on its
// own: the figures measured through it are only as good as it is.
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';

import { UdpRelay, type UdpRelayOptions } from './helpers/udp-relay.js';

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

async function socket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  open.push(s);
  return s;
}

/** An echo server, a relay in front of it, and a client: what comes back, in order. */
async function throughRelay(options: Omit<UdpRelayOptions, 'target'>, count: number) {
  const echo = await socket();
  echo.on('message', (m, from) => echo.send(m, from.port, from.address));
  const relay = await UdpRelay.start({
    ...options,
    target: { host: '127.0.0.1', port: echo.address().port },
  });
  open.push(relay);
  const client = await socket();
  const got: number[] = [];
  const rtts: number[] = [];
  client.on('message', (m) => {
    got.push(m.readUInt32BE(0));
    rtts.push(Date.now() - Number(m.readBigUInt64BE(4)));
  });
  for (let i = 0; i < count; i++) {
    const m = Buffer.alloc(12);
    m.writeUInt32BE(i, 0);
    m.writeBigUInt64BE(BigInt(Date.now()), 4);
    client.send(m, relay.port, '127.0.0.1');
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 2));
  }
  // Until nothing more arrives for a while (sends are queued, and the machine is shared).
  for (let last = -1; last !== got.length;) {
    last = got.length;
    await new Promise((r) => setTimeout(r, 300));
  }
  return { relay, got, rtts };
}

describe('the UDP impairment relay', () => {
  it('passes everything, in order, when told to impair nothing', async () => {
    const { got, relay } = await throughRelay({}, 500);
    // The relay's own count is exact; loopback itself may drop a few under load (the suite
    // also runs under ASan on a shared machine), so what arrives is checked for order.
    expect(relay.stats.forward).toMatchObject({ sent: relay.stats.forward.received, dropped: 0 });
    expect(got.length).toBeGreaterThan(0.9 * 500);
    expect(got.every((v, i) => i === 0 || v > got[i - 1]!)).toBe(true);
  });

  it('drops about the share asked for, in the direction asked for', async () => {
    const { got, relay } = await throughRelay({ forward: { loss: 0.2 }, seed: 7 }, 2000);
    const f = relay.stats.forward;
    expect(relay.stats.backward.dropped).toBe(0);
    expect(f.dropped).toBeGreaterThan(f.received * 0.15);
    expect(f.dropped).toBeLessThan(f.received * 0.25);
    expect(f.sent).toBe(f.received - f.dropped);
    expect(got.length).toBeGreaterThan(0.9 * f.sent);
    expect(got.length).toBeLessThanOrEqual(f.sent);
    const back = await throughRelay({ backward: { loss: 0.2 }, seed: 7 }, 2000);
    const b = back.relay.stats.backward;
    expect(back.relay.stats.forward.dropped).toBe(0);
    expect(b.dropped).toBeGreaterThan(b.received * 0.15);
    expect(b.sent).toBe(b.received - b.dropped);
    expect(back.got.length).toBeLessThanOrEqual(b.sent);
  });

  it('delays, duplicates and reorders', async () => {
    const { got, rtts, relay } = await throughRelay(
      { forward: { delayMs: 20, duplicate: 0.1, reorder: 0.1, reorderMs: 10 }, seed: 3 },
      1000,
    );
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(19);
    expect(relay.stats.forward.sent).toBe(
      relay.stats.forward.received + relay.stats.forward.duplicated,
    );
    expect(got.length).toBeGreaterThan(0.9 * relay.stats.forward.sent);
    expect(relay.stats.forward.duplicated).toBeGreaterThan(50);
    expect(new Set(got).size).toBeGreaterThan(900);
    // Overtaken: arrived after a later-numbered datagram.
    let highest = -1;
    const overtaken = got.filter((v) => {
      const late = v < highest;
      highest = Math.max(highest, v);
      return late;
    }).length;
    expect(overtaken).toBeGreaterThan(20);
  });

  it('closes itself after its maximum run time', async () => {
    const relay = await UdpRelay.start({ target: { host: '127.0.0.1', port: 9 }, maxRunMs: 100 });
    open.push(relay);
    await new Promise((r) => setTimeout(r, 200));
    expect(relay.closed).toBe(true);
  });
});
