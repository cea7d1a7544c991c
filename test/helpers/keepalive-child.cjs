// Whether a node, a server or a socket keeps this process alive (ref/unref), by mode:
//   node-unref          the node unref'd, nothing else: the process ends by itself
//   server-holds        the node unref'd, a server listening until it is unref'd later
//   server-unref-only   the node ref'd (default), the server unref'd: the node holds on
// Prints JSON lines; the test watches when (and whether) the process exits.
'use strict';
const path = require('node:path');
const { NodeService, net } = require(path.resolve(__dirname, '..', '..', 'dist', 'index.js'));

const [mode, storage, planet] = process.argv.slice(2);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

(async () => {
  const ref = await NodeService.acquire({ storagePath: storage, planet, lab: true });
  if (mode === 'node-unref') {
    ref.node.unref();
    say({ event: 'unref' });
    return;
  }
  if (mode === 'server-holds') ref.node.unref();
  const server = net.createServer();
  server.listen(7000, () => say({ event: 'listening' }));
  if (mode === 'server-holds') {
    setTimeout(() => {
      say({ event: 'unref' });
      server.unref();
    }, 1500);
  } else {
    server.unref();
  }
})().catch((e) => {
  say({ event: 'fatal', message: String(e && e.stack) });
  process.exit(1);
});
