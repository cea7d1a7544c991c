// A 32 MiB TCP transfer between two of our nodes through an impaired wire (loss, delay,
// reordering, duplication; the same both ways), with every byte checked (SHA-256), and the
// same transfer by kernel TCP through the same kind of wire in the same run, as the
// yardstick (issue 11, item 1). Not a test: a measurement, run by hand as root (it makes a
// network namespace and TUN devices).
//
//   sudo node bench/impaired-transfer.mjs [--mib 32] [--loss 0.01] [--delay 20]
//        [--jitter 0] [--reorder 0.01] [--duplicate 0] [--timeout 900] [--seed 1]
//        [--only ours|kernel] [--kernel-cc cubic,bbr] [--rebind S]
//
// --rebind S: every S seconds of our transfer, B's NAT takes a new outside port (a NAT that
// loses its mapping), so the address A knows for B changes mid-transfer.
//
// Layout: the lab (root + controller) and node A on the host's loopback; node B in its own
// namespace, whose only way out is a veth to the host, where bench/lib/udp-nat.mjs is a
// full-cone NAT with the impairment. B's planet names the root at its NAT address, so all of
// B's traffic, to the root and to A, crosses the impaired wire, and A reaches B at the NAT's
// outside address, which the root reports. Kernel TCP: a TUN device on each side
// (bench/lib/tun-pipe.py) carries its IP packets as UDP datagrams through a second NAT with
// the same impairment (its own random sequence), 1400-byte packets as our nodes' datagrams
// are at most 1432 bytes. Prints lines, then one JSON object. Cleans up its namespace and
// processes on exit, failures included.
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
    only: { type: 'string' },
    'kernel-cc': { type: 'string', default: 'cubic,bbr' },
    rebind: { type: 'string', default: '0' },
  },
});
if (process.getuid?.() !== 0) {
  console.error('impaired-transfer: needs root (it makes a network namespace)');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const peerScript = path.join(here, 'lib', 'transfer-peer.cjs');
const kernelScript = path.join(here, 'lib', 'kernel-transfer.cjs');
const kernelSend = path.join(here, 'lib', 'kernel-send.py');
const tunPipe = path.join(here, 'lib', 'tun-pipe.py');
const runOurs = values.only !== 'kernel';
const runKernel = values.only !== 'ours';
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
const tunA = `ztka${process.pid % 100000}`; // the kernel tunnel's ends
const tunB = 'ztkb';
const ip = (...args) => execFileSync('ip', args, { stdio: 'inherit' });
const children = [];
const dir = mkdtempSync(path.join(tmpdir(), 'zts-impaired-'));
let lab;
let nat;
let kernelNat;
async function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  nat?.close();
  kernelNat?.close();
  await lab?.close().catch(() => undefined);
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // not made yet
  }
  rmSync(dir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => void cleanup().then(() => process.exit(130)));
}

