/**
 * The lab's name server on its networks: a child process of the lab with a node of its own
 * (a process has one node, and the lab's is the root and controller). The lab authorizes
 * it on every network with DNS; it serves UDP and TCP port 53 on its addresses there
 * (lwIP has no privileged ports) with the zones the lab sends it over IPC as members
 * change. It exits when the lab goes away.
 *
 * IPC, lab -> member: { type: 'zones', zones: ZoneSpec[] }, { type: 'counters' }.
 * Member -> lab: { type: 'hello', address }, { type: 'serving', nwid, addresses },
 * { type: 'error', nwid, message }, { type: 'counters', counters: { nwid: counters } }.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { NodeService, type NodeRef } from '../node.js';
import type { NetworkLease } from '../network.js';
import { DnsResponder, type ResponderCounters } from '../dns/responder.js';
import { serveDatagrams, serveStream } from '../dns/serve.js';
import { buildZone, type Zone, type ZoneSpec } from '../dns/zone.js';
import type { Server } from '../sockets/tcp.js';
import type { UdpSocket } from '../sockets/udp.js';
import { dgram, net } from '../net.js';

export type MemberMessage =
  | { type: 'hello'; address: string }
  | { type: 'serving'; nwid: string; addresses: string[] }
  | { type: 'error'; nwid: string; message: string }
  | { type: 'counters'; counters: Record<string, ResponderCounters> };

export type LabMessage = { type: 'zones'; zones: ZoneSpec[] } | { type: 'counters' };

const DNS_PORT = 53;
const JOIN_TIMEOUT_MS = 120_000;

interface Served {
  lease: NetworkLease | undefined;
  zone: Zone;
  responder: DnsResponder;
  sockets: Array<UdpSocket | Server>;
  closed: boolean;
}

function send(msg: MemberMessage): void {
  process.send?.(msg);
}

/** Registered before anything is awaited, so a second zones message finds it. */
function startServing(ref: NodeRef, spec: ZoneSpec): { entry: Served; done: Promise<void> } {
  const entry: Served = {
    lease: undefined,
    zone: buildZone(spec),
    responder: new DnsResponder(() => [entry.zone]),
    sockets: [],
    closed: false,
  };
  // Each network's responder sees only that network's zone: members of one network learn
  // nothing of another's.
  const done = (async () => {
    entry.lease = await ref.node.join(spec.nwid);
    if (entry.closed) return void (await entry.lease.release());
    const info = await entry.lease.ready({
      timeoutMs: JOIN_TIMEOUT_MS,
      waitForAuthorization: true,
    });
    if (entry.closed) return;
    const addresses = info.addresses.map((a) => a.split('/')[0] ?? a);
    for (const ip of addresses) {
      const udp = dgram.createSocket({ type: ip.includes(':') ? 'udp6' : 'udp4', node: ref.node });
      serveDatagrams(udp, entry.responder);
      udp.bind(DNS_PORT, ip);
      const tcp = net.createServer({ node: ref.node }, (s) => serveStream(s, entry.responder));
      tcp.listen(DNS_PORT, ip);
      entry.sockets.push(udp, tcp);
    }
    send({ type: 'serving', nwid: spec.nwid, addresses });
  })();
  return { entry, done };
}

async function stopServing(entry: Served): Promise<void> {
  entry.closed = true;
  for (const s of entry.sockets) s.close();
  await entry.lease?.release();
}

export async function runDnsMember(storagePath: string, planetPath: string): Promise<void> {
  // The same UDP port as last time when it is free: members that talked to us before a
  // lab restart then still reach us on the path they know.
  const portFile = path.join(storagePath, 'port');
  const lastPort = Number((await readFile(portFile, 'utf8').catch(() => '')).trim());
  let ref: NodeRef;
  try {
    ref = await NodeService.acquire({
      storagePath,
      planet: planetPath,
      lab: true,
      port: Number.isInteger(lastPort) && lastPort > 0 && lastPort < 65536 ? lastPort : 0,
    });
  } catch {
    ref = await NodeService.acquire({ storagePath, planet: planetPath, lab: true });
  }
  await writeFile(portFile, `${ref.node.port}\n`).catch(() => undefined);
  const served = new Map<string, Served>();
  const stop = async () => {
    for (const entry of served.values()) await stopServing(entry).catch(() => undefined);
    await ref.release();
    process.exit(0);
  };
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('message', (msg: LabMessage) => {
    if (msg?.type === 'counters') {
      const counters: Record<string, ResponderCounters> = {};
      for (const [nwid, entry] of served) counters[nwid] = entry.responder.counters;
      send({ type: 'counters', counters });
      return;
    }
    if (msg?.type !== 'zones') return;
    const wanted = new Map(msg.zones.map((z) => [z.nwid, z]));
    for (const [nwid, entry] of served) {
      if (!wanted.has(nwid)) {
        served.delete(nwid);
        void stopServing(entry).catch(() => undefined);
      }
    }
    for (const [nwid, spec] of wanted) {
      const entry = served.get(nwid);
      if (entry !== undefined) {
        entry.zone = buildZone(spec); // answers change with the next query
        continue;
      }
      const { entry: started, done } = startServing(ref, spec);
      served.set(nwid, started);
      done.catch((e: unknown) => {
        if (served.get(nwid) === started) served.delete(nwid);
        void stopServing(started).catch(() => undefined);
        send({ type: 'error', nwid, message: (e as Error).message });
      });
    }
  });
  send({ type: 'hello', address: ref.node.address });
}

if (require.main === module) {
  const [storagePath, planetPath] = process.argv.slice(2);
  if (storagePath === undefined || planetPath === undefined || process.send === undefined) {
    process.stderr.write('dns-member: started by the lab only (storage, planet, IPC)\n');
    process.exit(2);
  }
  runDnsMember(storagePath, planetPath).catch((e: unknown) => {
    process.stderr.write(`dns-member: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
