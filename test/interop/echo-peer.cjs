#!/usr/bin/env node
// A node of ours that ECHOes another ZeroTier node: used by stock-root-netns.sh to check
// that two of our nodes reach each other through a stock root, first relayed, then
// direct after RENDEZVOUS. One JSON object per line on stdout; stays up after the
// echoes (so the stock root can still be asked about it) until SIGTERM or SIGINT.
//
//   node echo-peer.cjs --storage <dir> --planet <file> --peer <address>
//                      [--count 6] [--interval 300] [--timeout 3000]
'use strict';

const path = require('node:path');
const { parseArgs } = require('node:util');

const { NodeService } = require(path.resolve(__dirname, '..', '..', 'dist', 'index.js'));

const { values } = parseArgs({
  options: {
    storage: { type: 'string' },
    planet: { type: 'string' },
    peer: { type: 'string' },
    count: { type: 'string', default: '6' },
    interval: { type: 'string', default: '300' },
    timeout: { type: 'string', default: '3000' },
  },
  strict: true,
});
if (!values.storage || !values.planet || !values.peer) {
  process.stderr.write('usage: echo-peer.cjs --storage <dir> --planet <file> --peer <address>\n');
  process.exit(2);
}
const peer = values.peer.toLowerCase();
const count = Number(values.count);
const interval = Number(values.interval);
const timeoutMs = Number(values.timeout);

const print = (o) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...o })}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function directPathTo(node, address) {
  const p = (await node.peers()).find((x) => x.address === address);
  const alive = p ? p.paths.filter((x) => x.alive) : [];
  return alive.length > 0 ? alive.map((x) => x.address).join(',') : null;
}

async function main() {
  const stopped = new Promise((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const ref = await NodeService.acquire({ storagePath: values.storage, planet: values.planet });
  const node = ref.node;
  print({ event: 'started', address: node.address, port: node.port });
  node.on('online', () => print({ event: 'online', address: node.address }));
  node.on('path', (p) => print({ event: 'path', ...p }));
  node.on('path-lost', (p) => print({ event: 'path-lost', ...p }));
  node.on('peer', (p) => print({ event: 'peer', ...p }));
  await node.waitOnline(10000);

  const relayed = [];
  const direct = [];
  for (let seq = 1; seq <= count; seq++) {
    const before = await directPathTo(node, peer);
    const r = await node.echo(peer, { timeoutMs });
    const rtt = r === null ? null : r.rtt;
    const via = before === null ? 'relayed' : 'direct';
    (via === 'relayed' ? relayed : direct).push(rtt);
    print({ event: 'echo', seq, peer, rtt, via, path: before });
    if (seq < count) await sleep(interval);
  }
  const finalPath = await directPathTo(node, peer);
  print({ event: 'echo-done', peer, relayed, direct, directPath: finalPath });

  await stopped;
  await ref.release();
  print({ event: 'stopped', address: node.address });
}

main().catch((e) => {
  print({ event: 'error', message: e && e.message, code: e && e.code });
  process.exit(1);
});