// A child printing JSON lines, in B's namespace or on the host; next(event) waits for one.
function peer(args, inNamespace, command = [process.execPath, peerScript]) {
  const argv = [...command, ...args];
  const child = inNamespace
    ? spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
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
        const at = lines.findIndex((o) => event === undefined || o.event === event);
        if (at >= 0) return lines.splice(at, 1)[0];
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

const timeoutMs = Number(values.timeout) * 1000;
const round = (x, places) => Math.round(x * 10 ** places) / 10 ** places;
function outcome(sent, received) {
  return {
    seconds: round(sent.seconds, 1),
    ...(sent.connectSeconds !== undefined && { connectSeconds: round(sent.connectSeconds, 2) }),
    MBs: round(sent.bytes / sent.seconds / 1e6, 3),
    intact: sent.sha256 === received.sha256 && sent.bytes === received.bytes,
  };
}
const statsSince = (before, now) =>
  Object.fromEntries(
    Object.entries(now).map(([way, n]) => [
      way,
      { sent: n.sent - before[way].sent, dropped: n.dropped - before[way].dropped },
    ]),
  );
const describe = (who, r) =>
  `${who}: ${values.mib} MiB in ${r.seconds} s` +
  (r.connectSeconds !== undefined ? ` (connected after ${r.connectSeconds} s)` : '') +
  `: ${r.MBs} MB/s, ` +
  `${r.intact ? 'every byte intact (SHA-256)' : 'DATA DIFFERS'}`;

// Kernel TCP from the host (10.97.0.1) to B's namespace (10.97.0.2) over two TUN devices,
// B's datagrams through their own NAT to the host's end of the tunnel; one transfer per
// congestion control asked for (the sender sets it on its socket).
async function kernelTransfer() {
  kernelNat = await new UdpNat({
    insideHost: '10.98.0.1',
    outsideHost: '127.0.0.1',
    inbound: impairment,
    outbound: impairment,
    seed: Number(values.seed) + 1,
    maxRunMs: (Number(values.timeout) + 120) * 1000,
  }).start();
  const python = ['python3', tunPipe];
  const hostEnd = await peer([tunA, '127.0.0.1'], false, python).next(undefined, 10_000);
  const inside = await kernelNat.mirror('127.0.0.1', hostEnd.port);
  await peer([tunB, '10.98.0.2', '10.98.0.1', String(inside)], true, python).next(
    undefined,
    10_000,
  );
  ip('addr', 'add', '10.97.0.1/30', 'dev', tunA);
  ip('link', 'set', tunA, 'mtu', '1400', 'up');
  ip('-n', ns, 'addr', 'add', '10.97.0.2/30', 'dev', tunB);
  ip('-n', ns, 'link', 'set', tunB, 'mtu', '1400', 'up');
  const receiver = peer(['10.97.0.2', '7200'], true, [process.execPath, kernelScript]);
  await receiver.next('ready', 10_000);
  const results = {};
  for (const cc of values['kernel-cc'].split(',')) {
    const before = JSON.parse(JSON.stringify(kernelNat.stats));
    const sender = peer(['10.97.0.2', '7200', values.mib, cc], false, ['python3', kernelSend]);
    const sent = await sender.next('sent', timeoutMs);
    const r = outcome(sent, await receiver.next('received', 30_000));
    console.log(describe(`kernel TCP (${cc})`, r));
    results[cc] = { ...r, natStats: statsSince(before, kernelNat.stats) };
  }
  return results;
}

async function ourTransfer() {
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
    [
      'send',
      lab.info.planetPath,
      path.join(dir, 'a'),
      nwid,
      bIp,
      '7100',
      values.mib,
      values.timeout,
    ],
    false,
  );
  await lab.authorize(nwid, (await a.next('started', 30_000)).address);
  await a.next('ready', 60_000);
  const rebinds = [];
  const rebindEvery = Number(values.rebind) * 1000;
  const rebinder =
    rebindEvery > 0
      ? setInterval(() => void nat.rebind().then((port) => rebinds.push(port)), rebindEvery)
      : undefined;
  const sent = await a.next('sent', timeoutMs).finally(() => clearInterval(rebinder));
  const r = outcome(sent, await b.next('received', 30_000));
  console.log(describe('zerotier-sockets', r));
  if (rebinds.length > 0) console.log(`B's outside port changed ${rebinds.length} times`);
  return { ...r, natStats: nat.stats, ...(rebinds.length > 0 ? { rebinds: rebinds.length } : {}) };
}

// A run killed too hard to clean up leaves its namespace, and its veth still holds our
// addresses on the host (our datagrams would go there): remove those of dead runs first.
function removeStaleNamespaces() {
  const names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const [, pid] of names.matchAll(/^zts-imp-(\d+)/gm)) {
    try {
      process.kill(Number(pid), 0);
    } catch {
      execFileSync('ip', ['netns', 'del', `zts-imp-${pid}`], { stdio: 'ignore' });
    }
  }
}

let exitCode = 0;
try {
  removeStaleNamespaces();
  ip('netns', 'add', ns);
  ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'veth0', 'netns', ns);
  ip('addr', 'add', '10.98.0.1/30', 'dev', hostIf);
  ip('link', 'set', hostIf, 'up');
  ip('-n', ns, 'addr', 'add', '10.98.0.2/30', 'dev', 'veth0');
  ip('-n', ns, 'link', 'set', 'veth0', 'up');
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  console.log(
    `impairment both ways: loss ${impairment.loss}, delay ${impairment.delayMs} ms, ` +
      `jitter ${impairment.jitterMs} ms, reorder ${impairment.reorder}, duplicate ${impairment.duplicate}`,
  );
  const kernel = runKernel ? await kernelTransfer() : undefined;
  const ours = runOurs ? await ourTransfer() : undefined;
  const ratio =
    kernel && ours
      ? Object.fromEntries(
          Object.entries(kernel).map(([cc, k]) => [cc, round(ours.MBs / k.MBs, 3)]),
        )
      : undefined;
  for (const [cc, x] of Object.entries(ratio ?? {})) {
    console.log(`ratio to kernel TCP (${cc}): ${x}`);
  }
  console.log(JSON.stringify({ mib: Number(values.mib), impairment, ours, kernel, ratio }));
  const all = [ours, ...Object.values(kernel ?? {})].filter(Boolean);
  if (all.some((r) => !r.intact)) exitCode = 1;
} catch (e) {
  console.error(`impaired-transfer: ${e.message}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
