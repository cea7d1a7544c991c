// dgram behaviours that only a ZeroTier network shows (node:dgram on loopback cannot):
// broadcast to the network's members once setBroadcast allows it, multicast groups both
// ways, send rate limits
// honoured by waiting (every datagram still arrives), and the UDP metrics.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { dgram, type NodeRef, type UdpSocket } from '../lib/index.js';
import { eventually } from './helpers/events.js';
import { joinHere, startAuthorizedPeer, startLabNetwork } from './helpers/lab-network.js';
import { suiteTempDir } from './helpers/tmp.js';

function bound(s: UdpSocket): Promise<void> {
  return new Promise((resolve) => s.bind(0, resolve));
}

describe('dgram on a ZeroTier network', () => {
  let peerIp: string;
  let echoPort: number;
  let controlPort: number;
  let groupPort: number;
  let myIp: string;
  let ref: NodeRef;

  beforeAll(async () => {
    const dir = suiteTempDir('zts-dgram-zt-');
    const { lab, nwid } = await startLabNetwork(dir, '10.147.24.0/24');
    const peer = await startAuthorizedPeer(
      lab,
      nwid,
      path.join(__dirname, 'conformance', 'dgram-peer.cjs'),
      ['zt', lab.info.planetPath, path.join(dir, 'peer'), nwid],
    );
    ({ ref, ip: myIp } = await joinHere(lab, nwid, path.join(dir, 'here')));
    const ready = await peer.waitFor((l) => l.event === 'ready', 60_000);
    peerIp = String(ready['host']);
    echoPort = Number(ready['echoPort']);
    controlPort = Number(ready['controlPort']);
    groupPort = Number(ready['groupPort']);
  }, 120_000);

  it('broadcasts to the members once setBroadcast(true), and refuses before', async () => {
    const s = dgram.createSocket('udp4');
    await bound(s);
    const refused = await new Promise<Error | null>((resolve) =>
      s.send('all', echoPort, '10.147.24.255', resolve),
    );
    expect(refused).toMatchObject({ code: 'EACCES', syscall: 'send', address: '10.147.24.255' });
    s.setBroadcast(true);
    const echoed = new Promise<[Buffer, { address: string }]>((resolve) =>
      s.once('message', (m: Buffer, r: { address: string }) => resolve([m, r])),
    );
    s.send('all', echoPort, '10.147.24.255');
    const [msg, rinfo] = await echoed;
    expect(msg.toString()).toBe('all');
    expect(rinfo.address).toBe(peerIp);
    s.close();
  });

  it('sends to a multicast group the peer joined', async () => {
    const s = dgram.createSocket('udp4');
    await bound(s);
    const echoed = new Promise<[Buffer, { address: string }]>((resolve) =>
      s.once('message', (m: Buffer, r: { address: string }) => resolve([m, r])),
    );
    s.send('to the group', groupPort, '239.1.2.3');
    const [msg, rinfo] = await echoed;
    expect(msg.toString()).toBe('to the group');
    expect(rinfo.address).toBe(peerIp);
    s.close();
  });

  it('joins a group, hears it, and stops hearing it once dropped', async () => {
    const s = dgram.createSocket('udp4');
    await bound(s);
    const port = s.address().port;
    const heard: string[] = [];
    s.on('message', (m: Buffer, r: { address: string }) => heard.push(`${m} from ${r.address}`));
    s.addMembership('239.1.2.4');
    expect(() => s.addMembership('239.1.2.4')).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE', syscall: 'addMembership' }),
    );
    expect(() => s.addMembership('239.1.2.5', '10.9.9.9')).toThrow(
      expect.objectContaining({ code: 'ENODEV' }),
    );
    expect(() => s.addMembership('239.1.2.5', 'nonsense')).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    s.addMembership('239.1.2.5', myIp);
    s.setMulticastInterface(myIp);
    s.setMulticastInterface('0.0.0.0');
    expect(() => s.setMulticastInterface('10.9.9.9')).toThrow(
      expect.objectContaining({ code: 'EADDRNOTAVAIL', syscall: 'setMulticastInterface' }),
    );

    // The peer sends to the group (its control socket answers "sent" afterwards).
    const asker = dgram.createSocket('udp4');
    const ask = async (group: string) => {
      const sent = new Promise((resolve) => asker.once('message', resolve));
      asker.send(`group ${port} ${group}`, controlPort, peerIp);
      await sent;
    };
    await ask('239.1.2.4');
    await eventually(() => heard.length === 1, 10_000);
    expect(heard).toEqual([`to-group from ${peerIp}`]);

    s.dropMembership('239.1.2.4');
    expect(() => s.dropMembership('239.1.2.4')).toThrow(
      expect.objectContaining({ code: 'EADDRNOTAVAIL', syscall: 'dropMembership' }),
    );
    await ask('239.1.2.4');
    await ask('239.1.2.5'); // still a member of this one
    await eventually(() => heard.length === 2, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(heard).toEqual([`to-group from ${peerIp}`, `to-group from ${peerIp}`]);
    asker.close();
    s.close();
  });

  it('holds sends to a rate limit by waiting, never dropping, and counts the bytes', async () => {
    const s = dgram.createSocket('udp4');
    await bound(s);
    s.setRateLimit({ send: 20_000 });
    const got: string[] = [];
    s.on('message', (m: Buffer) => got.push(m.subarray(0, 2).toString()));
    const sent: Array<Promise<number | undefined>> = [];
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) {
      const payload = Buffer.alloc(1000, 0x20);
      payload.write(String(i).padStart(2, '0'));
      sent.push(
        new Promise((resolve, reject) =>
          s.send(payload, echoPort, peerIp, (e, n) => (e ? reject(e) : resolve(n))),
        ),
      );
    }
    expect(s.getSendQueueCount()).toBeGreaterThan(0);
    expect(s.getSendQueueSize()).toBeGreaterThan(0);
    expect(await Promise.all(sent)).toEqual(Array(10).fill(1000));
    // 10 kB at 20 kB/s: the last leaves after most of half a second.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(s.getSendQueueSize()).toBe(0);
    await eventually(() => got.length === 10, 10_000);
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => String(i).padStart(2, '0')));
    const m = s.metrics();
    expect(m).toMatchObject({ bytesOut: 10_000, bytesIn: 10_000 });
    expect(m.limits).toEqual({ send: 20_000, receive: Infinity });
    expect(ref.node.metrics().sockets.udp).toBeGreaterThanOrEqual(1);
    s.close();
  });

  it('holds received datagrams to a limit up to the receive buffer, dropping past it', async () => {
    const s = dgram.createSocket('udp4');
    await bound(s);
    s.setRecvBufferSize(500); // reported doubled, as Linux does: 1000 bytes may wait
    expect(s.getRecvBufferSize()).toBe(1000);
    // One datagram passes at once, one waits (a second), the rest find the buffer full.
    s.setRateLimit({ receive: 1000 });
    const got: number[] = [];
    s.on('message', (m: Buffer) => got.push(m[0]!));
    for (let i = 0; i < 10; i++) s.send(Buffer.alloc(1000, i), echoPort, peerIp);
    await eventually(() => got.length + s.metrics().dropped === 10, 10_000);
    const { dropped } = s.metrics();
    expect(dropped).toBeGreaterThan(0);
    expect(got.length).toBeGreaterThanOrEqual(2);
    // What was let through came in order.
    expect([...got].sort((a, b) => a - b)).toEqual(got);
    expect(s.metrics().bytesIn).toBe(got.length * 1000);
    s.close();
  });
});
