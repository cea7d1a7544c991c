// The main job: a ZeroTier network on one machine, offline. A root and a peer run in
// child processes; this process's node comes online through the root, finds the peer,
// talks to it through the root, then directly once the root has introduced them.
import { performance } from 'node:perf_hooks';

import { Identity, NodeService } from 'zerotier-sockets';

import { startLabRoot } from './lib/lab-processes.mjs';

const lab = await startLabRoot();
try {
  console.log(`lab root ${lab.address} on 127.0.0.1 (planet ${lab.planetFile})`);
  const peer = await lab.startPeer('peer');
  console.log(`peer ${peer.address} is online`);

  const identity = await Identity.generate();
  const started = performance.now();
  const ms = () => `${(performance.now() - started).toFixed(1)} ms`;
  // (In TypeScript: `await using ref = ...` releases it at the end of the block.)
  const ref = await NodeService.acquire({ identity, planet: lab.planetFile, lab: true });
  const node = ref.node;
  console.log(`this node is ${node.address}, UDP port ${node.port}`);
  node.on('path', (p) =>
    console.log(`  [${ms()}] direct path to ${p.address} at ${p.path} (${p.latency} ms)`),
  );
  await node.waitOnline();
  console.log(`  [${ms()}] online`);

  const first = await node.echo(peer.address, { timeoutMs: 3000 });
  console.log(
    `  [${ms()}] first ECHO answered by ${peer.address} in ${first?.rtt} ms (through the root)`,
  );
  await new Promise((r) => setTimeout(r, 200));
  const times = [];
  for (let i = 0; i < 10; i++) times.push((await node.echo(peer.address))?.rtt);
  const peers = await node.peers();
  const direct = peers.find((p) => p.address === peer.address)?.paths.find((p) => p.alive);
  console.log(
    `  ten more ECHOs over ${direct ? `the direct path ${direct.address}` : 'the root'}: ${times.join(' ')} ms`,
  );
  const relayed = lab.root.lines.filter((l) => l.event === 'stats').at(-1)?.relayed ?? 0;
  console.log(`  the root relayed ${relayed} datagrams in all`);
  const ext = await node.externalAddresses();
  console.log(
    `  the root sees us at ${ext.reports.map((r) => r.address).join(', ')} (NAT: ${ext.nat})`,
  );
} finally {
  lab.close();
}
