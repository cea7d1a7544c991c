// The promise API on a lab network, with a peer in another process: connect() and listen()
// join the default network only when the app holds no lease on it (and leave only what
// they joined), connect() retries transient failures with a bounded backoff, and a
// listener is an async iterable besides accept() and tryAccept().
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  NodeService,
  backoffDelays,
  connect,
  listen,
  type NodeRef,
  type ZeroTierSocket,
} from '../lib/index.js';
import { eventually } from './helpers/events.js';
import { startAuthorizedPeer, startLabNetwork, type LinePeer } from './helpers/lab-network.js';
import { suiteTempDir } from './helpers/tmp.js';

async function readText(s: ZeroTierSocket, length: number): Promise<string> {
  let text = '';
  while (text.length < length) {
    const chunk = await s.read();
    if (chunk === null) break;
    text += chunk.toString();
  }
  return text;
}

describe('the promise API', () => {
  let peer: LinePeer;
  let peerIp: string;
  let nwid: string;
  let ref: NodeRef;
  let myIp: string;

  beforeAll(async () => {
    const dir = suiteTempDir('zts-promises-');
    const started = await startLabNetwork(dir, '10.147.22.0/24');
    nwid = started.nwid;
    peer = await startAuthorizedPeer(
      started.lab,
      nwid,
      path.join(__dirname, 'helpers', 'stream-peer.cjs'),
      [started.lab.info.planetPath, path.join(dir, 'peer'), nwid],
    );
    peerIp = String((await peer.waitFor((l) => l.event === 'ready', 60_000))['host']);
    // Our node has the network as its default, and no lease on it yet.
    ref = await NodeService.acquire({
      storagePath: path.join(dir, 'here'),
      planet: started.lab.info.planetPath,
      lab: true,
      defaultNetwork: nwid,
    });
    await started.lab.authorize(nwid, ref.node.address);
    // Learn our address (and cache the config) with a lease of our own, then leave.
    const lease = await ref.node.join(nwid);
    const info = await lease.ready({ timeoutMs: 30_000, waitForAuthorization: true });
    myIp = info.addresses.find((a) => a.includes('.'))!.split('/')[0]!;
    await lease.release();
    return () => ref.release();
  }, 120_000);

  const listening = (port: number) =>
    peer.waitFor((l) => l.event === 'listening' && l['port'] === port, 10_000);

  it('connect leases the default network only when the app holds none, and returns only that', async () => {
    peer.send({ listen: 7400 });
    await listening(7400);
    const node = ref.node;
    expect(node.leases(nwid)).toBe(0);
    const s = await connect({ host: peerIp, port: 7400, timeoutMs: 10_000 });
    expect(node.leases(nwid)).toBe(1);
    await s.write('leased');
    expect(await readText(s, 6)).toBe('leased');
    s.destroy();
    await eventually(() => node.leases(nwid) === 0);

    // With a lease of the app's own, the socket takes none and leaves it alone.
    await using mine = await node.join(nwid);
    await mine.ready({ timeoutMs: 10_000 });
    const t = await connect({ host: peerIp, port: 7400, timeoutMs: 10_000 });
    expect(node.leases(nwid)).toBe(1);
    await t.write('own');
    expect(await readText(t, 3)).toBe('own');
    t.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(node.leases(nwid)).toBe(1);
    expect(mine.released).toBe(false);
  });

  it('connect retries a refused connection when asked, with 100 ms doubling, none after the last', async () => {
    await using _lease = await ref.node.join(nwid);
    expect(backoffDelays(1)).toEqual([]);
    expect(backoffDelays(7)).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(() => backoffDelays(0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));

    // Nothing listens on 7401: three attempts, two waits (100 + 200 ms), then the error.
    const failures = () =>
      Object.values(ref.node.metrics().connections.failed).reduce((a, b) => a + b, 0);
    const failedBefore = failures();
    const t0 = Date.now();
    await expect(
      connect({ host: peerIp, port: 7401, timeoutMs: 5000, attempts: 3, retryRefused: true }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    // Each attempt is a failed connection in the node's metrics (by code: the last one was
    // refused; an earlier one may have met another transient failure on a busy machine).
    expect(failures()).toBe(failedBefore + 3);
    expect(ref.node.metrics().connections.failed['ECONNREFUSED']).toBeGreaterThanOrEqual(1);
    // Refused is final unless asked.
    await expect(connect({ host: peerIp, port: 7401, timeoutMs: 5000 })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    // An abort stops the retries with the last failure.
    const aborted = AbortSignal.timeout(150);
    await expect(
      connect({ host: peerIp, port: 7401, attempts: 50, retryRefused: true, signal: aborted }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    // A service that starts 400 ms from now is reached.
    peer.send({ listen: 7402, afterMs: 400 });
    const s = await connect({ host: peerIp, port: 7402, attempts: 8, retryRefused: true });
    await s.write('late');
    expect(await readText(s, 4)).toBe('late');
    s.destroy();
  });

  it('a listener is an async iterable, besides accept() and tryAccept()', async () => {
    const node = ref.node;
    expect(node.leases(nwid)).toBe(0);
    const listener = await listen({ port: 7403 });
    expect(node.leases(nwid)).toBe(1); // the default network, for the app that holds none
    expect(listener.tryAccept()).toBeNull();
    expect(await listener.accept({ timeoutMs: 50 })).toBeNull();
    expect(await listener.accept({ signal: AbortSignal.abort() })).toBeNull();

    for (const text of ['first', 'second']) peer.send({ connect: myIp, port: 7403, text });
    const seen: string[] = [];
    for await (const s of listener) {
      const text = await readText(s, 5);
      seen.push(text);
      await s.write(text);
      await s.end();
      if (seen.length === 2) break;
    }
    expect(seen.sort()).toEqual(['first', 'second']);
    expect(node.metrics().connections.accepted).toBeGreaterThanOrEqual(2);
    await eventually(() => peer.lines.filter((l) => l.event === 'echo').length >= 2);

    // Iteration ends when the listener closes.
    const ended = (async () => {
      for await (const s of listener) s.destroy();
      return 'ended';
    })();
    await listener.close();
    expect(await ended).toBe('ended');
    expect(node.leases(nwid)).toBe(0);
  });
});
