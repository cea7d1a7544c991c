// Names on a lab network, end to end, with one lab for the whole file: member A in its own
// process, B (this process) resolving A's names through the network's DNS server (the
// lab's DNS member, over ZeroTier) and connecting by name with net, dgram, http and undici;
// PTR; names outside the domain; dig against the lab's 127.0.0.1 server; the resolve CLI;
// renames and deauthorization reaching the answers within a second.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket as createUdp } from 'node:dgram';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { createConnection as createTcp } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

import dnsPacket from 'dns-packet';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import {
  Identity,
  NodeService,
  dgram,
  lookup,
  net,
  runningLab,
  type LabHandle,
  type LabInfo,
  type NetworkLease,
  type NodeRef,
  type ResolvedAddress,
} from '../lib/index.js';
import { zeroTierTransport } from '../lib/dns/network-lookup.js';
import { DnsResolver } from '../lib/dns/resolver.js';
import { run, runNode } from './helpers/child.js';
import { eventually, nextEvent } from './helpers/events.js';
import { cliPath } from './helpers/paths.js';
import { startTestLab } from './helpers/lab.js';
import { suiteTempDir } from './helpers/tmp.js';

interface Line {
  event: string;
  [k: string]: unknown;
}

const DIG = ['/usr/bin/dig', '/bin/dig'].find((p) => existsSync(p));
const lookupAll = promisify(lookup) as unknown as (
  name: string,
  options: { all: true; family?: 0 | 4 | 6 },
) => Promise<ResolvedAddress[]>;

