// The set-up bench/churn.mjs, bench/concurrent-echo.mjs and bench/hostile-flood.mjs share:
// a lab (root + controller) on loopback with one private network, a TCP echo server in a
// child process (bench/lib/echo-peer.cjs) and this process's node, both joined. close()
// stops all three and removes the folder.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { NodeService, startLab } from '../../dist/index.mjs';

const peerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'echo-peer.cjs');

async function freeUdpPort() {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** The echo peer's JSON lines, with a waiter for the next line that matches. */
function linesOf(child) {
  const lines = [];
  const waiters = new Set();
  createInterface({ input: child.stdout }).on('line', (l) => {
    const line = JSON.parse(l);
    lines.push(line);
    for (const w of waiters) w(line);
  });
  const waitFor = (match, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      const found = lines.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error('echo peer: no matching line in time'));
      }, timeoutMs);
      const check = (line) => {
        if (line.event === 'fatal') reject(new Error(`echo peer failed: ${line.message}`));
        if (!match(line)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(line);
      };
      waiters.add(check);
    });
  return { lines, waitFor };
}

export async function startEchoLab({ echoPort = 7000 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'zts-echo-lab-'));
  const lab = await startLab({ dir: path.join(dir, 'lab'), port: await freeUdpPort() });
  let child;
  let ref;
  let lease;
  const close = async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await lease?.release();
    await ref?.release();
    await lab.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const nwid = await lab.createNetwork({ name: 'echo', ipv4: ['10.147.20.0/24'] });
    child = spawn(
      process.execPath,
      [peerScript, lab.info.planetPath, path.join(dir, 'peer'), nwid, String(echoPort)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const peer = linesOf(child);
    const started = await peer.waitFor((l) => l.event === 'started');
    await lab.authorize(nwid, started.address);
    ref = await NodeService.acquire({
      storagePath: path.join(dir, 'here'),
      planet: lab.info.planetPath,
      lab: true,
    });
    await lab.authorize(nwid, ref.node.address);
    lease = await ref.node.join(nwid);
    await lease.ready({ timeoutMs: 60_000, waitForAuthorization: true });
    const ready = await peer.waitFor((l) => l.event === 'ready');
    const peerStats = async () => {
      const n = peer.lines.length;
      child.stdin.write('stats\n');
      return peer.waitFor((l) => l.event === 'stats' && peer.lines.indexOf(l) >= n);
    };
    return {
      lab,
      nwid,
      node: ref.node,
      peer: {
        ip: ready.ip,
        port: ready.port,
        address: started.address,
        storage: path.join(dir, 'peer'),
        stats: peerStats,
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
