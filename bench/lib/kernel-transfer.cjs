// The receiving side of kernel TCP for bench/impaired-transfer.mjs (kernel-send.py sends):
//   kernel-transfer.cjs <host> <port>: accepts TCP, prints {"event":"ready"}, then at each
//     connection's end {"event":"received", bytes, sha256, seconds}.
'use strict';
const net = require('node:net');

const checkedReceiver = require('./checked-receiver.cjs');

const [host, port] = process.argv.slice(2);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const fail = (e) => {
  say({ event: 'error', code: e.code, message: e.message });
  process.exit(1);
};

net
  .createServer(checkedReceiver(say, fail))
  .listen(Number(port), host, () => say({ event: 'ready' }));
