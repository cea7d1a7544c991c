// DNS figures on one machine: a lab network with names, this process's node resolving its
// own member name through the network's server (the lab's DNS member, over ZeroTier, TTL 0
// so every lookup is a query), against the same query to the lab's 127.0.0.1 server over
// kernel UDP; and the time from a rename through the API to the new name resolving.
// Usage: node bench/dns.mjs [rounds]   Prints lines, then one JSON object.
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

import dnsPacket from 'dns-packet';

import { NodeService, lookup, runningLab, startLab } from '../dist/index.mjs';
import { freeUdpPort } from '../examples/lib/lab-processes.mjs';

const rounds = Number(process.argv[2] ?? 300);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const lookupAll = promisify(lookup);

const dir = mkdtempSync(path.join(tmpdir(), 'zts-bench-dns-'));
const labDir = path.join(dir, 'lab');
const lab = await startLab({ dir: labDir, port: await freeUdpPort() });
try {
  const nwid = await lab.createNetwork({ name: 'bench', ipv4: ['10.147.40.0/24'], dns: true });
  const ref = await NodeService.acquire({
    storagePath: path.join(dir, 'b'),
    planet: lab.info.planetPath,
    lab: true,
  });
  await lab.request('POST', `/controller/network/${nwid}/member/${ref.node.address}`, {
    authorized: true,
    name: 'me',
  });
  const lease = await ref.node.join(nwid);
  await lease.ready({ timeoutMs: 30_000 });
  while (!(lease.dns?.servers.length > 0)) {
    await lease.info();
    await new Promise((r) => setTimeout(r, 50));
  }
  const name = `me.${lease.dns.domain}`;
  // Until the lab has seen our address (assigned at our first config request).
  for (;;) {
    try {
      await lookupAll(name, { family: 4 });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const zt = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await lookupAll(name, { family: 4 });
    zt.push((performance.now() - t) * 1000);
  }

  const { port } = runningLab(labDir).dns[nwid];
  const udp = dgram.createSocket('udp4');
  await new Promise((r) => udp.bind(0, '127.0.0.1', r));
  const local = [];
  for (let i = 0; i < rounds; i++) {
    const q = dnsPacket.encode({ type: 'query', id: i, questions: [{ type: 'A', name }] });
    const t = performance.now();
    udp.send(q, port, '127.0.0.1');
    await new Promise((r) => udp.once('message', r));
    local.push((performance.now() - t) * 1000);
    await new Promise((r) => setTimeout(r, 5)); // stay under the per-source rate limit
  }
  udp.close();

  const t0 = performance.now();
  await lab.request('POST', `/controller/network/${nwid}/member/${ref.node.address}`, {
    name: 'renamed',
  });
  for (;;) {
    try {
      await lookupAll(`renamed.${lease.dns.domain}`, { family: 4 });
      break;
    } catch {
      /* not yet */
    }
  }
  const renameMs = performance.now() - t0;

  console.log(`lookup over ZeroTier (UDP to the DNS member): median ${median(zt).toFixed(0)} us`);
  console.log(
    `same query to 127.0.0.1 (kernel UDP):         median ${median(local).toFixed(0)} us`,
  );
  console.log(`rename through the API to the new name resolving: ${renameMs.toFixed(0)} ms`);
  console.log(
    JSON.stringify({
      rounds,
      lookupZeroTierUs: Math.round(median(zt)),
      query127Us: Math.round(median(local)),
      renameToAnswerMs: Math.round(renameMs),
    }),
  );
  await lease.release();
  await ref.release();
} finally {
  await lab.close();
  rmSync(dir, { recursive: true, force: true });
}
