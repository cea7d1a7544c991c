// The lab process's life: a port taken (fails at once, naming it, leaving no process), a
// damaged state file (refused, left byte for byte), and SIGKILL in the middle of a burst of
// writes (every change answered 2xx is there after the restart).
import { createServer } from 'node:net';
import dgram from 'node:dgram';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { runningLab, startLab } from '../lib/index.js';
import { eventually } from './helpers/events.js';
import { freeLoopbackPort } from './helpers/ports.js';
import { tempDir } from './helpers/tmp.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of processes whose command line mentions `dir` (a lab started on it). */
function processesOn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function expectFailsAtOnce(dir: string, port: number, message: string): Promise<void> {
  const t0 = Date.now();
  await expect(startLab({ dir, port, timeoutMs: 60_000 })).rejects.toThrow(message);
  // At once: a process start, not the 60 s timeout.
  expect(Date.now() - t0).toBeLessThan(15_000);
  expect(runningLab(dir)).toBeUndefined();
  expect(processesOn(dir)).toEqual([]);
}

describe('a lab that cannot start', () => {
  it('fails at once when its UDP port is taken, naming it, and leaves no process', async () => {
    const dir = path.join(tempDir(), 'lab');
    const port = await freeLoopbackPort();
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(port, '127.0.0.1', r));
    try {
      await expectFailsAtOnce(dir, port, `the lab's UDP port 127.0.0.1:${port} is in use`);
    } finally {
      squatter.close();
    }
    // Nothing held: the same folder starts a lab on the port now free.
    const lab = await startLab({ dir, port });
    await lab.close();
  });

  it('fails at once when its API port is taken, naming it, and leaves no process', async () => {
    const dir = path.join(tempDir(), 'lab');
    const port = await freeLoopbackPort();
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', r));
    try {
      await expectFailsAtOnce(dir, port, `the lab's API port 127.0.0.1:${port} (TCP) is in use`);
    } finally {
      squatter.close();
    }
    const lab = await startLab({ dir, port });
    await lab.close();
  });

  it('refuses a damaged state file and leaves it byte for byte', async () => {
    const dir = path.join(tempDir(), 'lab');
    const port = await freeLoopbackPort();
    const lab = await startLab({ dir, port });
    await lab.createNetwork({ name: 'kept' });
    await lab.close();
    const file = path.join(dir, 'controller.json');
    const whole = readFileSync(file);
    expect(whole.toString()).toMatch(/"version":\s*1/);
    for (const damaged of [
      whole.subarray(0, whole.length / 2),
      Buffer.from(whole.toString().replace(/"version":\s*1/, '"version":7')),
      // A network of another controller.
      Buffer.from(whole.toString().replace(/"id":\s*"[0-9a-f]{10}/, '"id":"0000000001')),
    ]) {
      writeFileSync(file, damaged);
      await expectFailsAtOnce(dir, port, `${file}: `);
      expect(readFileSync(file).equals(damaged)).toBe(true);
    }
  });
});

describe('a lab killed in the middle of a burst of writes', () => {
  it('keeps every change it answered 2xx to', async () => {
    const dir = path.join(tempDir(), 'lab');
    const port = await freeLoopbackPort();
    const first = await startLab({ dir, port });
    const network = await first.createNetwork({ name: 'burst' });
    await first.close();
    for (let round = 0; round < 3; round++) {
      const lab = await startLab({ dir, port });
      const acked: Array<{ member: string; name: string }> = [];
      let stop = false;
      // 8 writers, each creating members one after the other.
      const writers = Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          const member = (0x2000000000 + round * 0x1000000 + w * 0x10000 + i).toString(16);
          const name = `r${round}w${w}i${i}`;
          const r = await lab
            .request('POST', `/controller/network/${network}/member/${member}`, {
              name,
              authorized: true,
            })
            .catch(() => undefined);
          if (r === undefined) return; // the lab is gone
          if (r.status === 200) acked.push({ member, name });
        }
      });
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 800));
      process.kill(lab.info.pid, 'SIGKILL');
      stop = true;
      await Promise.all(writers);
      // Gone for good (reaped), so the next startLab() does not take it for running.
      await eventually(() => !alive(lab.info.pid), 5000);
      expect(acked.length).toBeGreaterThan(0);

      const again = await startLab({ dir, port });
      try {
        const members = await again.members(network);
        for (const { member, name } of acked) {
          expect(members[member], member).toBeDefined();
          expect((await again.member(network, member))['name']).toBe(name);
        }
      } finally {
        await again.close();
      }
    }
  }, 120_000);
});
