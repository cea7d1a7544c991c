// Networks end to end on loopback: a lab (root + controller, its own process), a peer in
// another process, and this process's node. Private networks with IPv4, TCP both ways
// and UDP; access denied and revoked; a restart that rejoins from the cached config; the
// lab's API and its restart; an ad-hoc network over IPv6.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { NodeService, connect, dgram, listen, startLab, type LabHandle } from '../lib/index.js';
import { eventually } from './helpers/events.js';
import { onLines } from './helpers/child.js';
import { startTestLab } from './helpers/lab.js';
import { suiteTempDir, tempDir } from './helpers/tmp.js';

interface Line {
  event: string;
  [k: string]: unknown;
}

class Peer {
  readonly lines: Line[] = [];
  readonly child: ChildProcess;
  constructor(planet: string, storage: string, nwid: string) {
    this.child = spawn(
      process.execPath,
      [path.join(__dirname, 'helpers', 'peer-node.cjs'), planet, storage, nwid],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    onLines(this.child.stdout!, (line) => this.lines.push(JSON.parse(line) as Line));
  }
  waitFor(match: (l: Line) => boolean, timeoutMs = 20_000): Promise<Line> {
    return eventually(() => this.lines.find(match), timeoutMs);
  }
  /** Its addresses on the network, once it is ready. */
  async addresses(): Promise<string[]> {
    return (await this.waitFor((l) => l.event === 'ready'))['addresses'] as string[];
  }
  async ipv4(): Promise<string> {
    return ip((await this.addresses()).find((a) => a.includes('.')));
  }
  send(cmd: unknown): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }
  stop(): void {
    this.child.kill('SIGTERM');
  }
}

const ip = (cidr: unknown) => String(cidr).split('/')[0]!;

