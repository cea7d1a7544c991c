// The storage folder under misuse: a second process on it, two processes racing on an empty
// one, a holder killed with SIGKILL, damaged files (refused and left byte for byte), and
// state files written atomically (a writer killed at random moments leaves old or new).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { Identity, NodeService } from '../lib/index.js';
import { loadOrCreateIdentity } from '../lib/storage.js';
import { runNode } from './helpers/child.js';
import { idlePlanet, spawnNode } from './helpers/lab.js';
import { cliPath, repoRoot } from './helpers/paths.js';
import { tempDir } from './helpers/tmp.js';

async function planetFile(dir: string): Promise<string> {
  const file = path.join(dir, 'planet');
  writeFileSync(file, await idlePlanet());
  return file;
}

/** `zerotier-sockets node` on `storage`, run to its end (it ends at once when refused). */
function nodeCli(storage: string, planet: string) {
  return runNode([cliPath, 'node', '--json', '--storage', storage, '--planet', planet, '--lab'], {
    timeoutMs: 20_000,
  });
}

describe('one process per storage folder', () => {
  it('refuses a second process at once, naming the folder and the holder', async () => {
    const dir = tempDir();
    const storage = path.join(dir, 'node');
    const planet = await planetFile(dir);
    const first = spawnNode(['--storage', storage, '--planet', planet, '--lab']);
    const address = await first.address();

    const t0 = Date.now();
    const second = await nodeCli(storage, planet);
    expect(Date.now() - t0).toBeLessThan(10_000); // a process start, not a timeout
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`storage folder ${storage} is in use by another process`);
    expect(second.stderr).toContain(`pid ${first.child.pid}`);
    expect(second.stdout).toBe('');
    // The first one runs on, with the identity on disk.
    expect(first.child.exitCode).toBeNull();
    const onDisk = Identity.parse(readFileSync(path.join(storage, 'identity.secret'), 'utf8'));
    expect(onDisk.address).toBe(address);
  });

  it('is free again as soon as the holder dies, even by SIGKILL', async () => {
    const dir = tempDir();
    const storage = path.join(dir, 'node');
    const planet = await planetFile(dir);
    const first = spawnNode(['--storage', storage, '--planet', planet, '--lab']);
    const address = await first.address();
    const gone = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    await gone;
    const next = spawnNode(['--storage', storage, '--planet', planet, '--lab']);
    expect(await next.address()).toBe(address);
  });

  it('on an empty folder, of two processes started together one runs, with the identity on disk', async () => {
    const dir = tempDir();
    const storage = path.join(dir, 'node');
    const planet = await planetFile(dir);
    const a = spawnNode(['--storage', storage, '--planet', planet, '--lab']);
    const b = spawnNode(['--storage', storage, '--planet', planet, '--lab']);
    const exited = (p: typeof a) =>
      new Promise<number | null>((r) =>
        p.child.exitCode !== null ? r(p.child.exitCode) : p.child.once('exit', r),
      );
    // One of them is refused (exit 1); the other prints its address.
    const loser = await Promise.race([exited(a).then(() => a), exited(b).then(() => b)]);
    const winner = loser === a ? b : a;
    expect(loser.child.exitCode).toBe(1);
    expect(loser.stderr).toContain('is in use by another process');
    const address = await winner.address();
    const onDisk = Identity.parse(readFileSync(path.join(storage, 'identity.secret'), 'utf8'));
    expect(onDisk.address).toBe(address);
    expect(readFileSync(path.join(storage, 'identity.public'), 'utf8').trim()).toBe(
      onDisk.toString(),
    );
  });

  it('is shared within one process and released when the node stops', async () => {
    const dir = tempDir();
    const storage = path.join(dir, 'node');
    const planet = await planetFile(dir);
    {
      await using ref = await NodeService.acquire({ storagePath: storage, planet, lab: true });
      const other = await nodeCli(storage, planet);
      expect(other.code).toBe(1);
      expect(other.stderr).toContain(`pid ${process.pid}`);
      expect(ref.node.closed).toBe(false);
    }
    const child = spawnNode(['--storage', storage, '--planet', planet, '--lab']);
    await child.address();
  });
});

