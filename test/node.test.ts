// The node on real UDP sockets: a root and a peer in child processes (one engine per
// process), our node in this process through NodeService.
import dgram from 'node:dgram';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { addon } from '../lib/native.js';
import { Identity, NodeService, classifyNat } from '../lib/index.js';
import { runNode } from './helpers/child.js';
import { eventually, nextEvent } from './helpers/events.js';
import { idlePlanet, spawnNode, startTestRoot, type TestRoot } from './helpers/lab.js';
import { freeLoopbackPort } from './helpers/ports.js';
import { suiteTempDir, tempDir } from './helpers/tmp.js';

describe('two nodes and a root on loopback', () => {
  let dir: string;
  let root: TestRoot;

  beforeAll(async () => {
    dir = suiteTempDir('zts-vl1-');
    root = await startTestRoot(dir, true);
  });

  it('come online, learn each other through the root, and ECHO relayed then direct', async () => {
    const peer = spawnNode([
      '--storage',
      path.join(dir, 'b'),
      '--planet',
      root.planetFile,
      '--lab',
    ]);
    const peerAddress = await peer.address();
    await peer.waitFor((l) => l.event === 'online');

    await using ref = await NodeService.acquire({
      storagePath: path.join(dir, 'a'),
      planet: root.planetFile,
      lab: true,
    });
    const node = ref.node;
    await node.waitOnline(5000);
    expect((await node.peers()).find((p) => p.address === peerAddress)).toBeUndefined();

    // The first ECHO has no direct path to take: WHOIS at the root, then relayed.
    const directPath = nextEvent<{ address: string }>(node, 'path', {
      filter: (p) => p.address === peerAddress,
    });
    const first = await node.echo(peerAddress, { timeoutMs: 5000 });
    expect(first).not.toBeNull();
    const rootStats = await root.process.waitFor(
      (l) => l.event === 'stats' && (l['relayed'] as number) > 0,
    );
    expect(rootStats['relayed']).toBeGreaterThan(0);

    // RENDEZVOUS from the root: the two greet each other directly.
    await directPath;
    await peer.waitFor((l) => l.event === 'path' && l.address === node.address);
    const peers = await node.peers();
    const b = peers.find((p) => p.address === peerAddress)!;
    expect(b.paths.some((p) => p.alive)).toBe(true);

    // Later ECHOs go direct: the root relays nothing more.
    await new Promise((r) => setTimeout(r, 250));
    const relayedBefore = root.process.lines.filter((l) => l.event === 'stats').at(-1)!['relayed'];
    for (let i = 0; i < 5; i++)
      expect(await node.echo(peerAddress, { timeoutMs: 2000 })).not.toBeNull();
    await new Promise((r) => setTimeout(r, 250));
    const relayedAfter = root.process.lines.filter((l) => l.event === 'stats').at(-1)!['relayed'];
    expect(relayedAfter).toBe(relayedBefore);

    const external = await node.externalAddresses();
    expect(external.reports.map((r) => r.address)).toContain(`127.0.0.1/${node.port}`);
    expect(external.nat).toBe('none');
  });

  it('counts dropped datagrams by reason and never lets them reach JS', async () => {
    await using ref = await NodeService.acquire({ planet: root.planetFile, lab: true });
    const node = ref.node;
    await node.waitOnline(5000);
    const sock = dgram.createSocket('udp4');
    const send = (b: Buffer) =>
      new Promise<void>((r) => sock.send(b, node.port, '127.0.0.1', () => r()));
    await send(Buffer.alloc(20)); // too short
    const forUs = Buffer.alloc(60, 7);
    Buffer.from(node.address, 'hex').copy(forUs, 8);
    Buffer.from(root.identity.address, 'hex').copy(forUs, 13);
    forUs[18] = 0x08; // cipher 1 from a known peer with a wrong MAC
    await send(forUs);
    const notForUs = Buffer.alloc(60, 9);
    await send(notForUs);
    sock.close();
    const counters = await eventually(async () => {
      const c = await node.counters();
      return (
        c.dropped['too_short']! >= 1 &&
        c.dropped['bad_mac']! >= 1 &&
        c.dropped['not_for_us']! >= 1 &&
        c
      );
    }, 3000);
    expect(counters.datagramsIn).toBeGreaterThanOrEqual(3);
  });
});

