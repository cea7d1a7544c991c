// The receiving side of kernel TCP for bench/impaired-transfer.mjs (kernel-send.py sends):
//   kernel-transfer.cjs <host> <port>: accepts TCP, prints {"event":"ready"}, then at each
//     connection's end {"event":"received", bytes, sha256, seconds}.
'use strict';
const crypto = require('node:crypto');
const net = require('node:net');

const [host, port] = process.argv.slice(2);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const fail = (e) => {
  say({ event: 'error', code: e.code, message: e.message });
  process.exit(1);
};

net
  .createServer((s) => {
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    let t0;
    s.on('data', (d) => {
      t0 ??= process.hrtime.bigint();
      bytes += d.length;
      hash.update(d);
    });
    s.on('end', () => {
      const seconds = Number(process.hrtime.bigint() - (t0 ?? 0n)) / 1e9;
      say({ event: 'received', bytes, sha256: hash.digest('hex'), seconds });
      s.end();
    });
    s.on('error', fail);
  })
  .listen(Number(port), host, () => say({ event: 'ready' }));
