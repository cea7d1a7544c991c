// Member A of the DNS tests, in its own process (one node per process): joins a network,
// then serves TCP echo on 7000, UDP echo on 7001 and HTTP on 8080 (answering with its own
// ZeroTier address). Prints JSON lines: started, ready.
'use strict';
const http = require('node:http');
const path = require('node:path');
const { NodeService, net, dgram } = require(
  path.resolve(__dirname, '..', '..', 'dist', 'index.js'),
);

const [planet, storage, nwid] = process.argv.slice(2);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

(async () => {
  const ref = await NodeService.acquire({ storagePath: storage, planet, lab: true });
  const node = ref.node;
  say({ event: 'started', address: node.address });
  const lease = await node.join(nwid);
  const info = await lease.ready({ timeoutMs: 30000, waitForAuthorization: true });
  net
    .createServer((s) => {
      s.on('data', (d) => s.write(d));
      s.on('end', () => s.end());
      s.on('error', () => undefined);
    })
    .listen(7000);
  const web = http.createServer((req, res) => res.end(`hello from ${node.address} ${req.url}`));
  net.createServer((s) => web.emit('connection', s)).listen(8080);
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
  udp.bind(7001, () => say({ event: 'ready', address: node.address, addresses: info.addresses }));
})().catch((e) => {
  say({ event: 'fatal', message: e.message, code: e.code });
  process.exit(1);
});
