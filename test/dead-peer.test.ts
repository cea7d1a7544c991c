// Dead peers (issue 11, item 2), with real processes on a lab network: a peer SIGKILLed
// mid-transfer fails the writer with ETIMEDOUT after its dead-peer timeout (a short one
// here; the 60 s default is in dead-peer.slow.test.ts); a peer that comes back without
// the connection resets it within seconds; keep-alive fails an idle connection to a
// killed peer after Node's probe timings; and the timeout's options are checked.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { NodeService, net, type LabHandle, type NodeRef } from '../lib/index.js';
import { killPeer, startSinkPeer, writeUntilError } from './helpers/dead-peer.js';
import { nextEvent } from './helpers/events.js';
import { joinHere, startLabNetwork } from './helpers/lab-network.js';
import { suiteTempDir } from './helpers/tmp.js';

const secs = (ms: number) => (ms / 1000).toFixed(1);

describe('dead peers', () => {
  let dir: string;
  let lab: LabHandle;
  let nwid: string;
  let ref: NodeRef;

  beforeAll(async () => {
    dir = suiteTempDir('zts-dead-peer-');
    ({ lab, nwid } = await startLabNetwork(dir, '10.147.31.0/24'));
    ({ ref } = await joinHere(lab, nwid, path.join(dir, 'here')));
  }, 120_000);

  it('a peer killed mid-transfer: the writer fails with ETIMEDOUT after its dead-peer timeout', async () => {
    const { peer, ip } = await startSinkPeer(lab, nwid, path.join(dir, 'killed'), 7500);
    const s = net.createConnection({ host: ip, port: 7500, deadPeerTimeout: 3000 });
    await nextEvent(s, 'connect');
    const failed = writeUntilError(s);
    await new Promise((r) => setTimeout(r, 500)); // mid-transfer
    const killedAt = Date.now();
    await killPeer(peer);
    const { error, at } = await failed;
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.syscall).toBe('read');
    const ms = at - killedAt;
    console.log(`[figures] dead-peer timeout 3 s: ETIMEDOUT ${secs(ms)} s after SIGKILL`);
    expect(ms).toBeGreaterThanOrEqual(2500);
    expect(ms).toBeLessThan(15_000);
  }, 120_000);

  it('a peer that comes back without the connection resets it within seconds', async () => {
    const storage = path.join(dir, 'restarted');
    const first = await startSinkPeer(lab, nwid, storage, 7501);
    // A timeout far beyond the test: only the peer's reset can end this connection.
    const s = net.createConnection({ host: first.ip, port: 7501, deadPeerTimeout: 600_000 });
    await nextEvent(s, 'connect');
    const failed = writeUntilError(s);
    await new Promise((r) => setTimeout(r, 500));
    await killPeer(first.peer);
    // Long enough for the writer's retransmissions to back off to several seconds.
    await new Promise((r) => setTimeout(r, 8000));
    const again = await startSinkPeer(lab, nwid, storage, 7501);
    expect(again.ip).toBe(first.ip);
    const backAt = Date.now();
    const { error, at } = await failed;
    expect(error.code).toBe('ECONNRESET');
    const ms = at - backAt;
    console.log(
      `[figures] peer restarted without the connection: ECONNRESET ${secs(ms)} s after it was back`,
    );
    expect(ms).toBeLessThan(15_000);
  }, 180_000);

  it('keep-alive fails an idle connection to a killed peer after Node timings (idle, then 10 probes 1 s apart)', async () => {
    const { peer, ip } = await startSinkPeer(lab, nwid, path.join(dir, 'idle'), 7502);
    const s = net.createConnection({ host: ip, port: 7502 });
    await nextEvent(s, 'connect');
    s.setKeepAlive(true, 1000); // idle 1 s, then probes every second, 10 of them
    const failed = nextEvent<NodeJS.ErrnoException>(s, 'error', { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 3000)); // probes answered meanwhile
    expect(s.destroyed).toBe(false);
    const killedAt = Date.now();
    await killPeer(peer);
    const error = await failed;
    expect(error.code).toBe('ETIMEDOUT');
    const ms = Date.now() - killedAt;
    console.log(`[figures] keep-alive (1 s idle, 10 x 1 s): ETIMEDOUT ${secs(ms)} s after SIGKILL`);
    expect(ms).toBeGreaterThanOrEqual(9000);
    expect(ms).toBeLessThan(25_000);
  }, 120_000);

  it('checks the timeout per socket and per node', async () => {
    const s = new net.Socket();
    for (const bad of [0, -1, 1.5, 3_600_001, Number.NaN]) {
      expect(() => s.setDeadPeerTimeout(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }) as Error,
      );
    }
    expect(() => s.setDeadPeerTimeout('5' as unknown as number)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }) as Error,
    );
    expect(s.setDeadPeerTimeout(5000)).toBe(s);
    expect(() => new net.Socket({ deadPeerTimeout: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }) as Error,
    );
    expect(() => net.createConnection({ port: 1, host: '10.0.0.1', deadPeerTimeout: -5 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }) as Error,
    );
    // The node's option is checked before anything starts (the node here is running
    // with other options, which would be refused only after the check).
    await expect(NodeService.acquire({ deadPeerTimeout: 0 })).rejects.toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
    });
    await expect(
      NodeService.acquire({ deadPeerTimeout: '60000' as unknown as number }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(ref.node.closed).toBe(false);
  });
});
