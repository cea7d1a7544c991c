// The main job: a private ZeroTier network on this machine, offline. The lab (a root and
// a controller) runs in the background; a peer in another process serves HTTP on its
// ZeroTier address; this process's node joins the network and fetches a page from it
// with node:http, unchanged, over a ZeroTier socket.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { NodeService, net, startLab } from 'zerotier-sockets';

import { freeUdpPort } from './lib/lab-processes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'zts-demo-'));
const lab = await startLab({ dir: path.join(dir, 'lab'), port: await freeUdpPort() });
let peer;
try {
  console.log(`lab up: controller and root ${lab.info.controllerAddress}, API ${lab.info.apiUrl}`);
  const nwid = await lab.createNetwork({ name: 'demo', ipv4: ['10.147.17.0/24'] });
  console.log(`network ${nwid} created (10.147.17.0/24)`);

  peer = spawn(
    process.execPath,
    [path.join(here, 'lib', 'http-peer.cjs'), lab.info.planetPath, path.join(dir, 'peer'), nwid],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: peer.stdout })[Symbol.asyncIterator]();
  const peerAddress = JSON.parse((await lines.next()).value).address;
  await lab.authorize(nwid, peerAddress);

  const started = performance.now();
  const ms = () => `${(performance.now() - started).toFixed(0)} ms`;
  const ref = await NodeService.acquire({
    storagePath: path.join(dir, 'me'),
    planet: lab.info.planetPath,
    lab: true,
  });
  const node = ref.node;
  await lab.authorize(nwid, node.address);
  const lease = await node.join(nwid);
  const me = await lease.ready({ timeoutMs: 20000, waitForAuthorization: true });
  console.log(
    `[${ms()}] this node ${node.address} joined "${me.name}" as ${me.addresses.join(', ')}`,
  );
  const peerIp = JSON.parse((await lines.next()).value).ip.split('/')[0];
  console.log(`peer ${peerAddress} serves HTTP at ${peerIp}:80`);

  const body = await new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: peerIp,
        port: 80,
        path: '/demo',
        createConnection: () => net.createConnection({ host: peerIp, port: 80 }),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(`${res.statusCode} ${text.trim()}`));
      },
    );
    req.on('error', reject);
    req.end();
  });
  console.log(`[${ms()}] GET http://${peerIp}/demo -> ${body}`);
  const peers = await node.peers();
  const p = peers.find((x) => x.address === peerAddress);
  console.log(
    `path to the peer: ${p?.paths.find((x) => x.alive)?.address ?? 'relayed by the root'}, latency ${p?.latency} ms`,
  );
  await lease.release();
  await ref.release();
} finally {
  peer?.kill();
  await lab.close();
  rmSync(dir, { recursive: true, force: true });
}
