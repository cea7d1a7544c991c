#!/usr/bin/env node
// A node of ours that joins a network and checks a TCP echo server on it: connects with
// the promise API (connect()), sends --rounds messages of --size bytes one at a time and
// reads each echo back, then half-closes and expects the server's FIN. Used by
// stock-network-netns.sh against a node of ours (test/helpers/peer-node.cjs) and against a
// libzt node. Connection attempts are retried (ECONNREFUSED, ETIMEDOUT) until --deadline,
// since the server may come up after us. One JSON object per line on stdout; exit 0 only
// when every echo came back intact.
//
//   node tcp-client.cjs --storage <dir> --planet <file> --network <nwid> --host <ip>
//                       [--port 7000] [--rounds 5] [--size 1000] [--deadline 30000]
'use strict';

const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { parseArgs } = require('node:util');

const { NodeService, connect } = require(path.resolve(__dirname, '..', '..', 'dist', 'index.js'));

const { values } = parseArgs({
  options: {
    storage: { type: 'string' },
    planet: { type: 'string' },
    network: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string', default: '7000' },
    rounds: { type: 'string', default: '5' },
    size: { type: 'string', default: '1000' },
    deadline: { type: 'string', default: '30000' },
  },
  strict: true,
});
if (!values.storage || !values.planet || !values.network || !values.host) {
  process.stderr.write(
    'usage: tcp-client.cjs --storage <dir> --planet <file> --network <nwid> --host <ip>\n',
  );
  process.exit(2);
}
const port = Number(values.port);
const rounds = Number(values.rounds);
const size = Number(values.size);
const t0 = Date.now();
const print = (o) => process.stdout.write(`${JSON.stringify({ ms: Date.now() - t0, ...o })}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function readExactly(socket, n) {
  const chunks = [];
  let got = 0;
  while (got < n) {
    const chunk = await socket.read();
    if (chunk === null) break;
    chunks.push(chunk);
    got += chunk.length;
  }
  return Buffer.concat(chunks);
}

async function main() {
  const ref = await NodeService.acquire({ storagePath: values.storage, planet: values.planet });
  const node = ref.node;
  print({ event: 'started', address: node.address, port: node.port });
  node.on('network-status', (e) =>
    print({ event: 'status', network: e.network, status: e.status }),
  );
  await node.waitOnline(10000);
  print({ event: 'online' });
  const lease = await node.join(values.network);
  const info = await lease.ready({ timeoutMs: 30000, waitForAuthorization: true });
  print({ event: 'ready', network: info.id, status: info.status, addresses: info.addresses });

  const deadline = t0 + Number(values.deadline);
  let socket;
  let attempts = 0;
  const connectStart = Date.now();
  for (;;) {
    attempts++;
    try {
      socket = await connect({ host: values.host, port, timeoutMs: 5000 });
      break;
    } catch (e) {
      print({ event: 'connect-error', code: e.code, attempt: attempts });
      if (Date.now() > deadline) throw e;
      await sleep(500);
    }
  }
  print({
    event: 'connected',
    host: values.host,
    port,
    attempts,
    connectMs: Date.now() - connectStart,
  });
  const rtts = [];
  let intact = true;
  for (let i = 0; i < rounds; i++) {
    const msg = randomBytes(size);
    const start = process.hrtime.bigint();
    await socket.write(msg);
    const back = await readExactly(socket, size);
    rtts.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (!back.equals(msg)) {
      intact = false;
      print({ event: 'mismatch', round: i, sent: size, got: back.length });
      break;
    }
  }
  await socket.end();
  const rest = await socket.read().catch((e) => e);
  const closedCleanly = rest === null;
  print({
    event: 'echo-done',
    rounds,
    size,
    intact,
    closedCleanly,
    rttsMs: rtts.map((x) => Math.round(x * 100) / 100),
  });
  socket.destroy();
  await lease.release();
  await ref.release();
  return intact && closedCleanly;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    print({ event: 'error', message: e && e.message, code: e && e.code });
    process.exit(1);
  },
);
