// `zerotier-sockets forward`: one process with several rules, both directions, against
// this process's node on a lab network; --verbose lines; a refused target and a port in
// use reported clearly; small two-piece messages not held back by Nagle on either leg.
import { once } from 'node:events';
import nodeNet from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { NodeService, net, type LabHandle, type NodeRef } from '../lib/index.js';
import { runNode } from './helpers/child.js';
import { type NodeProcess, spawnNode, startTestLab } from './helpers/lab.js';
import { cliPath } from './helpers/paths.js';
import { suiteTempDir } from './helpers/tmp.js';

async function freeTcpPort(): Promise<number> {
  const s = nodeNet.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as nodeNet.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Sends `pieces` (each its own write, a tick apart) and resolves with the echo. */
async function exchange(socket: nodeNet.Socket, pieces: string[]): Promise<string> {
  const want = pieces.join('').length;
  let got = '';
  const done = new Promise<void>((resolve) => {
    const onData = (d: Buffer) => {
      got += d.toString();
      if (got.length >= want) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
  for (const p of pieces) {
    socket.write(p);
    await new Promise((r) => setImmediate(r));
  }
  await done;
  return got;
}

/** Echoes each complete line, and whatever is left at the end. */
function lineEcho(s: nodeNet.Socket | ReturnType<typeof net.createConnection>): void {
  let pending = '';
  s.on('data', (d: Buffer) => {
    pending += d.toString('latin1');
    const nl = pending.lastIndexOf('\n');
    if (nl < 0) return;
    s.write(pending.slice(0, nl + 1));
    pending = pending.slice(nl + 1);
  });
  s.on('end', () => s.end(pending));
}

describe('zerotier-sockets forward', () => {
  let dir: string;
  let lab: LabHandle;
  let nwid: string;
  let ref: NodeRef;
  let ourIp: string;
  let hostEcho: nodeNet.Server;
  let hostEchoPort: number;
  let fwd: NodeProcess;
  let fwdIp: string;
  let toUs: number;
  let toNobody: number;
  let offNetwork: number;

  beforeAll(async () => {
    dir = suiteTempDir('zts-fwdcmd-');
    lab = await startTestLab(path.join(dir, 'lab'));
    nwid = await lab.createNetwork({ name: 'fwd', ipv4: ['10.98.0.0/24'] });
    ref = await NodeService.acquire({
      storagePath: path.join(dir, 'us'),
      planet: lab.info.planetPath,
      lab: true,
    });
    await lab.authorize(nwid, ref.node.address);
    const lease = await ref.node.join(nwid);
    const info = await lease.ready({ timeoutMs: 30_000, waitForAuthorization: true });
    ourIp = info.addresses[0]!.split('/')[0]!;
    // Line echo over ZeroTier on 7001 (the host -> ZeroTier rule's target). It answers
    // only whole lines, as a database answers only whole queries: a piece held back by
    // Nagle then waits for a delayed ACK instead of riding on the answer.
    net
      .createServer({ allowHalfOpen: true }, (s) => {
        s.setNoDelay(true);
        lineEcho(s);
        s.on('error', () => undefined);
      })
      .listen(7001);
    // The same on the host (the ZeroTier -> host rule's target).
    hostEcho = nodeNet.createServer({ noDelay: true, allowHalfOpen: true }, lineEcho);
    hostEcho.listen(0, '127.0.0.1');
    await once(hostEcho, 'listening');
    hostEchoPort = (hostEcho.address() as nodeNet.AddressInfo).port;

    toUs = await freeTcpPort();
    toNobody = await freeTcpPort();
    offNetwork = await freeTcpPort();
    fwd = spawnNode(
      [
        '--storage',
        path.join(dir, 'fwd'),
        '--planet',
        lab.info.planetPath,
        '--lab',
        '--join',
        nwid,
        '--verbose',
        `127.0.0.1:${toUs}=${ourIp}:7001`,
        `127.0.0.1:${toNobody}=${ourIp}:7009`,
        `127.0.0.1:${offNetwork}=10.250.0.1:80`,
        `zt:7002=127.0.0.1:${hostEchoPort}`,
      ],
      true,
      'forward',
    );
    await lab.authorize(nwid, await fwd.address());
    const joined = await fwd.waitFor((l) => l.event === 'network', 40_000);
    fwdIp = (joined['addresses'] as string[])[0]!.split('/')[0]!;
    await fwd.waitFor(
      (l) => l.event === 'forward' && l['rule'] === `zt:7002=127.0.0.1:${hostEchoPort}`,
    );
  }, 90_000);

  afterAll(async () => {
    await fwd?.stop();
    hostEcho?.close();
    await ref?.release();
    await lab?.close();
  });

  it('forwards host -> ZeroTier with half-close, and logs each connection', async () => {
    const c = nodeNet.createConnection({ host: '127.0.0.1', port: toUs, allowHalfOpen: true });
    await once(c, 'connect');
    expect(await exchange(c, ['hello ', 'over zerotier\n'])).toBe('hello over zerotier\n');
    // Half-close: our FIN crosses both legs; the echo server's FIN comes back.
    c.end();
    await once(c, 'end');
    await once(c, 'close');
    const closed = await fwd.waitFor(
      (l) => l.event === 'close' && l['rule'] === `127.0.0.1:${toUs}=${ourIp}:7001`,
    );
    expect(closed['bytesIn']).toBe(20);
    expect(closed['bytesOut']).toBe(20);
    expect(closed['error']).toBeUndefined();
    expect(fwd.lines.some((l) => l.event === 'open' && l['to'] === `${ourIp}:7001`)).toBe(true);
  });

  it('forwards ZeroTier -> host in the same process', async () => {
    const s = net.createConnection({ host: fwdIp, port: 7002 });
    await once(s, 'connect');
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.end('from the network');
    await once(s, 'close');
    expect(got).toBe('from the network');
  });

  it('adds no Nagle wait to small two-piece messages on either leg', async () => {
    const c = nodeNet.createConnection({ host: '127.0.0.1', port: toUs, noDelay: true });
    await once(c, 'connect');
    await exchange(c, ['warm', 'up\n']);
    const rounds = 20;
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) expect(await exchange(c, ['ab', 'cd\n'])).toBe('abcd\n');
    const msPerRound = Number(process.hrtime.bigint() - start) / 1e6 / rounds;
    console.log(`forward: ${msPerRound.toFixed(2)} ms per two-piece round trip (${rounds} rounds)`);
    c.destroy();
    // Nagle holds the second piece until the first is acknowledged, and a delayed ACK
    // takes 40 ms or more: well under that per round means nothing waits.
    expect(msPerRound).toBeLessThan(25);
  });

  it('reports a refused target on stderr and closes the client', async () => {
    const c = nodeNet.createConnection({ host: '127.0.0.1', port: toNobody });
    c.on('error', () => undefined);
    await once(c, 'close');
    await expect
      .poll(() => fwd.stderr, { timeout: 10_000 })
      .toMatch(new RegExp(`${ourIp}:7009 failed: ECONNREFUSED`));
  });

  it('reports a target no network reaches', async () => {
    const c = nodeNet.createConnection({ host: '127.0.0.1', port: offNetwork });
    c.on('error', () => undefined);
    await once(c, 'close');
    await expect
      .poll(() => fwd.stderr, { timeout: 10_000 })
      .toMatch(/10\.250\.0\.1:80 failed: EHOSTUNREACH/);
  });

  it('fails clearly when a port is in use', async () => {
    const busy = await runNode(
      [
        cliPath,
        'forward',
        '--storage',
        path.join(dir, 'busy'),
        '--planet',
        lab.info.planetPath,
        '--lab',
        `127.0.0.1:${toUs}=${ourIp}:7001`,
      ],
      { timeoutMs: 20_000 },
    );
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`127.0.0.1:${toUs} is already in use (EADDRINUSE)`);
  });

  it('rejects a bad rule with usage', async () => {
    const bad = await runNode([cliPath, 'forward', '--storage', dir, 'nonsense']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--forward nonsense: .*<listen>=<target>/);
  });
});
