// For test/collected.test.ts, run with --expose-gc: joins a lab network, then opens a TCP
// server and a connection to it on its own address, echoes a message, closes all three and
// drops every reference but WeakRefs. Prints {"event":"started", address} first and, at
// the end, {"event":"result", ...}: which objects were collected after forced GCs, and the
// node's socket census before and after (nothing may remain).
'use strict';
const path = require('node:path');
const { NodeService, net } = require(path.resolve(__dirname, '..', '..', 'dist', 'index.js'));

const [planet, storage, nwid] = process.argv.slice(2);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const tick = () => new Promise((r) => setTimeout(r, 10));

/** Server, client and accepted socket, used and closed; returns WeakRefs to them. */
async function useAndClose(host, port) {
  let accepted;
  const server = net.createServer((s) => {
    accepted = s;
    s.pipe(s);
  });
  await new Promise((r) => server.listen(port, r));
  const client = net.createConnection({ host, port });
  await new Promise((resolve, reject) => {
    client.on('error', reject);
    client.on('data', resolve);
    client.write('ping');
  });
  const closed = [client, accepted, server].map((o) => new Promise((r) => o.once('close', r)));
  client.end();
  server.close();
  await Promise.all(closed);
  return {
    client: new WeakRef(client),
    accepted: new WeakRef(accepted),
    server: new WeakRef(server),
  };
}

(async () => {
  const ref = await NodeService.acquire({ storagePath: storage, planet, lab: true });
  say({ event: 'started', address: ref.node.address });
  const lease = await ref.node.join(nwid);
  const info = await lease.ready({ timeoutMs: 60_000, waitForAuthorization: true });
  const host = info.addresses.find((a) => a.includes('.')).split('/')[0];
  const before = (await ref.node.counters()).sockets;
  const weak = await useAndClose(host, 7400);
  // A socket still referenced must survive the same GCs: the check can tell the two apart.
  const kept = net.createConnection({ host, port: 9 });
  kept.on('error', () => undefined);
  const keptRef = new WeakRef(kept);
  const collected = {};
  for (let i = 0; i < 50 && Object.keys(collected).length < 3; i++) {
    await tick();
    globalThis.gc();
    for (const [name, w] of Object.entries(weak)) if (w.deref() === undefined) collected[name] = i;
  }
  kept.destroy();
  await tick();
  const after = (await ref.node.counters()).sockets;
  say({
    event: 'result',
    collected,
    keptAlive: keptRef.deref() !== undefined,
    before,
    after,
  });
  await lease.release();
  await ref.release();
})().catch((e) => {
  say({ event: 'fatal', message: String(e && e.stack) });
  process.exit(1);
});
