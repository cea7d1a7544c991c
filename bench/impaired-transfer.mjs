// A 32 MiB TCP transfer between two of our nodes through an impaired wire (loss, delay,
// reordering, duplication; the same both ways), with every byte checked (SHA-256). Issue 11,
// item 1. Not a test: a measurement, run by hand as root (it makes a network namespace).
//
//   sudo node bench/impaired-transfer.mjs [--mib 32] [--loss 0.01] [--delay 20]
//        [--jitter 0] [--reorder 0.01] [--duplicate 0] [--timeout 900] [--seed 1]
//
// Layout: the lab (root + controller) and node A on the host's loopback; node B in its own
// namespace, whose only way out is a veth to the host, where bench/lib/udp-nat.mjs is a
// full-cone NAT with the impairment. B's planet names the root at its NAT address, so all of
// B's traffic, to the root and to A, crosses the impaired wire, and A reaches B at the NAT's
// outside address, which the root reports. Prints lines, then one JSON object. Cleans up its
// namespace and processes on exit, failures included.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

import { Identity, generatePlanetKey, makePlanet, startLab } from '../dist/index.mjs';
import { freeUdpPort } from '../examples/lib/lab-processes.mjs';
import { UdpNat } from './lib/udp-nat.mjs';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '32' },
    loss: { type: 'string', default: '0.01' },
    delay: { type: 'string', default: '20' },
    jitter: { type: 'string', default: '0' },
    reorder: { type: 'string', default: '0.01' },
    duplicate: { type: 'string', default: '0' },
    timeout: { type: 'string', default: '900' },
    seed: { type: 'string', default: '1' },
  },
});
if (process.getuid?.() !== 0) {
  console.error('impaired-transfer: needs root (it makes a network namespace)');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const peerScript = path.join(here, 'lib', 'transfer-peer.cjs');
const impairment = {
  loss: Number(values.loss),
  delayMs: Number(values.delay),
  jitterMs: Number(values.jitter),
  reorder: Number(values.reorder),
  reorderMs: Math.max(5, Number(values.delay) / 2),
  duplicate: Number(values.duplicate),
};

const ns = `zts-imp-${process.pid}`;
const hostIf = `zimp${process.pid % 100000}`;
const ip = (...args) => execFileSync('ip', args, { stdio: 'inherit' });
const children = [];
const dir = mkdtempSync(path.join(tmpdir(), 'zts-impaired-'));
let lab;
let nat;
async function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  nat?.close();
  await lab?.close().catch(() => undefined);
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // not made yet
  }
  rmSync(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

function peer(args, inNamespace) {
  const cmd = inNamespace ? 'ip' : process.execPath;
  const argv = inNamespace
    ? ['netns', 'exec', ns, process.execPath, peerScript, ...args]
    : [peerScript, ...args];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines = [];
  const waiters = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    const o = JSON.parse(l);
    lines.push(o);
    for (const w of waiters.splice(0)) w();
  });
  return {
    async next(event, timeoutMs) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const bad = lines.find((o) => o.event === 'fatal' || o.event === 'error');
        if (bad) throw new Error(`${inNamespace ? 'B' : 'A'}: ${bad.code ?? ''} ${bad.message}`);
        const found = lines.find((o) => o.event === event);
        if (found) return found;
        if (Date.now() > end) throw new Error(`${inNamespace ? 'B' : 'A'}: no ${event}`);
        await new Promise((r) => {
          const t = setTimeout(r, Math.min(1000, end - Date.now()));
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
  };
}

let exitCode = 0;
try {
  ip('netns', 'add', ns);
  ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'veth0', 'netns', ns);
  ip('addr', 'add', '10.98.0.1/30', 'dev', hostIf);
  ip('link', 'set', hostIf, 'up');
  ip('-n', ns, 'addr', 'add', '10.98.0.2/30', 'dev', 'veth0');
  ip('-n', ns, 'link', 'set', 'veth0', 'up');
  ip('-n', ns, 'link', 'set', 'lo', 'up');

  const labPort = await freeUdpPort();
  lab = await startLab({ dir: path.join(dir, 'lab'), port: labPort });
  const nwid = await lab.createNetwork({ name: 'impaired', ipv4: ['10.147.19.0/24'] });
  nat = await new UdpNat({
    insideHost: '10.98.0.1',
    outsideHost: '127.0.0.1',
    inbound: impairment,
    outbound: impairment,
    seed: Number(values.seed),
    maxRunMs: (Number(values.timeout) + 120) * 1000,
  }).start();
  const rootInside = await nat.mirror('127.0.0.1', labPort);
  const rootIdentity = Identity.parse(
    readFileSync(path.join(dir, 'lab', 'identity.public'), 'utf8'),
  );
  const planetB = path.join(dir, 'planet-b');
  writeFileSync(
    planetB,
    makePlanet({
      roots: [{ identity: rootIdentity, endpoints: [`10.98.0.1/${rootInside}`] }],
      signingKey: await generatePlanetKey(),
    }),
  );

  const b = peer(['receive', planetB, path.join(dir, 'b'), nwid, '7100'], true);
  await lab.authorize(nwid, (await b.next('started', 30_000)).address);
  const bIp = (await b.next('ready', 120_000)).addresses[0].split('/')[0];
  const a = peer(
    ['send', lab.info.planetPath, path.join(dir, 'a'), nwid, bIp, '7100', values.mib],
    false,
  );
  await lab.authorize(nwid, (await a.next('started', 30_000)).address);
  await a.next('ready', 60_000);
  console.log(
    `impairment both ways: loss ${impairment.loss}, delay ${impairment.delayMs} ms, ` +
      `jitter ${impairment.jitterMs} ms, reorder ${impairment.reorder}, duplicate ${impairment.duplicate}`,
  );
  const timeoutMs = Number(values.timeout) * 1000;
  const sent = await a.next('sent', timeoutMs);
  const received = await b.next('received', 30_000);
  const intact = sent.sha256 === received.sha256 && sent.bytes === received.bytes;
  const result = {
    mib: Number(values.mib),
    impairment,
    seconds: Math.round(sent.seconds * 10) / 10,
    MBs: Math.round((sent.bytes / sent.seconds / 1e6) * 1000) / 1000,
    intact,
    natStats: nat.stats,
  };
  console.log(
    `${result.mib} MiB in ${result.seconds} s: ${result.MBs} MB/s, ` +
      `${intact ? 'every byte intact (SHA-256)' : 'DATA DIFFERS'}`,
  );
  console.log(JSON.stringify(result));
  if (!intact) exitCode = 1;
} catch (e) {
  console.error(`impaired-transfer: ${e.message}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
