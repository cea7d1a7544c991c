// An echo server on a ZeroTier network: whatever a client sends comes back.
//   npx tsx examples/echo-server.ts --storage ./zt-server --network <nwid> [--port 7000]
//     [--planet <lab>/planet --lab]   (a lab network on this machine)
// The node prints its address first: authorize it on the network's controller.
import { parseArgs } from 'node:util';

import { NodeService, net } from 'zerotier-sockets';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      storage: { type: 'string', default: './zt-echo-server' },
      network: { type: 'string' },
      port: { type: 'string', default: '7000' },
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

  // Exactly node:net's shape: the same code runs on node:net.
  const server = net.createServer((socket) => {
    socket.pipe(socket); // echo; pipe() ends our side when the client ends theirs
    socket.on('error', (e) => console.error(`client ${socket.remoteAddress}: ${e.message}`));
  });
  server.listen(Number(values.port), () => {
    const ip = addresses[0]?.split('/')[0];
    console.log(`echo server listening on ${ip}:${server.address()?.port}`);
  });

  const stop = () => server.close(() => void ref.release());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
