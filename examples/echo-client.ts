// Sends a message to an echo server on a ZeroTier network and prints what comes back.
//   npx tsx examples/echo-client.ts --storage ./zt-client --network <nwid> \
//     --host 10.147.17.2 [--port 7000] [--message hello]  [--planet <lab>/planet --lab]
import { once } from 'node:events';
import { parseArgs } from 'node:util';

import { NodeService, net } from 'zerotier-sockets';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      storage: { type: 'string', default: './zt-echo-client' },
      network: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string', default: '7000' },
      message: { type: 'string', default: 'hello over ZeroTier' },
      planet: { type: 'string' },
      lab: { type: 'boolean', default: false },
    },
  });
  if (values.network === undefined || values.host === undefined) {
    throw new Error('--network <nwid> and --host <ip> are required');
  }

  await using ref = await NodeService.acquire({
    storagePath: values.storage,
    planet: values.planet,
    lab: values.lab,
  });
  console.log(`node ${ref.node.address} joining ${values.network}`);
  const lease = await ref.node.join(values.network);
  await lease.ready({ timeoutMs: 60_000, waitForAuthorization: true });

  // A port as a string works, as with node:net.
  const socket = net.createConnection(values.port, values.host);
  await once(socket, 'connect');
  let reply = '';
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => (reply += text));
  socket.end(values.message); // half-close: the server echoes, then ends its side
  await once(socket, 'close');
  console.log(`echo: ${reply}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
