// A TCP echo server on a lab network, in its own process (one node per process), for the
// churn, concurrency and flood measurements (bench/churn.mjs, bench/concurrent-echo.mjs,
// bench/hostile-flood.mjs):
//   echo-peer.cjs <planet> <storage> <nwid> <port>
// Prints {"event":"started", address}, then {"event":"ready", ip, port} once joined and
// listening, and {"event":"stats", rss, accepted, open} when a line "stats" arrives on stdin.
'use strict';
const path = require('node:path');
const readline = require('node:readline');
const { NodeService, net } = require(path.resolve(__dirname, '..', '..', 'dist', 'index.js'));

const [planet, storage, nwid, port] = process.argv.slice(2);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

(async () => {
  const ref = await NodeService.acquire({ storagePath: storage, planet, lab: true });
  say({ event: 'started', address: ref.node.address });
  const lease = await ref.node.join(nwid);
  const info = await lease.ready({ timeoutMs: 60_000, waitForAuthorization: true });
  let accepted = 0;
  let open = 0;
  const server = net.createServer((s) => {
    accepted++;
    open++;
    s.on('error', () => undefined);
    s.on('close', () => open--);
    s.pipe(s);
  });
  server.listen(Number(port), () =>
    say({
      event: 'ready',
      ip: info.addresses.find((a) => a.includes('.')).split('/')[0],
      port: Number(port),
    }),
  );
  readline.createInterface({ input: process.stdin }).on('line', async (line) => {
    if (line.trim() !== 'stats') return;
    const counters = await ref.node.counters();
    say({ event: 'stats', rss: process.memoryUsage().rss, accepted, open, counters });
  });
  process.on('SIGTERM', async () => {
    server.close();
    await lease.release();
    await ref.release();
    process.exit(0);
  });
})().catch((e) => {
  say({ event: 'fatal', message: String(e && e.stack) });
  process.exit(1);
});
