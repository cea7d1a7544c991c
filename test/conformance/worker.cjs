// One side of a conformance case, in a process of its own: runs case roles against
// node:net ('node', over loopback) or against our net ('zt', over a lab network), and
// reports what the case recorded. Commands arrive on stdin, one JSON object a line:
//   { id, run: 'tcp/echo', role: 'server' | 'client', host?, port? }
// Replies on stdout: { event: 'ready', ip } once usable, then per command
// { id, event: 'listening', port } (servers) and { id, event: 'finished', log, error? }.
// A role gets ctx { net, dgram, impl, host, port, listenHost, record, listening }; a new
// suite of cases (say udp-cases.cjs) is one more entry in `suites` below.
'use strict';
const path = require('node:path');
const readline = require('node:readline');

const [impl, planet, storage, nwid] = process.argv.slice(2);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const suites = {
  tcp: { ...require('./tcp-cases.cjs'), ...require('./tcp-failure-cases.cjs') },
};

/** Events as plain data: errors by code and syscall, bytes as text. */
function plain(value) {
  if (value instanceof Error) {
    const o = { error: value.code ?? value.name };
    if (value.syscall !== undefined) o.syscall = value.syscall;
    if (Array.isArray(value.errors)) o.errors = value.errors.map(plain);
    return o;
  }
  if (Buffer.isBuffer(value)) return { bytes: value.toString('latin1') };
  if (value === undefined) return '<undefined>';
  return value;
}

async function start() {
  if (impl === 'node') {
    return {
      net: require('node:net'),
      dgram: require('node:dgram'),
      ip: '127.0.0.1',
      listenHost: '127.0.0.1',
    };
  }
  const zt = require(path.resolve(__dirname, '..', '..', 'dist', 'index.js'));
  const ref = await zt.NodeService.acquire({ storagePath: storage, planet, lab: true });
  say({ event: 'started', address: ref.node.address });
  const lease = await ref.node.join(nwid);
  const info = await lease.ready({ timeoutMs: 30000, waitForAuthorization: true });
  const ip = info.addresses.find((a) => a.includes('.')).split('/')[0];
  return { net: zt.net, dgram: zt.dgram, ip, listenHost: undefined };
}

(async () => {
  const env = await start();
  say({ event: 'ready', ip: env.ip });
  readline.createInterface({ input: process.stdin }).on('line', async (line) => {
    const cmd = JSON.parse(line);
    const [suite, name] = cmd.run.split('/');
    const testCase = suites[suite]?.[name];
    const log = [];
    const ctx = {
      net: env.net,
      dgram: env.dgram,
      impl,
      host: cmd.host,
      port: cmd.port,
      listenHost: env.listenHost,
      record: (event, ...args) => log.push([event, ...args.map(plain)]),
      listening: (port) => say({ id: cmd.id, event: 'listening', port }),
    };
    try {
      if (!testCase) throw new Error(`no case ${cmd.run}`);
      await testCase[cmd.role](ctx);
      say({ id: cmd.id, event: 'finished', log });
    } catch (e) {
      say({ id: cmd.id, event: 'finished', log, error: String(e && e.stack) });
    }
  });
})().catch((e) => {
  say({ event: 'fatal', message: String(e && e.stack) });
  process.exit(1);
});
