// One side of bench/impaired-transfer.mjs, in its own process (one node per process):
//   receive <planet> <storage> <nwid> <port>: joins, accepts TCP on <port>, and for each
//     connection prints {"event":"received", bytes, sha256, seconds} at its end;
//   send <planet> <storage> <nwid> <host> <port> <MiB> [connect-seconds]: joins, sends <MiB>
//     MiB of random bytes, prints {"event":"sent", bytes, sha256, seconds, connectSeconds}
//     once the peer has closed (the connect may take up to connect-seconds, default 30;
//     connectSeconds is when it was made, within seconds).
// Prints {"event":"started", address} first and {"event":"ready", addresses} once joined.
'use strict';
const crypto = require('node:crypto');
const path = require('node:path');
const checkedReceiver = require('./checked-receiver.cjs');
const { NodeService, net } = require(path.resolve(__dirname, '..', '..', 'dist', 'index.js'));

const [mode, planet, storage, nwid, ...rest] = process.argv.slice(2);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

(async () => {
  const ref = await NodeService.acquire({ storagePath: storage, planet, lab: true });
  say({ event: 'started', address: ref.node.address });
  const lease = await ref.node.join(nwid);
  const info = await lease.ready({ timeoutMs: 60_000, waitForAuthorization: true });
  if (mode === 'receive') {
    net
      .createServer(
        checkedReceiver(say, (e) => say({ event: 'error', code: e.code, message: e.message })),
      )
      .listen(Number(rest[0]));
    say({ event: 'ready', addresses: info.addresses });
    return;
  }
  say({ event: 'ready', addresses: info.addresses });
  const [host, port, mib, connectSeconds = '30'] = rest;
  const data = crypto.randomBytes(Number(mib) * 1024 * 1024);
  const sha256 = crypto.createHash('sha256').update(data).digest('hex');
  const t0 = process.hrtime.bigint();
  const s = net.createConnection({
    host,
    port: Number(port),
    timeoutMs: Number(connectSeconds) * 1000,
  });
  s.on('error', (e) => {
    say({ event: 'error', code: e.code, message: e.message });
    process.exit(1);
  });
  let connectedAfter;
  s.on('connect', () => {
    connectedAfter = Number(process.hrtime.bigint() - t0) / 1e9;
    s.end(data);
  });
  s.resume();
  s.on('close', () => {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    say({ event: 'sent', bytes: data.length, sha256, seconds, connectSeconds: connectedAfter });
    process.exit(0);
  });
})().catch((e) => {
  say({ event: 'fatal', message: e.message, code: e.code });
  process.exit(1);
});
