// `node --forward` on both sides: a real curl request to a local HTTP server, carried
// host -> node Y -> ZeroTier -> node X -> host.
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { run } from './helpers/child.js';
import { type NodeProcess, spawnNode, startTestLab } from './helpers/lab.js';
import { freeLoopbackPort } from './helpers/ports.js';
import { tempDir } from './helpers/tmp.js';

async function joined(p: NodeProcess, nwid: string): Promise<string> {
  const line = await p.waitFor(
    (l) =>
      l.event === 'network' &&
      l['nwid'] === nwid &&
      l['status'] === 'OK' &&
      (l['addresses'] as string[]).length > 0,
    30_000,
  );
  return (line['addresses'] as string[])[0]!.split('/')[0]!;
}

describe('zerotier-sockets node --forward', () => {
  it('carries a curl request through two nodes', { timeout: 90_000 }, async () => {
    const dir = tempDir('zts-fwd-');
    const lab = await startTestLab(path.join(dir, 'lab'));
    const web = http.createServer((req, res) => res.end(`hello from ${req.url}`));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
    const webPort = (web.address() as { port: number }).port;
    try {
      const nwid = await lab.createNetwork({ name: 'fwd', ipv4: ['10.99.0.0/24'] });
      const planet = ['--planet', lab.info.planetPath, '--lab', '--join', nwid];
      const x = spawnNode([
        '--storage',
        path.join(dir, 'x'),
        ...planet,
        '--forward',
        `zt:8080=127.0.0.1:${webPort}`,
      ]);
      await lab.authorize(nwid, await x.address());
      const xIp = await joined(x, nwid);

      const localPort = await freeLoopbackPort();
      const y = spawnNode([
        '--storage',
        path.join(dir, 'y'),
        ...planet,
        '--forward',
        `127.0.0.1:${localPort}=${xIp}:8080`,
      ]);
      await lab.authorize(nwid, await y.address());
      await joined(y, nwid);
      await y.waitFor((l) => l.event === 'forward');

      const curl = await run('curl', [
        '-sS',
        '--max-time',
        '20',
        `http://127.0.0.1:${localPort}/through/zerotier`,
      ]);
      expect(curl.stderr).toBe('');
      expect(curl.stdout).toBe('hello from /through/zerotier');

      // A target that refuses: the client side closes cleanly and stderr says why.
      const z = spawnNode([
        '--storage',
        path.join(dir, 'z'),
        ...planet,
        '--forward',
        `127.0.0.1:${localPort + 1}=${xIp}:9`,
      ]);
      await lab.authorize(nwid, await z.address());
      await joined(z, nwid);
      await z.waitFor((l) => l.event === 'forward');
      const refused = await run('curl', [
        '-sS',
        '--max-time',
        '20',
        `http://127.0.0.1:${localPort + 1}/`,
      ]);
      expect(refused.code).not.toBe(0);
      await expect.poll(() => z.stderr, { timeout: 5000 }).toMatch(/ECONNREFUSED/);
    } finally {
      web.close();
      await lab.close();
    }
  });
});