describe('a private network from the lab', () => {
  let dir: string;
  let lab: LabHandle;
  let nwid: string;
  let peer: Peer;
  let peerAddress: string;
  // What the node on storage 'a' had, for the restart test to compare with.
  let firstRun: { address: string; addresses: string[] } | undefined;

  beforeAll(async () => {
    dir = suiteTempDir('zts-net-');
    lab = await startTestLab(path.join(dir, 'lab'));
    nwid = await lab.createNetwork({ name: 'testnet', ipv4: ['10.147.17.0/24'] });
    // IPv6 too: rfc4193 addresses derived from the network and member ids.
    const v6 = await lab.request('POST', `/controller/network/${nwid}`, {
      v6AssignMode: { rfc4193: true },
    });
    expect(v6.status).toBe(200);
    peer = new Peer(lab.info.planetPath, path.join(dir, 'peer'), nwid);
    peerAddress = String((await peer.waitFor((l) => l.event === 'started'))['address']);
    await lab.authorize(nwid, peerAddress);
    await peer.waitFor((l) => l.event === 'ready', 30_000);
  }, 60_000);

  afterAll(async () => {
    peer?.stop();
    await lab?.close();
  });

  it('gives both members addresses and carries TCP both ways and UDP', async () => {
    const storage = path.join(dir, 'a');
    await using ref = await NodeService.acquire({
      storagePath: storage,
      planet: lab.info.planetPath,
      lab: true,
    });
    await lab.authorize(nwid, ref.node.address);
    // Not `using`: leaving the network would delete the cached config this test checks.
    const lease = await ref.node.join(nwid);
    const info = await lease.ready({ timeoutMs: 20_000, waitForAuthorization: true });
    firstRun = { address: ref.node.address, addresses: info.addresses };
    expect(info.status).toBe('OK');
    expect(info.name).toBe('testnet');
    expect(info.addresses).toContainEqual(expect.stringMatching(/^10\.147\.17\.\d+\/24$/));
    expect(info.addresses).toContainEqual(expect.stringMatching(/^fd[0-9a-f:]+\/88$/));
    const peerIp = await peer.ipv4();
    const peerIp6 = ip((await peer.addresses()).find((a) => a.startsWith('fd')));

    // TCP from us to the peer.
    const sock = await connect({ host: peerIp, port: 7000, timeoutMs: 10_000 });
    await sock.write('hello over zerotier');
    let echoed = '';
    while (echoed.length < 19) echoed += (await sock.read())?.toString() ?? '';
    expect(echoed).toBe('hello over zerotier');
    sock.destroy();

    // And over IPv6 (neighbour discovery emulated: nobody would answer a solicitation).
    const sock6 = await connect({ host: peerIp6, port: 7000, timeoutMs: 10_000 });
    await sock6.write('v6');
    expect((await sock6.read())?.toString()).toBe('v6');
    sock6.destroy();

    // TCP from the peer to us.
    await using server = await listen({ port: 7100 });
    peer.send({
      connect: ip(info.addresses.find((a) => a.includes('.'))),
      port: 7100,
      text: 'and back',
    });
    const incoming = await server.accept({ timeoutMs: 10_000 });
    expect(incoming).not.toBeNull();
    const got = await incoming!.read();
    expect(got?.toString()).toBe('and back');
    await incoming!.write(got!);
    await peer.waitFor((l) => l.event === 'connected-echo');

    // UDP.
    const udp = dgram.createSocket('udp4');
    const reply = new Promise<Buffer>((resolve) => udp.on('message', (m: Buffer) => resolve(m)));
    udp.send('datagram', 7001, peerIp);
    expect((await reply).toString()).toBe('datagram');
    udp.close();

    // The config was cached for the next start, and stays when the node stops.
    expect(existsSync(path.join(storage, 'networks.d', `${nwid}.conf`))).toBe(true);
    await ref.release();
    await lease.release();
    expect(existsSync(path.join(storage, 'networks.d', `${nwid}.conf`))).toBe(true);
  });

  it('denies a member the controller has not authorized', async () => {
    await using ref = await NodeService.acquire({ planet: lab.info.planetPath, lab: true });
    await using lease = await ref.node.join(nwid);
    await expect(lease.ready({ timeoutMs: 20_000 })).rejects.toMatchObject({
      code: 'ERR_ZT_NETWORK_ACCESS_DENIED',
    });
    const members = await lab.members(nwid);
    expect(Object.keys(members)).toContain(ref.node.address);
    expect((await lab.member(nwid, ref.node.address))['authorized']).toBe(false);
  });

  it('cuts a deauthorized member off within 5 s', async () => {
    await using ref = await NodeService.acquire({ planet: lab.info.planetPath, lab: true });
    await lab.authorize(nwid, ref.node.address);
    await using lease = await ref.node.join(nwid);
    await lease.ready({ timeoutMs: 20_000, waitForAuthorization: true });
    const peerIp = await peer.ipv4();
    const before = await connect({ host: peerIp, port: 7000, timeoutMs: 10_000 });
    before.destroy();

    const t0 = Date.now();
    await lab.deauthorize(nwid, peerAddress);
    await peer.waitFor((l) => l.event === 'status' && l['status'] === 'ACCESS_DENIED', 5000);
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect(connect({ host: peerIp, port: 7000, timeoutMs: 2000 })).rejects.toMatchObject({
      code: 'ETIMEDOUT',
    });
    await lab.authorize(nwid, peerAddress);
  });

  // Issue 11: a restarted node reaches a peer it talked to before within 500 ms. The peer
  // still holds a path to the old process (another UDP port) that counts as alive for 19 s;
  // what we send now comes from the new one, and the answers must come back there.
  it('a restarted node reaches a peer it talked to before at once', async () => {
    const peerIp = await peer.ipv4();
    const started = performance.now();
    await using ref = await NodeService.acquire({
      storagePath: path.join(dir, 'a'),
      planet: lab.info.planetPath,
      lab: true,
    });
    const lease = await ref.node.join(nwid);
    await lease.ready({ timeoutMs: 5000 });
    const ready = performance.now();
    const sock = await connect({ host: peerIp, port: 7000, timeoutMs: 10_000 });
    await sock.write('again');
    expect((await sock.read())?.toString()).toBe('again');
    const echoed = performance.now();
    sock.destroy();
    // The node first, as above: leaving the network would delete the cached config.
    await ref.release();
    await lease.release();
    console.log(
      `restart: ready ${Math.round(ready - started)} ms, first echo ${Math.round(echoed - ready)} ms later`,
    );
    // Tens of ms here (the figure above; it was 1-2 s, at ARP's retry, and at worst 15 s);
    // the target is 500 ms, and a loaded CI machine gets some slack beyond it.
    expect(echoed - ready).toBeLessThan(1000);
  });

  it('rejoins from the cached config after a restart, even with the controller gone', async () => {
    const storage = path.join(dir, 'a');
    const labDir = lab.info.dir;
    await lab.close();
    {
      await using ref = await NodeService.acquire({
        storagePath: storage,
        planet: path.join(labDir, 'planet'),
        lab: true,
      });
      await using lease = await ref.node.join(nwid);
      const info = await lease.ready({ timeoutMs: 5000 });
      expect(info.addresses[0]).toMatch(/^10\.147\.17\./);
      // The same node, with the same addresses, from its folder and the cache alone.
      expect(firstRun).toBeDefined();
      expect(ref.node.address).toBe(firstRun!.address);
      expect([...info.addresses].sort()).toEqual([...firstRun!.addresses].sort());
    }
    // The lab comes back from its folder with the same network, members and addresses.
    lab = await startLab({ dir: labDir, port: lab.info.port });
    const network = await lab.network(nwid);
    expect(network['name']).toBe('testnet');
    const member = await lab.member(nwid, peerAddress);
    expect(member['authorized']).toBe(true);
    expect((member['ipAssignments'] as string[]).length).toBe(1);
  });

  it('a new node reaches an existing one within seconds of a quick root restart', async () => {
    // A root restarted at once knows no one, and its path still looks alive to the peer for
    // 19 s: the peer's unanswered echo (every 2 s) makes it greet the root again.
    const peerIp = await peer.ipv4();
    const { dir: labDir, port } = lab.info;
    await lab.close();
    lab = await startLab({ dir: labDir, port });
    const back = performance.now();
    await using ref = await NodeService.acquire({
      storagePath: tempDir('zts-net-new-'),
      planet: lab.info.planetPath,
      lab: true,
    });
    await lab.authorize(nwid, ref.node.address);
    await using lease = await ref.node.join(nwid);
    await lease.ready({ timeoutMs: 10_000, waitForAuthorization: true });
    const sock = await connect({ host: peerIp, port: 7000, timeoutMs: 15_000 });
    await sock.write('new');
    expect((await sock.read())?.toString()).toBe('new');
    const echoed = performance.now() - back;
    sock.destroy();
    console.log(
      `root restart: a new node's first echo from the peer ${Math.round(echoed)} ms after`,
    );
    // Target 5 s (about 3 s measured); before, up to 19 s. Slack for a loaded machine.
    expect(echoed).toBeLessThan(10_000);
  }, 40_000);

  it('refuses bad API requests and changes nothing', async () => {
    const before = await lab.network(nwid);
    const cases: Array<[string, string, unknown, number]> = [
      ['POST', `/controller/network/${nwid}`, '{not json', 400],
      ['POST', `/controller/network/${nwid}`, { private: 'yes' }, 400],
      ['POST', `/controller/network/${nwid}`, { mtu: 'big' }, 400],
      ['GET', `/controller/network/${lab.info.controllerAddress}ffffff`, undefined, 404],
      ['POST', `/controller/network/${nwid}/member/zzzz`, { authorized: true }, 400],
      ['POST', `/controller/network/${nwid}/member/${peerAddress}`, { authorized: 'sure' }, 400],
    ];
    for (const [method, p, body, status] of cases) {
      const r = await lab.request(method, p, body);
      expect(r.status, `${method} ${p}`).toBe(status);
    }
    const unauth = await fetch(`${lab.info.apiUrl}/network/${nwid}`);
    expect(unauth.status).toBe(401);
    const wrong = await fetch(`${lab.info.apiUrl}/network/${nwid}`, {
      headers: { 'x-zt1-auth': 'nope' },
    });
    expect(wrong.status).toBe(401);
    expect(await lab.network(nwid)).toEqual(before);
  });
});

