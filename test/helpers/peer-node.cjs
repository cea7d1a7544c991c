// A peer for the network tests, in its own process (one node per process): joins a
// network, echoes TCP on 7000 and UDP on 7001, and runs commands from stdin (one JSON
// object per line) so the test can make it connect back. Prints JSON lines.
'use strict';
const path = require('node:path');
const readline = require('node:readline');
const { NodeService, net, dgram } = require(
  path.resolve(__dirname, '..', '..', 'dist', 'index.js'),
);

const [planet, storage, nwid] = process.argv.slice(2);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

(async () => {
  const ref = await NodeService.acquire({ storagePath: storage, planet, lab: true });
  const node = ref.node;
  say({ event: 'started', address: node.address });
  node.on('network-status', (e) => say({ event: 'status', network: e.network, status: e.status }));
  const lease = await node.join(nwid);
  const info = await lease.ready({ timeoutMs: 20000, waitForAuthorization: true });
  net
    .createServer((s) => {
      s.on('data', (d) => s.write(d));
      s.on('end', () => s.end());
      s.on('error', () => undefined);
    })
    .listen(7000);
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
  udp.bind(7001, () => say({ event: 'ready', address: node.address, addresses: info.addresses }));

  readline.createInterface({ input: process.stdin }).on('line', async (line) => {
    const cmd = JSON.parse(line);
    if (cmd.connect) {
      const s = net.createConnection({ host: cmd.connect, port: cmd.port, timeoutMs: 5000 });
      let got = '';
      s.on('data', (d) => {
        got += d;
        if (got.length >= cmd.text.length) {
          say({ event: 'connected-echo', text: got });
          s.end();
        }
      });
      s.on('error', (e) => say({ event: 'connect-error', code: e.code }));
      s.write(cmd.text);
    }
  });
})().catch((e) => {
  say({ event: 'fatal', message: e.message, code: e.code });
  process.exit(1);
});
