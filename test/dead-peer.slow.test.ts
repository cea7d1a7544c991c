// The dead-peer timeout's default (60 s), with a peer process SIGKILLed mid-transfer on a
// lab network: the writer fails with ETIMEDOUT a minute later, where it used to hang for
// lwIP's own give-up (about 19 minutes, then ECONNABORTED). Short timeouts, restarts and
// keep-alive are in dead-peer.test.ts.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { net, type LabHandle } from '../lib/index.js';
import { killPeer, startSinkPeer, writeUntilError } from './helpers/dead-peer.js';
import { nextEvent } from './helpers/events.js';
import { joinHere, startLabNetwork } from './helpers/lab-network.js';
import { suiteTempDir } from './helpers/tmp.js';

describe('dead peers, default timeout', () => {
  let dir: string;
  let lab: LabHandle;
  let nwid: string;

  beforeAll(async () => {
    dir = suiteTempDir('zts-dead-peer-slow-');
    ({ lab, nwid } = await startLabNetwork(dir, '10.147.32.0/24'));
    await joinHere(lab, nwid, path.join(dir, 'here'));
  }, 120_000);

  it('a peer killed mid-transfer: ETIMEDOUT about 60 s later', async () => {
    const { peer, ip } = await startSinkPeer(lab, nwid, path.join(dir, 'killed'), 7510);
    const s = net.createConnection({ host: ip, port: 7510 });
    await nextEvent(s, 'connect');
    const failed = writeUntilError(s);
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = Date.now();
    await killPeer(peer);
    const { error, at } = await failed;
    expect(error.code).toBe('ETIMEDOUT');
    const ms = at - killedAt;
    console.log(
      `[figures] default dead-peer timeout: ETIMEDOUT ${(ms / 1000).toFixed(1)} s after SIGKILL`,
    );
    expect(ms).toBeGreaterThanOrEqual(55_000);
    expect(ms).toBeLessThan(90_000);
  }, 180_000);
});
