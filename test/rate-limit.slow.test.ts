// Rate limits on a lab network, with the peer in another process: a 2 MB/s limit gives
// 2 MB/s ± 10% over 5 s, for a connection's sending and receiving and for the node's
// sending shared by two connections; metrics() agrees with what moved.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { NodeService, net, type NodeRef, type Socket } from '../lib/index.js';
import { startAuthorizedPeer, startLabNetwork, type LinePeer } from './helpers/lab-network.js';
import { suiteTempDir } from './helpers/tmp.js';

const limit = 2_000_000;
const windowMs = 5000;
const chunk = Buffer.alloc(64 * 1024, 0x61);

/** Writes as fast as the socket takes (honouring backpressure) until stopped. */
function flood(s: Socket): () => void {
  let stopped = false;
  const pump = () => {
    while (!stopped && !s.destroyed && s.write(chunk));
  };
  s.on('drain', pump);
  pump();
  return () => {
    stopped = true;
    s.off('drain', pump);
  };
}

function connected(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ host, port, timeoutMs: 10_000 });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Bytes a second of `count()` over the window, after a second to settle. */
async function measure(count: () => number): Promise<number> {
  await new Promise((r) => setTimeout(r, 1000));
  const before = count();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  return ((count() - before) * 1000) / (performance.now() - t0);
}

describe('rate limits on a lab network', () => {
  let peer: LinePeer;
  let peerIp: string;
  let ref: NodeRef;

  beforeAll(async () => {
    const dir = suiteTempDir('zts-rate-');
    const { lab, nwid } = await startLabNetwork(dir, '10.147.23.0/24');
    peer = await startAuthorizedPeer(
      lab,
      nwid,
      path.join(__dirname, 'helpers', 'stream-peer.cjs'),
      [lab.info.planetPath, path.join(dir, 'peer'), nwid],
    );
    peerIp = String((await peer.waitFor((l) => l.event === 'ready', 60_000))['host']);
    ref = await NodeService.acquire({
      storagePath: path.join(dir, 'here'),
      planet: lab.info.planetPath,
      lab: true,
    });
    await lab.authorize(nwid, ref.node.address);
    const lease = await ref.node.join(nwid);
    await lease.ready({ timeoutMs: 30_000, waitForAuthorization: true });
    peer.send({ sink: 7500 });
    peer.send({ source: 7501 });
    await peer.waitFor((l) => l.event === 'listening' && l['port'] === 7501);
    return async () => {
      await lease.release();
      await ref.release();
    };
  }, 120_000);

  it('a connection sends at its limit', async () => {
    const s = await connected(peerIp, 7500);
    s.setRateLimit({ send: limit });
    const stop = flood(s);
    const rate = await measure(() => s.metrics().bytesOut);
    stop();
    s.destroy();
    console.log(`send limit ${limit} B/s: measured ${Math.round(rate)} B/s`);
    expect(rate).toBeGreaterThan(limit * 0.9);
    expect(rate).toBeLessThan(limit * 1.1);
  });

  it('a connection receives at its limit (the sender slowed by the window, nothing dropped)', async () => {
    const s = await connected(peerIp, 7501);
    s.setRateLimit({ receive: limit });
    let received = 0;
    s.on('data', (d: Buffer) => (received += d.length));
    const rate = await measure(() => received);
    console.log(`receive limit ${limit} B/s: measured ${Math.round(rate)} B/s`);
    expect(rate).toBeGreaterThan(limit * 0.9);
    expect(rate).toBeLessThan(limit * 1.1);
    expect(s.metrics().bytesIn).toBe(received);
    // Lifted: the same connection goes faster at once.
    s.setRateLimit({ receive: null });
    const free = await measure(() => received);
    console.log(`receive unlimited: ${Math.round(free)} B/s`);
    expect(free).toBeGreaterThan(limit * 1.1);
    s.destroy();
  });

  it('the node shares its limit between connections', async () => {
    const node = ref.node;
    node.setRateLimit({ send: limit });
    const a = await connected(peerIp, 7500);
    const b = await connected(peerIp, 7500);
    const stops = [flood(a), flood(b)];
    const before = node.metrics().bytesOut;
    const rate = await measure(() => node.metrics().bytesOut);
    for (const stop of stops) stop();
    const m = node.metrics();
    node.setRateLimit({ send: null });
    a.destroy();
    b.destroy();
    console.log(`node send limit ${limit} B/s over two connections: ${Math.round(rate)} B/s`);
    expect(rate).toBeGreaterThan(limit * 0.9);
    expect(rate).toBeLessThan(limit * 1.1);
    expect(m.bytesOut - before).toBeGreaterThan(0);
    expect(m.connections.opened).toBeGreaterThanOrEqual(4);
    expect(m.limits.send).toBe(limit);
  });
});
