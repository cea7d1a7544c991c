// Hostile input over real UDP on loopback (issue 11, item 5): a lab, an echo server node
// (the target) and this process's node; bench/lib/hostile-sender.mjs, in its own process,
// sends the target every kind of bad datagram (see there) for --seconds while this node
// measures 64-byte TCP round trips to the target, before the flood and during it. Prints
// one JSON object: datagrams sent by kind, the target's drop counters that rose (by
// reason), its tables and RSS before and after, and the round trips quiet and flooded.
//
//   node bench/hostile-flood.mjs [--seconds 10] [--quiet 300]      (npm run bench:hostile)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { net } from '../dist/index.mjs';
import { startEchoLab } from './lib/echo-lab.mjs';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    quiet: { type: 'string', default: '300' },
  },
});
const sender = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'hostile-sender.mjs');

/**
 * 64-byte round trips on one connection until `until()` holds (at least `min`). Bytes are
 * counted across the connection's life, so an echo split or merged by TCP is matched
 * to its own write.
 */
let echoedBytes = 0;
let wanted = Infinity;
let onEchoed = () => undefined;
async function roundTrips(socket, min, until = () => true, gapMs = 0) {
  const times = [];
  const payload = Buffer.alloc(64, 0x72);
  while (times.length < min || !until()) {
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    const t0 = performance.now();
    const echoed = new Promise((resolve) => (onEchoed = resolve));
    wanted = sentBytes + payload.length;
    sentBytes += payload.length;
    socket.write(payload);
    await echoed;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q) =>
    Number(times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(3));
  return { count: times.length, medianMs: at(0.5), p90Ms: at(0.9), maxMs: at(1) };
}
let sentBytes = 0;
function countEchoes(socket) {
  socket.on('data', (d) => {
    echoedBytes += d.length;
    if (echoedBytes >= wanted) onEchoed();
  });
}

function dropsRisen(before, after) {
  const out = {};
  for (const [reason, n] of Object.entries(after.dropped)) {
    const d = n - (before.dropped[reason] ?? 0);
    if (d > 0) out[reason] = d;
  }
  return out;
}

const lab = await startEchoLab();
let result;
try {
  const socket = net.createConnection({ host: lab.peer.ip, port: lab.peer.port });
  socket.on('error', (e) => console.error(`hostile-flood: round-trip socket: ${e.message}`));
  countEchoes(socket);
  await new Promise((r) => socket.once('connect', r));
  socket.setNoDelay(true);
  // Warm-up, until the target is reached on a direct path (its UDP port is the target).
  let targetPath;
  for (let i = 0; i < 100 && !targetPath; i++) {
    await roundTrips(socket, 10);
    const peers = await lab.node.peers();
    targetPath = peers.find((p) => p.address === lab.peer.address)?.paths[0]?.address;
  }
  if (!targetPath) throw new Error('no direct path to the target');
  const [host, port] = targetPath.split('/');
  const quiet = await roundTrips(socket, Number(values.quiet));
  const before = await lab.peer.stats();

  const child = spawn(
    process.execPath,
    [
      sender,
      JSON.stringify({
        host,
        port: Number(port),
        target: readFileSync(path.join(lab.peer.storage, 'identity.public'), 'utf8').trim(),
        impostorOf: lab.node.address,
        nwid: lab.nwid,
        seconds: Number(values.seconds),
      }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const sent = {};
  let finished = false;
  let fatal;
  createInterface({ input: child.stdout }).on('line', (l) => {
    const line = JSON.parse(l);
    if (line.event === 'sent') {
      sent[line.phase] = line.count;
      lastPhase = line.phase;
    }
    if (line.event === 'fatal') fatal = line.message;
  });
  const exited = new Promise((r) => child.once('exit', () => r((finished = true))));
  // A stuck sender would leave the round-trip loop waiting for ever (one was: Node 20
  // deadlocked in exporting its made-up keys, see hostile-sender.mjs): end it, and say where
  // it stopped.
  let lastPhase = 'start';
  const watchdog = setTimeout(
    () => {
      fatal = `stopped after phase ${lastPhase} (killed after ${Number(values.seconds) + 60} s)`;
      child.kill('SIGKILL');
    },
    (Number(values.seconds) + 60) * 1000,
  );
  const t0 = performance.now();
  // A pause between round trips during the flood: back to back they would take a core from
  // the sender and the target on a small machine, and measure that contention instead.
  const flooded = await roundTrips(socket, 20, () => finished, 2);
  console.error(`hostile-flood: sender finished, ${JSON.stringify(sent)}`);
  await exited;
  clearTimeout(watchdog);
  if (fatal) throw new Error(`hostile sender: ${fatal}`);
  const floodSeconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 6000)); // queued and partial packets time out
  const after = await lab.peer.stats();
  socket.destroy();
  result = {
    floodSeconds: Number(floodSeconds.toFixed(1)),
    sent,
    datagramsReceived: after.counters.datagramsIn - before.counters.datagramsIn,
    dropsRisen: dropsRisen(before.counters, after.counters),
    tablesBefore: before.counters.tables,
    tablesAfter: after.counters.tables,
    targetRssBeforeMiB: Number((before.rss / 2 ** 20).toFixed(1)),
    targetRssAfterMiB: Number((after.rss / 2 ** 20).toFixed(1)),
    targetAccepted: after.accepted - before.accepted,
    quiet,
    flooded,
    medianRatio: Number((flooded.medianMs / quiet.medianMs).toFixed(2)),
  };
} finally {
  await lab.close();
}
process.stdout.write(`${JSON.stringify(result)}\n`);
