// Connection churn (issue 11, item 3): N sequential TCP connect / send 64 bytes / read the
// echo / close cycles from this process's node to one peer's echo server, the client closing
// first (so its side holds TIME_WAIT, as a kernel client's does). Prints one JSON object:
// cycles, errors (by code), the slowest cycle, and the RSS after warm-up and at the end
// (both after a forced GC when run with --expose-gc).
//
//   node --expose-gc --min-semi-space-size=16 bench/churn.mjs [--cycles 50000]
//        [--warmup 15000] [--timeout 10000]
//
// (npm run bench:churn.) --min-semi-space-size=16 gives V8's young generation its full size
// from the start: left to grow, it steps up once mid-run by up to 32 MiB of RSS (heapTotal
// grows, heapUsed does not). The warm-up should outlast TIME_WAIT (10 s) so the ports it
// holds are at their steady count.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { net } from '../dist/index.mjs';
import { startEchoLab } from './lib/echo-lab.mjs';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '50000' },
    warmup: { type: 'string', default: '15000' },
    timeout: { type: 'string', default: '10000' },
  },
});
const cycles = Number(values.cycles);
const warmup = Math.min(Number(values.warmup), cycles);
const timeoutMs = Number(values.timeout);
const payload = Buffer.alloc(64, 0x61);

/** One cycle: resolves with an error code or undefined. */
function cycle(host, port) {
  return new Promise((resolve) => {
    let got = 0;
    let settled = false;
    const done = (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(code);
    };
    const timer = setTimeout(() => {
      s.destroy();
      done('TIMEOUT');
    }, timeoutMs);
    const s = net.createConnection({ host, port }, () => s.write(payload));
    s.on('data', (d) => {
      got += d.length;
      if (got === payload.length) s.end();
      if (got > payload.length) done('TOO_MANY_BYTES');
    });
    s.on('error', (e) => done(e.code ?? 'ERROR'));
    s.on('close', () => done(got === payload.length ? undefined : 'SHORT_ECHO'));
  });
}

const lab = await startEchoLab();
const memory = async () => {
  globalThis.gc?.();
  const m = process.memoryUsage();
  const { sockets } = await lab.node.counters();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    sockets,
  };
};
const mib = (n) => Number((n / 2 ** 20).toFixed(2));

let result;
try {
  const errors = {};
  let errorCount = 0;
  let slowestMs = 0;
  const rssSamples = []; // MiB, every 5,000 cycles
  let afterWarmup = await memory();
  const t0 = performance.now();
  for (let i = 0; i < cycles; i++) {
    const start = performance.now();
    const code = await cycle(lab.peer.ip, lab.peer.port);
    const ms = performance.now() - start;
    if (ms > slowestMs) slowestMs = ms;
    if (code !== undefined) {
      errors[code] = (errors[code] ?? 0) + 1;
      errorCount++;
    }
    if (i + 1 === warmup) afterWarmup = await memory();
    if ((i + 1) % 5000 === 0) {
      const m = await memory();
      rssSamples.push(mib(m.rss));
      console.error(
        `churn: ${i + 1} cycles, ${errorCount} errors, rss ${mib(m.rss)} MiB, heap ${mib(m.heapTotal)} MiB`,
      );
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const end = await memory();
  const peer = await lab.peer.stats();
  result = {
    cycles,
    warmup,
    errors: errorCount,
    errorCodes: errors,
    seconds: Number(seconds.toFixed(1)),
    cyclesPerSecond: Math.round(cycles / seconds),
    slowestCycleMs: Number(slowestMs.toFixed(1)),
    rssAfterWarmupMiB: mib(afterWarmup.rss),
    rssEndMiB: mib(end.rss),
    rssGrowthMiB: mib(end.rss - afterWarmup.rss),
    heapTotalGrowthMiB: mib(end.heapTotal - afterWarmup.heapTotal),
    heapGrowthMiB: mib(end.heapUsed - afterWarmup.heapUsed),
    externalGrowthMiB: mib(end.external - afterWarmup.external),
    rssEvery5000MiB: rssSamples,
    socketsAfterWarmup: afterWarmup.sockets,
    socketsAtEnd: end.sockets,
    gcForced: typeof globalThis.gc === 'function',
    peerAccepted: peer.accepted,
    peerOpen: peer.open,
  };
} finally {
  await lab.close();
}
process.stdout.write(`${JSON.stringify(result)}\n`);
