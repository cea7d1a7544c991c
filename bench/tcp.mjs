// TCP over ZeroTier on one machine, against node:net over kernel loopback in the same run
// (the brief's goals): bulk echo throughput, 64-byte round trip, and the time from
// starting a node to the first byte echoed by a peer on a lab network.
// Usage: node bench/tcp.mjs [megabytes] [rounds]   Prints lines, then one JSON object.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import nodeNet from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { NodeService, connect, net, startLab, Identity } from '../dist/index.mjs';
import { freeUdpPort } from '../examples/lib/lab-processes.mjs';

const megabytes = Number(process.argv[2] ?? 16);
const rounds = Number(process.argv[3] ?? 300);
const here = path.dirname(fileURLToPath(import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(open) {
  const sock = await open();
  // Bulk: write N MiB and read the echo back, both directions at once.
  const big = Buffer.alloc(megabytes * 1024 * 1024, 7);
  const t0 = performance.now();
  await sock.exchange(big);
  const seconds = (performance.now() - t0) / 1000;
  const throughput = (2 * big.length) / seconds;
  const small = Buffer.alloc(64, 1);
  const rtts = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await sock.exchange(small);
    rtts.push((performance.now() - t) * 1000);
  }
  sock.close();
  return { throughputMBs: throughput / 1e6, rttUs: median(rtts) };
}

// A duplex socket wrapped so that exchange(buf) writes buf and waits for as many bytes back.
function wrap(socket) {
  let waiting = null;
  let got = 0;
  socket.on('data', (d) => {
    got += d.length;
    if (waiting && got >= waiting.n) {
      const w = waiting;
      waiting = null;
      w.resolve();
    }
  });
  return {
    exchange(buf) {
      got = 0;
      return new Promise((resolve) => {
        waiting = { n: buf.length, resolve };
        socket.write(buf);
      });
    },
    close: () => socket.destroy(),
  };
}

const dir = mkdtempSync(path.join(tmpdir(), 'zts-bench-tcp-'));
const lab = await startLab({ dir: path.join(dir, 'lab'), port: await freeUdpPort() });
let peer;
try {
  const nwid = await lab.createNetwork({ name: 'bench', ipv4: ['10.147.17.0/24'] });
  peer = spawn(
    process.execPath,
    [
      path.join(here, '..', 'test', 'helpers', 'peer-node.cjs'),
      lab.info.planetPath,
      path.join(dir, 'peer'),
      nwid,
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: peer.stdout })[Symbol.asyncIterator]();
  const next = async (event) => {
    for (;;) {
      const o = JSON.parse((await lines.next()).value);
      if (o.event === event) return o;
    }
  };
  await lab.authorize(nwid, (await next('started')).address);
  const peerIp = (await next('ready')).addresses[0].split('/')[0];

  // Start to first echoed byte: identity made beforehand, as a stored one would be.
  const identity = await Identity.generate();
  const memberId = identity.address;
  await lab.authorize(nwid, memberId);
  const t0 = performance.now();
  const ref = await NodeService.acquire({ identity, planet: lab.info.planetPath, lab: true });
  const lease = await ref.node.join(nwid);
  await lease.ready({ timeoutMs: 20000 });
  const first = await connect({ host: peerIp, port: 7000, timeoutMs: 10000 });
  await first.write('x');
  await first.read();
  const startToFirstByteMs = performance.now() - t0;
  first.destroy();

  const zt = await measure(async () => {
    const s = net.createConnection({ host: peerIp, port: 7000, timeoutMs: 10000, noDelay: true });
    await new Promise((r) => s.once('connect', r));
    return wrap(s);
  });
  await lease.release();
  await ref.release();

  const server = nodeNet.createServer((s) => s.pipe(s)).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const kernel = await measure(async () => {
    const s = nodeNet.connect(server.address().port, '127.0.0.1');
    s.setNoDelay(true);
    await new Promise((r) => s.once('connect', r));
    return wrap(s);
  });
  server.close();

  const result = {
    megabytes,
    rounds,
    startToFirstEchoedByteMs: Math.round(startToFirstByteMs),
    zerotierThroughputMBs: Math.round(zt.throughputMBs * 10) / 10,
    netThroughputMBs: Math.round(kernel.throughputMBs * 10) / 10,
    throughputRatio: Math.round((zt.throughputMBs / kernel.throughputMBs) * 1000) / 1000,
    zerotierRttUs: Math.round(zt.rttUs),
    netRttUs: Math.round(kernel.rttUs),
    rttRatio: Math.round((zt.rttUs / kernel.rttUs) * 100) / 100,
  };
  console.log(
    `start -> first byte echoed by a peer: ${result.startToFirstEchoedByteMs} ms (goal < 500)`,
  );
  console.log(
    `bulk echo: ZeroTier ${result.zerotierThroughputMBs} MB/s, node:net ${result.netThroughputMBs} MB/s, ratio ${result.throughputRatio} (goal >= 0.15)`,
  );
  console.log(
    `64-byte round trip: ZeroTier ${result.zerotierRttUs} us, node:net ${result.netRttUs} us, ratio ${result.rttRatio} (goal <= 2.5)`,
  );
  console.log(JSON.stringify(result));
} finally {
  peer?.kill();
  await lab.close();
  rmSync(dir, { recursive: true, force: true });
}