async function lookupCode(name: string): Promise<string | undefined> {
  try {
    await lookupAll(name, { all: true });
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

describe('names on a lab network', () => {
  let dir: string;
  let lab: LabHandle;
  let nwid: string;
  let peer: ChildProcess;
  const lines: Line[] = [];
  let a: { id: string; v4: string; v6: string };
  let ref: NodeRef;
  let lease: NetworkLease;
  const domain = 'dnstest.home.arpa';

  beforeAll(async () => {
    dir = suiteTempDir('zts-dns-');
    lab = await startTestLab(path.join(dir, 'lab'));
    // Through the CLI, as a person would: --dns names it <name>.home.arpa.
    const created = await runNode(
      [
        cliPath,
        'lab',
        'network',
        'create',
        '--dir',
        path.join(dir, 'lab'),
        '--name',
        'dnstest',
      ].concat(['--ipv4', '10.147.30.0/24', '--dns']),
    );
    expect(created.stderr).toBe('');
    nwid = created.stdout.trim();
    expect(
      (
        await lab.request('POST', `/controller/network/${nwid}`, {
          v6AssignMode: { rfc4193: true },
        })
      ).status,
    ).toBe(200);

    peer = spawn(
      process.execPath,
      [
        path.join(__dirname, 'helpers', 'dns-peer.cjs'),
        lab.info.planetPath,
        path.join(dir, 'a'),
        nwid,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let buf = '';
    peer.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) {
        lines.push(JSON.parse(buf.slice(0, nl)) as Line);
      }
    });
    const started = await eventually(() => lines.find((l) => l.event === 'started'), 20_000);
    const id = String(started['address']);
    await lab.request('POST', `/controller/network/${nwid}/member/${id}`, {
      authorized: true,
      name: 'alpha',
    });
    const ready = await eventually(() => lines.find((l) => l.event === 'ready'), 30_000);
    const ips = (ready['addresses'] as string[]).map((x) => x.split('/')[0]!);
    a = { id, v4: ips.find((x) => !x.includes(':'))!, v6: ips.find((x) => x.includes(':'))! };

    ref = await NodeService.acquire({
      storagePath: path.join(dir, 'b'),
      planet: lab.info.planetPath,
      lab: true,
    });
    await lab.authorize(nwid, ref.node.address);
    lease = await ref.node.join(nwid);
    await lease.ready({ timeoutMs: 30_000 });
    // The lab names its DNS member as the server once that member has its address.
    await eventually(async () => {
      await lease.info();
      return (lease.dns?.servers.length ?? 0) > 0;
    }, 30_000);
  }, 90_000);

  afterAll(async () => {
    await lease?.release();
    await ref?.release();
    peer?.kill('SIGTERM');
    await lab?.close();
  });

  it('puts the DNS setting on the lease and in lab status', async () => {
    const printed = await runNode([
      cliPath,
      'lab',
      'status',
      '--json',
      '--dir',
      path.join(dir, 'lab'),
    ]);
    const status = (JSON.parse(printed.stdout) as Required<LabInfo>).dns[nwid]!;
    expect(lease.dns).toEqual({ domain, servers: status.servers });
    expect(status).toMatchObject({ domain, host: '127.0.0.1' });
    expect(status.port).toBeGreaterThan(0);
  });

  it('resolves the id name and the member name to IPv4 and IPv6', async () => {
    const expected = [
      { address: a.v4, family: 4 },
      { address: a.v6, family: 6 },
    ];
    expect(await lookupAll(`zt-${a.id}.${domain}`, { all: true })).toEqual(expected);
    expect(await lookupAll(`ALPHA.${domain}`, { all: true })).toEqual(expected);
    expect(await lookupAll(`alpha.${domain}`, { all: true, family: 6 })).toEqual([expected[1]]);
    const one = await new Promise<[string, number]>((resolve, reject) =>
      lookup(`alpha.${domain}`, (err, address, family) =>
        err ? reject(err) : resolve([address, family]),
      ),
    );
    expect(one).toEqual([a.v4, 4]);
    expect(await lookupCode(`nobody.${domain}`)).toBe('ENOTFOUND');
    expect(await ref.node.names.reverse(a.v4)).toEqual([`alpha.${domain}`]);
    expect(await ref.node.names.reverse(a.v6)).toEqual([`alpha.${domain}`]);
  });

  it('asks again over TCP when the UDP answer is truncated', async () => {
    // A member with 14 IPv6 addresses: 14 AAAA records do not fit a plain 512-byte answer.
    const many = Array.from({ length: 14 }, (_, i) => `fd00:53::${(i + 1).toString(16)}`);
    await lab.request('POST', `/controller/network/${nwid}/member/0123456789`, {
      authorized: true,
      name: 'many',
      ipAssignments: many,
    });
    const before = (await lab.dnsCounters()).networks[nwid]!.truncated;
    const found = await lookupAll(`many.${domain}`, { all: true, family: 6 });
    // The 14 given, and the rfc4193 address every member has on this network.
    expect(found).toHaveLength(15);
    expect(found.map((x) => x.address)).toEqual(expect.arrayContaining(many));
    expect((await lab.dnsCounters()).networks[nwid]!.truncated).toBe(before + 1);
  });

  it('connects by name with net, dgram, http and undici', async () => {
    const host = `alpha.${domain}`;
    const s = net.createConnection({ host, port: 7000 });
    const looked = nextEvent<Error | null>(s, 'lookup');
    await nextEvent(s, 'connect');
    expect(await looked).toBeNull();
    expect(s.remoteAddress).toBe(a.v4);
    s.write('ping');
    expect(String(await nextEvent(s, 'data'))).toBe('ping');
    s.destroy();

    const udp = dgram.createSocket('udp4');
    const echoed = nextEvent<Buffer>(udp, 'message');
    udp.send('datagram', 7001, host);
    expect(String(await echoed)).toBe('datagram');
    udp.close();

    const body = await new Promise<string>((resolve, reject) => {
      const req = http.get(
        {
          host,
          port: 8080,
          path: '/http',
          createConnection: () => net.createConnection({ host, port: 8080 }),
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
    });
    expect(body).toBe(`hello from ${a.id} /http`);

    const agent = new Agent({
      connect: (opts, cb) => {
        const socket = net.createConnection({ host: opts.hostname, port: Number(opts.port) });
        socket.once('connect', () => cb(null, socket as never));
        socket.once('error', (e) => cb(e, null));
      },
    });
    const res = await request(`http://${host}:8080/undici`, { dispatcher: agent });
    expect(await res.body.text()).toBe(`hello from ${a.id} /undici`);
    await agent.close();
  });

  it('refuses names outside the domain without sending a packet', async () => {
    const before = (await lab.dnsCounters()).networks[nwid]!;
    // Every query opens a socket on the node's channel: none may be opened.
    const opened = vi.spyOn(ref.node.sockets, 'allocate');
    try {
      expect(await lookupCode('example.com')).toBe('ENOTFOUND');
      expect(await lookupCode('dnstest.home.arpa.example.com')).toBe('ENOTFOUND');
      const s = net.createConnection({ host: 'example.com', port: 80 });
      expect((await nextEvent<Error & { code: string }>(s, 'error')).code).toBe('ENOTFOUND');
      expect(opened).not.toHaveBeenCalled();
    } finally {
      opened.mockRestore();
    }
    // Asked directly, the network's server refuses it (it forwards nothing).
    const once = new DnsResolver(zeroTierTransport(ref.node), { tries: 1 });
    await expect(once.query('example.com', 'A', [lease.dns!.servers[0]!])).rejects.toMatchObject({
      code: 'EREFUSED',
    });
    // The server saw exactly that one query, and refused it.
    const after = (await lab.dnsCounters()).networks[nwid]!;
    expect(after.queries - before.queries).toBe(1);
    expect(after.refused - before.refused).toBe(1);
  });

  it.skipIf(DIG === undefined)('gives dig on 127.0.0.1 the same answers', async () => {
    const { port } = runningLab(path.join(dir, 'lab'))!.dns![nwid]!;
    const dig = async (...args: string[]) => {
      const r = await run(DIG!, ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args]);
      expect(r.code).toBe(0);
      return r.stdout;
    };
    expect((await dig('+short', `alpha.${domain}`, 'A')).trim()).toBe(a.v4);
    expect((await dig('+short', '+tcp', `zt-${a.id}.${domain}`, 'AAAA')).trim()).toBe(a.v6);
    expect((await dig('+short', '-x', a.v4)).trim()).toBe(`alpha.${domain}.`);
    expect((await dig('+short', '-x', a.v6)).trim()).toBe(`alpha.${domain}.`);
    expect(await dig(`nobody.${domain}`)).toMatch(/status: NXDOMAIN/);
    expect(await dig('example.com')).toMatch(/status: REFUSED/);
    expect(await dig(`alpha.${domain}`)).toMatch(/flags: qr aa rd;/);
  });

  it('stays up through malformed queries, a bad TCP frame and a flood', async () => {
    const { port } = runningLab(path.join(dir, 'lab'))!.dns![nwid]!;
    const udp = createUdp('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const replies: Buffer[] = [];
    udp.on('message', (m) => replies.push(m));
    const valid = dnsPacket.encode({
      type: 'query',
      id: 7,
      questions: [{ type: 'A', name: `alpha.${domain}` }],
    });
    // Garbage, then a burst of valid queries from the same source: the rate limit (per IP,
    // garbage included) answers the burst allowance and drops the rest.
    for (let i = 0; i < 40; i++) udp.send(randomBytes(1 + i * 7), port, '127.0.0.1');
    for (let i = 0; i < 400; i++) udp.send(valid, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 500));
    const answers = replies.filter((m) => m.readUInt16BE(0) === 7 && (m[3]! & 0xf) === 0);
    expect(answers.length).toBeGreaterThan(10);
    expect(answers.length).toBeLessThan(400);
    const counted = (await lab.dnsCounters()).local;
    expect(counted.dropped.rateLimited).toBeGreaterThan(0);
    expect(counted.formerr + counted.dropped.notQuery).toBeGreaterThan(0);
    expect(counted.answered).toBeGreaterThanOrEqual(answers.length);
    // A TCP frame claiming 60000 bytes is cut off; the server still answers afterwards.
    const tcp = createTcp({ host: '127.0.0.1', port });
    await new Promise<void>((r) => tcp.once('connect', () => r()));
    tcp.write(Buffer.from([0xea, 0x60, 1, 2, 3]));
    await new Promise<void>((r) => tcp.once('close', () => r()));
    expect((await lab.dnsCounters()).local.dropped.oversized).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 600)); // the bucket refills
    replies.length = 0;
    udp.send(valid, port, '127.0.0.1');
    await eventually(() => replies.find((m) => m.readUInt16BE(0) === 7), 5_000);
    udp.close();
  });

  it('resolves from the CLI', async () => {
    const storage = path.join(dir, 'c');
    const id = await Identity.generate();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(storage, { recursive: true });
    await id.writeFiles(
      path.join(storage, 'identity.secret'),
      path.join(storage, 'identity.public'),
    );
    await lab.authorize(nwid, id.address);
    const common = [
      '--network',
      nwid,
      '--storage',
      storage,
      '--planet',
      lab.info.planetPath,
      '--lab',
    ];
    const r = await runNode([cliPath, 'resolve', `alpha.${domain}`, ...common, '--json'], {
      timeoutMs: 40_000,
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      name: `alpha.${domain}`,
      addresses: [
        { address: a.v4, family: 4 },
        { address: a.v6, family: 6 },
      ],
    });
    // A name in no network's domain fails without a query. (Not a second query to the
    // server: the same identity restarted on a new port within 30 s is reached over its old
    // path until the root introduces the two again, which it does at most every 30 s.)
    const outside = await runNode([cliPath, 'resolve', 'example.com', ...common], {
      timeoutMs: 40_000,
    });
    expect(outside.code).toBe(1);
    expect(outside.stderr).toBe('example.com: ENOTFOUND\n');
  }, 60_000);

  it('follows renames, collisions and a deauthorization within a second', async () => {
    const changed = async (check: () => Promise<boolean>) => {
      const start = Date.now();
      await eventually(check, 5_000, 10);
      return Date.now() - start;
    };
    await lab.request('POST', `/controller/network/${nwid}/member/${a.id}`, { name: 'beta' });
    const renamed = await changed(
      async () =>
        (await lookupCode(`beta.${domain}`)) === undefined &&
        (await lookupCode(`alpha.${domain}`)) === 'ENOTFOUND',
    );
    expect(renamed).toBeLessThan(1000);
    expect(await ref.node.names.reverse(a.v4)).toEqual([`beta.${domain}`]);

    // A name two members want goes to neither and is reported (the DNS member is `dns`).
    await lab.request('POST', `/controller/network/${nwid}/member/${a.id}`, { name: 'dns' });
    const collision = await eventually(
      () => runningLab(path.join(dir, 'lab'))?.dns?.[nwid]?.collisions?.[0],
      5_000,
    );
    expect(collision.name).toBe(`dns.${domain}`);
    expect(collision.members).toContain(a.id);
    expect(collision.members).toHaveLength(2);
    expect(await lookupCode(`dns.${domain}`)).toBe('ENOTFOUND');

    await lab.deauthorize(nwid, a.id);
    const gone = await changed(
      async () => (await lookupCode(`zt-${a.id}.${domain}`)) === 'ENOTFOUND',
    );
    expect(gone).toBeLessThan(1000);
    expect(await lookupCode(`dns.${domain}`)).toBeUndefined(); // A's claim went with it
  });
});
