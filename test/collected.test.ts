// A closed socket, the socket its server accepted and the closed server are garbage
// collected, and their native state is gone (issue 11, item 3): in a child process run with
// --expose-gc (test/helpers/gc-child.cjs), WeakRefs to the three are cleared by forced GCs
// while one to a socket still in use is not; the node's socket census (ids the engine maps,
// sockets its table holds, lwIP's TCP control blocks but TIME_WAIT) is back where it began.
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { startLabNetwork } from './helpers/lab-network.js';
import { ScriptProcess } from './helpers/script.js';
import { afterFile } from './helpers/teardown.js';
import { suiteTempDir } from './helpers/tmp.js';

describe('closed sockets are collected', () => {
  it('with their native state', async () => {
    const dir = suiteTempDir('zts-gc-');
    const { lab, nwid } = await startLabNetwork(dir, '10.147.22.0/24');
    const lines = new ScriptProcess(
      path.join(__dirname, 'helpers', 'gc-child.cjs'),
      [lab.info.planetPath, path.join(dir, 'node'), nwid],
      ['--expose-gc'],
    );
    afterFile(() => lines.stop());
    const started = await lines.waitFor((l) => l.event === 'started');
    await lab.authorize(nwid, String(started['address']));
    const r = await lines.waitFor((l) => l.event === 'result', 60_000);
    expect(Object.keys(r['collected'] as object).sort()).toEqual(['accepted', 'client', 'server']);
    expect(r['keptAlive']).toBe(true);
    const before = r['before'] as Record<string, number>;
    const after = r['after'] as Record<string, number>;
    expect(after).toMatchObject({ open: before['open'], held: before['held'], tcpActive: 0 });
    expect(after['tcpListening']).toBe(before['tcpListening']);
    // The client closed first: its port waits in TIME_WAIT (10 s), as a kernel's does.
    expect(after['tcpTimeWait']).toBeLessThanOrEqual(1);
  }, 90_000);
});
