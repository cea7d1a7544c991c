// A process reaches its own ZeroTier addresses, as it reaches its own IPs through the
// kernel: a server and its client in one process, over IPv4 and IPv6, TCP and UDP. lwIP
// loops such packets back itself (LWIP_NETIF_LOOPBACK, driven by the engine).
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  NodeService,
  connect,
  dgram,
  listen,
  net,
  type LabHandle,
  type NetworkLease,
  type NodeRef,
} from '../lib/index.js';
import { startTestLab } from './helpers/lab.js';
import { suiteTempDir } from './helpers/tmp.js';

const ip = (cidr: string) => cidr.split('/')[0]!;

describe('a process talking to its own addresses', () => {
  let lab: LabHandle;
  let ref: NodeRef;
  let lease: NetworkLease;
  let ip4: string;
  let ip6: string;

  beforeAll(async () => {
    const dir = suiteTempDir('zts-self-');
    lab = await startTestLab(path.join(dir, 'lab'));
    const nwid = await lab.createNetwork({ name: 'selfnet', ipv4: ['10.147.19.0/24'] });
    await lab.request('POST', `/controller/network/${nwid}`, { v6AssignMode: { rfc4193: true } });
    ref = await NodeService.acquire({ planet: lab.info.planetPath, lab: true });
    await lab.authorize(nwid, ref.node.address);
    lease = await ref.node.join(nwid);
    const info = await lease.ready({ timeoutMs: 20_000, waitForAuthorization: true });
    ip4 = ip(info.addresses.find((a) => a.includes('.'))!);
    ip6 = ip(info.addresses.find((a) => a.startsWith('fd'))!);
  }, 60_000);

  afterAll(async () => {
    await lease?.release();
    await ref?.release();
    await lab?.close();
  });

  it.each([
    ['IPv4', () => ip4],
    ['IPv6', () => ip6],
  ])('connects to its own %s address and echoes both ways', async (_family, host) => {
    await using server = await listen({ port: 7200 });
    const accepted = server.accept({ timeoutMs: 5000 });
    const client = await connect({ host: host(), port: 7200, timeoutMs: 5000 });
    const peer = await accepted;
    expect(peer).not.toBeNull();
    expect(peer!.remoteAddress).toBe(host());
    await client.write('ping');
    expect((await peer!.read())?.toString()).toBe('ping');
    await peer!.write('pong');
    expect((await client.read())?.toString()).toBe('pong');
    client.destroy();
    peer!.destroy();
  });

  it('moves 8 MiB to itself intact through the net drop-in', async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const server = net.createServer((s) => s.pipe(s));
    await new Promise<void>((resolve) => server.listen(7201, resolve));
    try {
      const received = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let n = 0;
        const c = net.createConnection({ host: ip4, port: 7201 }, () => c.end(data));
        c.on('data', (d: Buffer) => {
          chunks.push(d);
          n += d.length;
          if (n >= data.length) {
            c.destroy();
            resolve(Buffer.concat(chunks));
          }
        });
        c.on('error', reject);
      });
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      expect(received.length).toBe(data.length);
      expect(sha(received)).toBe(sha(data));
    } finally {
      server.close();
    }
  });

  it('delivers every byte of a write whose callback ran before the socket was destroyed', async () => {
    // The callback runs once the engine holds the bytes (as Node's once the kernel does):
    // a destroy() then still sends them before the FIN, as the kernel would.
    const data = randomBytes(6 * 1024 * 1024);
    let received = 0;
    const done = new Promise<number>((resolve) => {
      const server = net.createServer((s) => {
        s.on('data', (d: Buffer) => (received += d.length));
        s.on('end', () => {
          server.close();
          resolve(received);
        });
      });
      server.listen(7203);
    });
    const c = net.createConnection({ host: ip4, port: 7203 }, () => {
      c.write(data, () => c.destroy());
    });
    expect(await done).toBe(data.length);
  });

  it('is refused on its own address where nothing listens', async () => {
    await expect(connect({ host: ip4, port: 7299, timeoutMs: 5000 })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('sends UDP datagrams to itself', async () => {
    const a = dgram.createSocket('udp4');
    const b = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => b.bind(7202, resolve));
    const got = new Promise<[Buffer, { address: string; port: number }]>((resolve) =>
      b.on('message', (m: Buffer, rinfo: { address: string; port: number }) => resolve([m, rinfo])),
    );
    a.send('to myself', 7202, ip4);
    const [msg, rinfo] = await got;
    expect(msg.toString()).toBe('to myself');
    expect(rinfo.address).toBe(ip4);
    a.close();
    b.close();
  });
});