describe('an ad-hoc network', () => {
  it('carries TCP over IPv6 within its port range', async () => {
    const dir = tempDir('zts-adhoc-');
    const lab = await startTestLab(path.join(dir, 'lab'));
    const adhoc = 'ff00500050000000'; // port 80 only
    const peer = new Peer(lab.info.planetPath, path.join(dir, 'peer'), adhoc);
    try {
      // The peer's echo server is on 7000, outside the range: make our own on 80.
      const ready = await peer.waitFor((l) => l.event === 'ready', 30_000);
      await using ref = await NodeService.acquire({ planet: lab.info.planetPath, lab: true });
      await using lease = await ref.node.join(adhoc);
      const info = await lease.ready({ timeoutMs: 10_000 });
      expect(info.addresses[0]).toMatch(/^fc/);
      await using server = await listen({ port: 80 });
      peer.send({ connect: ip(info.addresses[0]), port: 80, text: 'ipv6 adhoc' });
      const s = await server.accept({ timeoutMs: 10_000 });
      expect((await s!.read())?.toString()).toBe('ipv6 adhoc');
      await s!.write('ipv6 adhoc');
      await peer.waitFor((l) => l.event === 'connected-echo');
      // Outside the range the rules drop the SYN: the connect times out.
      await expect(
        connect({ host: ip((ready['addresses'] as string[])[0]), port: 7000, timeoutMs: 1500 }),
      ).rejects.toMatchObject({
        code: 'ETIMEDOUT',
      });
    } finally {
      peer.stop();
      await lab.close();
    }
  }, 60_000);
});
