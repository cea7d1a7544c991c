import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';

import { freeLoopbackPort } from './helpers/ports.js';

function bindUdp(port: number): Promise<dgram.Socket> {
  const udp = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, '127.0.0.1', () => resolve(udp));
  });
}

function listenTcp(port: number): Promise<net.Server> {
  const tcp = net.createServer();
  return new Promise((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(tcp));
  });
}

const closeAll = (handles: Array<dgram.Socket | net.Server>) =>
  Promise.all(handles.map((h) => new Promise<void>((resolve) => h.close(() => resolve()))));

describe('freeLoopbackPort', () => {
  it('gives a port below the ephemeral range that binds over UDP and TCP at once', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    const ports = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const port = await freeLoopbackPort();
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(low!);
      ports.add(port);
      // As a lab holds it: its root over UDP, its API over TCP.
      await closeAll([await bindUdp(port), await listenTcp(port)]);
    }
    // The search starts at random: twenty draws are not all one port.
    expect(ports.size).toBeGreaterThan(1);
  });

  it('passes over a port taken over TCP only, or over UDP only', async () => {
    // Ten ports in a row, free now; the search may start on any of them.
    let base = 0;
    for (;;) {
      base = await freeLoopbackPort();
      const probes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => listenTcp(base + i)),
      );
      await closeAll(probes.flatMap((p) => (p.status === 'fulfilled' ? [p.value] : [])));
      if (probes.every((p) => p.status === 'fulfilled')) break;
    }
    const held: Array<dgram.Socket | net.Server> = [];
    try {
      // Five taken over TCP, four over UDP, one free: every draw must be that one.
      for (let i = 0; i < 9; i++) held.push(await (i < 5 ? listenTcp : bindUdp)(base + i));
      for (let draw = 0; draw < 20; draw++) {
        expect(await freeLoopbackPort([base, base + 10])).toBe(base + 9);
      }
      held.push(await listenTcp(base + 9));
      await expect(freeLoopbackPort([base, base + 10])).rejects.toThrow(/no port/);
    } finally {
      await closeAll(held);
    }
  });
});