describe('damaged files in the storage folder', () => {
  it('refuses a truncated identity and leaves it byte for byte', async () => {
    const dir = tempDir();
    const storage = path.join(dir, 'node');
    const planet = await planetFile(dir);
    {
      await using ref = await NodeService.acquire({ storagePath: storage, planet, lab: true });
      expect(ref.node.address).toMatch(/^[0-9a-f]{10}$/);
    }
    const file = path.join(storage, 'identity.secret');
    const whole = readFileSync(file);
    for (const cut of [0, 10, whole.length - 20]) {
      const damaged = whole.subarray(0, cut);
      writeFileSync(file, damaged);
      await expect(NodeService.acquire({ storagePath: storage, planet })).rejects.toMatchObject({
        code: 'ERR_ZT_CORRUPT_IDENTITY',
        message: expect.stringContaining(file),
      });
      expect(readFileSync(file).equals(damaged)).toBe(true);
    }
    expect(NodeService.node).toBeUndefined();
  });

  it('refuses a damaged planet with one error naming it, and leaves it byte for byte', async () => {
    const dir = tempDir();
    const storage = path.join(dir, 'node');
    const good = readFileSync(await planetFile(dir));
    const file = path.join(storage, 'planet');
    for (const damaged of [
      good.subarray(0, good.length - 1),
      good.subarray(0, 8),
      Buffer.alloc(0),
    ]) {
      mkdirSync(storage, { recursive: true });
      writeFileSync(file, damaged);
      await expect(NodeService.acquire({ storagePath: storage, lab: true })).rejects.toMatchObject({
        code: 'ERR_ZT_CORRUPT_PLANET',
        message: `${file}: not a ZeroTier planet; refusing to start (the file is left as it is)`,
      });
      expect(readFileSync(file).equals(damaged)).toBe(true);
    }
    // The lock was released with the failed start.
    await using ref = await NodeService.acquire({
      storagePath: storage,
      planet: good,
      lab: true,
    });
    expect(ref.node.closed).toBe(false);
  });

  it('refuses a damaged cached network config and leaves it byte for byte', async () => {
    const dir = tempDir();
    const storage = path.join(dir, 'node');
    const planet = await planetFile(dir);
    await using ref = await NodeService.acquire({ storagePath: storage, planet, lab: true });
    const nwid = `${ref.node.address}000001`;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(storage, 'networks.d'));
    const file = path.join(storage, 'networks.d', `${nwid}.conf`);
    for (const damaged of [
      Buffer.alloc(0),
      Buffer.from('nwid=12\nr=2\n'),
      Buffer.from([0xff, 0]),
    ]) {
      writeFileSync(file, damaged);
      await expect(ref.node.join(nwid)).rejects.toMatchObject({
        code: 'ERR_ZT_CORRUPT_NETWORK_CONFIG',
        message: expect.stringContaining(file),
      });
      expect(readFileSync(file).equals(damaged)).toBe(true);
      expect(await ref.node.networks()).toEqual([]); // nothing joined
    }
  });
});

// A child that writes state files over and over the way the package does (identity on a
// fresh folder, a cached network config, a lab-state-sized JSON), killed at random moments.
const writerScript = `
const path = require('node:path');
const { writeFileAtomic, loadOrCreateIdentity } = require(${JSON.stringify(path.join(repoRoot, 'dist', 'storage.js'))});
const { writeCachedConfig } = require(${JSON.stringify(path.join(repoRoot, 'dist', 'network.js'))});
const [dir] = process.argv.slice(1);
require('node:fs').mkdirSync(dir, { recursive: true });
(async () => {
  process.stdout.write('go\\n');
  loadOrCreateIdentity(path.join(dir, 'fresh')).catch(() => undefined);
  for (let i = 0; ; i++) {
    const fill = String.fromCharCode(97 + (i % 26));
    const doc = JSON.stringify({ i, pad: fill.repeat(256 * 1024) });
    await writeFileAtomic(path.join(dir, 'controller.json'), doc);
    await writeCachedConfig(dir, 'ffffffffff000001', Buffer.from(fill.repeat(64 * 1024)));
  }
})();
`;

describe('state files under SIGKILL', () => {
  it('are always whole: old or new content, never half', async () => {
    const dir = tempDir();
    for (let round = 0; round < 12; round++) {
      const work = path.join(dir, String(round));
      const child = spawn(process.execPath, ['-e', writerScript, work], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise((r) => child.stdout.once('data', r));
      mkdirSync(work, { recursive: true });
      // Anywhere from before the first write to well into the loop.
      await new Promise((r) => setTimeout(r, Math.random() * 400));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;

      if (existsSync(path.join(work, 'controller.json'))) {
        const doc = JSON.parse(readFileSync(path.join(work, 'controller.json'), 'utf8')) as {
          i: number;
          pad: string;
        };
        expect(doc.pad).toBe(String.fromCharCode(97 + (doc.i % 26)).repeat(256 * 1024));
      }
      const cache = path.join(work, 'networks.d', 'ffffffffff000001.conf');
      if (existsSync(cache)) {
        const text = readFileSync(cache, 'utf8');
        expect(text.length).toBe(64 * 1024);
        expect(new Set(text).size).toBe(1);
      }
      // A fresh folder holds no identity, or a whole one the next start accepts.
      const fresh = path.join(work, 'fresh');
      const id = await loadOrCreateIdentity(fresh);
      expect(await id.validate()).toBe(true);
    }
  }, 60_000);
});
