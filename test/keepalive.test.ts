// ref/unref decide whether the node, a server or a socket keeps the process alive.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';

import { idlePlanet } from './helpers/lab.js';
import { ScriptProcess } from './helpers/script.js';
import { tempDir } from './helpers/tmp.js';

async function child(mode: string): Promise<{ p: ScriptProcess; exited: Promise<number | null> }> {
  const dir = tempDir('zts-keepalive-');
  const planet = path.join(dir, 'planet');
  writeFileSync(planet, await idlePlanet());
  const p = new ScriptProcess(path.join(__dirname, 'helpers', 'keepalive-child.cjs'), [
    mode,
    path.join(dir, 'node'),
    planet,
  ]);
  onTestFinished(() => p.stop());
  const exited = new Promise<number | null>((resolve) => p.child.once('exit', (c) => resolve(c)));
  return { p, exited };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ref and unref', () => {
  it("an unref'd node with nothing open lets the process end", async () => {
    const { p, exited } = await child('node-unref');
    await p.waitFor((l) => l.event === 'unref');
    expect(await exited).toBe(0);
  });

  it("a listening server holds the process until it is unref'd", async () => {
    const { p, exited } = await child('server-holds');
    await p.waitFor((l) => l.event === 'listening');
    await sleep(500);
    expect(p.child.exitCode).toBeNull();
    expect(await exited).toBe(0);
    // It ended only after the server let go.
    expect(p.lines.map((l) => l.event)).toEqual(['listening', 'unref']);
  });

  it("a ref'd node holds the process even when its server is unref'd", async () => {
    const { p } = await child('server-unref-only');
    await p.waitFor((l) => l.event === 'listening');
    await sleep(1500);
    expect(p.child.exitCode).toBeNull();
  });
});
