// dgram conformance: every case in dgram-cases.ts runs against node:dgram over loopback
// and against this package's dgram over a lab network, each with its peer in another
// process, and both must observe the same (events, order, arguments, errors, bytes).
import nodeDgram from 'node:dgram';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { dgram } from '../../lib/index.js';
import {
  joinHere,
  LinePeer,
  startAuthorizedPeer,
  startLabNetwork,
} from '../helpers/lab-network.js';
import { suiteTempDir } from '../helpers/tmp.js';
import { cases, type DgramEnv } from './dgram-cases.js';

const peerScript = path.join(__dirname, 'dgram-peer.cjs');

async function envFrom(peer: LinePeer, module: DgramEnv['dgram']): Promise<DgramEnv> {
  const ready = await peer.waitFor((l) => l.event === 'ready', 60_000);
  return {
    dgram: module,
    peer: String(ready['host']),
    echoPort: Number(ready['echoPort']),
    controlPort: Number(ready['controlPort']),
  };
}

describe('dgram conformance: ours on a lab network against node:dgram on loopback', () => {
  let node: DgramEnv;
  let ours: DgramEnv;

  beforeAll(async () => {
    const dir = suiteTempDir('zts-dgram-');
    node = await envFrom(
      new LinePeer(peerScript, ['node']),
      nodeDgram as unknown as DgramEnv['dgram'],
    );
    const { lab, nwid } = await startLabNetwork(dir);
    const peer = await startAuthorizedPeer(lab, nwid, peerScript, [
      'zt',
      lab.info.planetPath,
      path.join(dir, 'peer'),
      nwid,
    ]);
    await joinHere(lab, nwid, path.join(dir, 'here'));
    ours = await envFrom(peer, dgram as unknown as DgramEnv['dgram']);
  }, 120_000);

  for (const [name, run] of Object.entries(cases)) {
    it(name, async () => {
      const expected = await run(node);
      const actual = await run(ours);
      expect(actual).toEqual(expected);
    });
  }
});