describe('node lifecycle', () => {
  let planet: Buffer;
  beforeAll(async () => {
    planet = await idlePlanet();
  });

  it('makes identity files on first start and keeps them', async () => {
    const dir = tempDir();
    const storage = path.join(dir, 'node');
    {
      await using ref = await NodeService.acquire({
        storagePath: storage,
        planet,
        lab: true,
        bindV6: '',
      });
      expect(existsSync(path.join(storage, 'identity.secret'))).toBe(true);
      const secret = Identity.parse(readFileSync(path.join(storage, 'identity.secret'), 'utf8'));
      expect(secret.address).toBe(ref.node.address);
    }
    const before = readFileSync(path.join(storage, 'identity.secret'), 'utf8');
    await using again = await NodeService.acquire({ storagePath: storage, planet, lab: true });
    expect(readFileSync(path.join(storage, 'identity.secret'), 'utf8')).toBe(before);
    expect(again.node.address).toBe(Identity.parse(before).address);
  });

  it('refuses lab mode without a custom planet, so a lab never reaches the internet', async () => {
    await expect(NodeService.acquire({ lab: true })).rejects.toMatchObject({
      code: 'ERR_ZT_LAB_NEEDS_PLANET',
    });
  });

  it('refuses a corrupt identity file and leaves it untouched', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'identity.secret');
    writeFileSync(file, 'not an identity');
    await expect(NodeService.acquire({ storagePath: dir, planet })).rejects.toMatchObject({
      code: 'ERR_ZT_CORRUPT_IDENTITY',
    });
    expect(readFileSync(file, 'utf8')).toBe('not an identity');
    expect(NodeService.node).toBeUndefined();
  });

  it('starts from an identity in memory, is shared by reference, and stops with the last user', async () => {
    const identity = await Identity.generate();
    const a = await NodeService.acquire({ identity, planet, lab: true });
    const b = await NodeService.acquire();
    expect(b.node).toBe(a.node);
    expect(a.node.address).toBe(identity.address);
    await expect(NodeService.acquire({ identity, planet, port: 1 })).rejects.toMatchObject({
      code: 'ERR_ZT_NODE_RUNNING',
    });
    await a.release();
    expect(b.node.closed).toBe(false);
    await b.release();
    expect(b.node.closed).toBe(true);
    await expect(b.node.counters()).rejects.toMatchObject({ code: 'ERR_ZT_NODE_CLOSED' });
    expect(NodeService.node).toBeUndefined();
  });

  it('allows one native node per process', async () => {
    await using ref = await NodeService.acquire({ planet, lab: true });
    const id = await Identity.generate();
    const second = { identity: id.toSecretString(), planet, lab: true };
    expect(() => new addon.NativeNode(second, () => undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_ZT_NODE_RUNNING' }),
    );
    expect(ref.node.address).toMatch(/^[0-9a-f]{10}$/);
  });

  it('reports a port already in use as EADDRINUSE', async () => {
    const port = await freeLoopbackPort();
    const holder = dgram.createSocket('udp4');
    await new Promise<void>((r) => holder.bind(port, '0.0.0.0', r));
    try {
      await expect(NodeService.acquire({ port, planet, lab: true })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      holder.close();
    }
  });

  it('a process that exits with its node running exits cleanly', async () => {
    const dir = tempDir();
    const script = path.join(dir, 'exit.cjs');
    writeFileSync(path.join(dir, 'planet'), planet);
    writeFileSync(
      script,
      `const { NodeService } = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'index.js'))});
       NodeService.acquire({ lab: true, planet: ${JSON.stringify(path.join(dir, 'planet'))} }).then((ref) => {
         console.log(ref.node.address);
         setTimeout(() => process.exit(0), 200);
       });`,
    );
    const r = await runNode([script], { timeoutMs: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^[0-9a-f]{10}$/);
  });
});

describe('classifyNat', () => {
  const local = new Set(['192.168.1.5']);
  it.each([
    [[], 'unknown'],
    [[{ address: '192.168.1.5/9993' }], 'none'],
    [[{ address: '203.0.113.7/40000' }], 'unknown'],
    [[{ address: '203.0.113.7/40000' }, { address: '203.0.113.7/40000' }], 'consistent'],
    [[{ address: '203.0.113.7/40000' }, { address: '203.0.113.7/40001' }], 'symmetric'],
  ] as const)('%j is %s', (reports, expected) => {
    expect(classifyNat([...reports], 9993, local)).toBe(expected);
  });
});
