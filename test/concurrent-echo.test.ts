// Scale (issue 11, item 3): 1,000 TCP connections open at once from this process's node to
// an echo server in another process, each sending 64 KiB of its own random bytes and getting
// them back intact (SHA-256 compared), then all closed: nothing left open or held.
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { net, type ZeroTierNode } from '../lib/index.js';
import { eventually } from './helpers/events.js';
import { joinHere, startAuthorizedPeer, startLabNetwork } from './helpers/lab-network.js';
import { suiteTempDir } from './helpers/tmp.js';

const connections = 1000;
const bytesEach = 64 * 1024;
const port = 7300;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Connects, sends `data`, ends, and resolves with the SHA-256 of what came back. */
function echoed(host: string, data: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let n = 0;
    const s = net.createConnection({ host, port, timeoutMs: 60_000 }, () => s.end(data));
    s.on('data', (d: Buffer) => {
      hash.update(d);
      n += d.length;
    });
    s.on('error', reject);
    s.on('close', () =>
      n === data.length ? resolve(hash.digest('hex')) : reject(new Error(`got ${n} bytes`)),
    );
  });
}

describe('1,000 concurrent connections', () => {
  let peerIp: string;
  let node: ZeroTierNode;

  beforeAll(async () => {
    const dir = suiteTempDir('zts-concurrent-');
    const { lab, nwid } = await startLabNetwork(dir, '10.147.21.0/24');
    const peer = await startAuthorizedPeer(
      lab,
      nwid,
      path.join(__dirname, 'helpers', 'stream-peer.cjs'),
      [lab.info.planetPath, path.join(dir, 'peer'), nwid],
    );
    const here = await joinHere(lab, nwid, path.join(dir, 'here'));
    node = here.ref.node;
    peerIp = String((await peer.waitFor((l) => l.event === 'ready'))['host']);
    peer.send({ listen: port });
    await peer.waitFor((l) => l.event === 'listening');
  }, 90_000);

  it('each echoes 64 KiB intact', async () => {
    const payloads = Array.from({ length: connections }, () => randomBytes(bytesEach));
    const t0 = performance.now();
    const results = await Promise.allSettled(payloads.map((p) => echoed(peerIp, p)));
    const seconds = (performance.now() - t0) / 1000;
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed.map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    const intact = results.filter(
      (r, i) => r.status === 'fulfilled' && r.value === sha256(payloads[i]!),
    ).length;
    expect(intact).toBe(connections);
    console.log(`1,000 x 64 KiB echoed in ${seconds.toFixed(1)} s`);
    await eventually(async () => {
      const { sockets } = await node.counters();
      return sockets.open === 0 && sockets.held === 0 && sockets.tcpActive === 0;
    }, 20_000);
  }, 240_000);
});
