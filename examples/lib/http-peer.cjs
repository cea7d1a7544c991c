// The demo's second machine: a node in its own process (one node per process) that joins
// the lab network and serves HTTP on port 80 of its ZeroTier address.
'use strict';
const http = require('node:http');
const { NodeService, net } = require('zerotier-sockets');

const [planet, storage, nwid] = process.argv.slice(2);
(async () => {
  const ref = await NodeService.acquire({ storagePath: storage, planet, lab: true });
  process.stdout.write(`${JSON.stringify({ address: ref.node.address })}\n`);
  const lease = await ref.node.join(nwid);
  const info = await lease.ready({ timeoutMs: 20000, waitForAuthorization: true });
  const web = http.createServer((req, res) =>
    res.end(`hello from ${ref.node.address} over ZeroTier (${req.url})\n`),
  );
  // Node's HTTP server takes connections from any stream server: hand it ours.
  net
    .createServer((socket) => web.emit('connection', socket))
    .listen(80, () => {
      process.stdout.write(`${JSON.stringify({ ip: info.addresses[0] })}\n`);
    });
})().catch((e) => {
  process.stderr.write(`peer: ${e.message}\n`);
  process.exit(1);
});
