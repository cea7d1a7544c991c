// What keeps a process alive, as in Node: a running node does unless unref'd; then a
// bound dgram socket does until it is unref'd or closed. Each case runs in a child
// process whose own timers are unref'd, so only the node and its sockets can hold it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { runNode } from './helpers/child.js';
import { idlePlanet } from './helpers/lab.js';
import { repoRoot } from './helpers/paths.js';
import { tempDir } from './helpers/tmp.js';

async function runChild(body: string): Promise<{ code: number | null; lines: string[] }> {
  const dir = tempDir();
  const planet = path.join(dir, 'planet');
  writeFileSync(planet, await idlePlanet());
  const script = `
    const { NodeService, dgram } = require(${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))});
    const say = (s) => console.log(s);
    const later = (ms, f) => setTimeout(f, ms).unref(); // never holds the process itself
    (async () => {
      const ref = await NodeService.acquire({ planet: ${JSON.stringify(planet)}, lab: true });
      const node = ref.node;
      ${body}
    })();
    process.on('exit', () => say('exit'));
  `;
  const r = await runNode(['-e', script], { timeoutMs: 20_000 });
  return { code: r.code, lines: r.stdout.trim().split('\n') };
}

describe('keeping the process alive', () => {
  it('a running node does, until released', async () => {
    const r = await runChild(`later(300, () => { say('still here'); ref.release(); });`);
    expect(r).toEqual({ code: 0, lines: ['still here', 'exit'] });
  });

  it('an unref()d node does not', async () => {
    const r = await runChild(`node.unref(); later(1000, () => say('should not print'));`);
    expect(r).toEqual({ code: 0, lines: ['exit'] });
  });

  it('a bound dgram socket does, until unref()d; ref() takes it back', async () => {
    const r = await runChild(`
      node.unref();
      const s = dgram.createSocket('udp4');
      s.bind(0, () => say('bound'));
      later(300, () => {
        say('held by the socket');
        s.unref();
        s.ref(); // back: still held
        later(300, () => { say('held again'); s.unref(); });
      });
    `);
    expect(r).toEqual({ code: 0, lines: ['bound', 'held by the socket', 'held again', 'exit'] });
  });

  it("a listener's exception is an uncaught exception, and the node goes on", async () => {
    const r = await runChild(`
      process.on('uncaughtException', (e) => {
        say('uncaught ' + e.message);
        later(100, () => ref.release());
      });
      node.once('network-left', () => { throw new Error('boom'); });
      const lease = await node.join('aaaaaaaaaaaaaaaa');
      await lease.release();
    `);
    expect(r).toEqual({ code: 0, lines: ['uncaught boom', 'exit'] });
  });

  it('a closed or unbound dgram socket does not', async () => {
    const r = await runChild(`
      node.unref();
      dgram.createSocket('udp4'); // never bound
      const s = dgram.createSocket('udp4');
      s.bind(0, () => s.close(() => say('closed')));
      later(1000, () => say('should not print'));
    `);
    expect(r).toEqual({ code: 0, lines: ['closed', 'exit'] });
  });
});
