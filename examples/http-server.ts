// node:http, unchanged, serving on a ZeroTier network: a ZeroTier listener hands its
// connections to an ordinary http.Server.
//   npx tsx examples/http-server.ts --storage ./zt-http --network <nwid> [--port 80]
//     [--planet <lab>/planet --lab]
// From another node: http.get({ host, port, createConnection: () => net.createConnection(...) })
import http from 'node:http';
import { parseArgs } from 'node:util';

import { NodeService, net } from 'zerotier-sockets';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      storage: { type: 'string', default: './zt-http' },
      network: { type: 'string' },
      port: { type: 'string', default: '80' },
      planet: { type: 'string' },
      lab: { type: 'boolean', default: false },
    },
  });
  if (values.network === undefined) throw new Error('--network <nwid> is required');

  const ref = await NodeService.acquire({
    storagePath: values.storage,
    planet: values.planet,
    lab: values.lab,
  });
  console.log(`node ${ref.node.address} joining ${values.network}`);
  const lease = await ref.node.join(values.network);
  const { addresses } = await lease.ready({ timeoutMs: 60_000, waitForAuthorization: true });

  const app = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello ${req.socket.remoteAddress}, you asked for ${req.url}\n`);
  });
  const listener = net.createServer((socket) => app.emit('connection', socket));
  listener.listen(Number(values.port), () => {
    console.log(`http server on http://${addresses[0]?.split('/')[0]}:${values.port}/`);
  });

  const stop = () => listener.close(() => void ref.release());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
