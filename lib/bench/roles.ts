/**
 * What each benchmark worker process does: a server (echo, hashing sink, UDP echo) or a
 * client (runs the parent's commands) over either stack, and the one-shot roles that need
 * a fresh process: start to first byte, many connections, and an idle joined node.
 */
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { NodeService } from '../node.js';
import {
  duplex,
  echo,
  hashingSink,
  manyConnections,
  oneWay,
  tcpRoundTrips,
  udpEcho,
  udpRoundTrips,
  withDeadline,
} from './measures.js';
import {
  LAB_PORTS,
  WORKER_CONFIG_ENV,
  type ClientCommand,
  type FirstByteResult,
  type IdleResult,
  type LabNodeConfig,
  type ServerTarget,
  type WorkerConfig,
  type WorkerMessage,
} from './protocol.js';
import { transportNamed, zeroTierTransport } from './transport.js';

/** How long a worker's node may take to come online and get its address. */
const JOIN_TIMEOUT_MS = 30_000;
const MiB = 1024 * 1024;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

function errorReport(e: unknown): { message: string; code?: string } {
  const err = e as Error & { code?: string };
  return { message: err?.message ?? String(e), ...(err?.code ? { code: err.code } : {}) };
}

/** Starts this process's node and joins the lab network; resolves with our IPv4 address. */
async function joinLab(lab: LabNodeConfig): Promise<{ host: string; leave: () => Promise<void> }> {
  const ref = await NodeService.acquire({
    storagePath: lab.storage,
    planet: lab.planet,
    lab: true,
  });
  send({ type: 'started', address: ref.node.address });
  const lease = await ref.node.join(lab.nwid);
  const info = await lease.ready({ timeoutMs: JOIN_TIMEOUT_MS, waitForAuthorization: true });
  const v4 = info.addresses.find((a) => a.includes('.'));
  if (v4 === undefined) throw new Error(`no IPv4 address on ${lab.nwid}`);
  return {
    host: v4.split('/')[0] ?? v4,
    leave: async () => {
      await lease.release();
      await ref.release();
    },
  };
}

async function runServer(config: Extract<WorkerConfig, { role: 'server' }>): Promise<void> {
  const t = transportNamed(config.transport);
  let host = '127.0.0.1';
  let ports: Omit<ServerTarget, 'host'> = { echoPort: 0, sinkPort: 0, udpPort: 0 };
  if (config.lab !== undefined) {
    host = (await joinLab(config.lab)).host;
    ports = { ...LAB_PORTS };
  }
  // Ours listens on every address of the network (there is one); the kernel's on loopback.
  const listenHost = config.lab !== undefined ? '' : host;
  const echoPort = await t.listen(listenHost, ports.echoPort, echo);
  const sinkPort = await t.listen(listenHost, ports.sinkPort, hashingSink);
  const udp = await t.bindUdp(listenHost, ports.udpPort);
  udpEcho(udp.socket);
  send({ type: 'ready', target: { host, echoPort, sinkPort, udpPort: udp.port } });
}

async function runClient(config: Extract<WorkerConfig, { role: 'client' }>): Promise<void> {
  const t = transportNamed(config.transport);
  const host = config.lab !== undefined ? (await joinLab(config.lab)).host : '127.0.0.1';
  // Random bytes (made once per size) so that nothing on the way can compress them.
  const payloads = new Map<number, { data: Buffer; digest: Buffer }>();
  const payload = (bytes: number) => {
    let p = payloads.get(bytes);
    if (p === undefined) {
      const data = randomBytes(bytes);
      p = { data, digest: createHash('sha256').update(data).digest() };
      payloads.set(bytes, p);
    }
    return p;
  };
  const run = (c: ClientCommand): Promise<unknown> => {
    switch (c.cmd) {
      case 'throughput': {
        const p = payload(c.bytes);
        return oneWay(t, c.target, p.data, p.digest, c.timeoutMs);
      }
      case 'duplex': {
        const p = payload(c.bytes);
        return duplex(t, c.target, p.data, p.digest, c.timeoutMs);
      }
      case 'rtt':
        return tcpRoundTrips(t, c.target, c.rounds, c.timeoutMs);
      case 'udpRtt':
        return udpRoundTrips(t, c.target, c.rounds, c.timeoutMs);
    }
  };
  // One command at a time, in order: figures must not disturb each other.
  let queue = Promise.resolve();
  process.on('message', (c: ClientCommand) => {
    queue = queue.then(() =>
      run(c).then(
        (result) => send({ type: 'reply', id: c.id, result }),
        (e: unknown) => send({ type: 'reply', id: c.id, error: errorReport(e) }),
      ),
    );
  });
  send({ type: 'ready', target: { host, echoPort: 0, sinkPort: 0, udpPort: 0 } });
}

/** In a fresh process: start the node, join, connect to the peer, get one byte echoed. */
async function firstByte(
  config: Extract<WorkerConfig, { role: 'first-byte' }>,
): Promise<FirstByteResult> {
  const t0 = performance.now();
  const { leave } = await joinLab(config.lab);
  const socket = await zeroTierTransport.connect(
    config.target.host,
    config.target.echoPort,
    config.timeoutMs,
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('data', () => resolve());
    socket.once('error', reject);
    socket.write('x');
  });
  const t1 = performance.now();
  socket.destroy();
  await leave();
  return { acquireToFirstByteMs: t1 - t0, processToFirstByteMs: t1 };
}

async function idle(
  config: Extract<WorkerConfig, { role: 'idle' }>,
  bareRss: number,
): Promise<IdleResult> {
  // The package is loaded (this module imports it) but no node runs yet.
  (globalThis as { gc?: () => void }).gc?.();
  const loadedRss = process.memoryUsage.rss();
  const { leave } = await joinLab(config.lab);
  await new Promise((r) => setTimeout(r, config.settleMs));
  (globalThis as { gc?: () => void }).gc?.();
  const joinedRss = process.memoryUsage.rss();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, config.seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wallUs = (performance.now() - t0) * 1000;
  await leave();
  return {
    bareRssMB: bareRss / MiB,
    loadedRssMB: loadedRss / MiB,
    joinedRssMB: joinedRss / MiB,
    rssAddedMB: (joinedRss - bareRss) / MiB,
    cpuPercent: ((cpu.user + cpu.system) / wallUs) * 100,
    seconds: wallUs / 1e6,
  };
}

async function oneShot(config: WorkerConfig, bareRss: number): Promise<unknown> {
  switch (config.role) {
    case 'first-byte':
      return firstByte(config);
    case 'connections': {
      const t = transportNamed(config.transport);
      if (config.lab !== undefined) await joinLab(config.lab);
      return manyConnections(t, config.target, config.count, config.timeoutMs);
    }
    case 'idle':
      return idle(config, bareRss);
    default:
      throw new Error(`not a one-shot role: ${config.role}`);
  }
}

export async function runWorker(bareRss: number): Promise<void> {
  const config = JSON.parse(process.env[WORKER_CONFIG_ENV] ?? 'null') as WorkerConfig | null;
  if (config === null) throw new Error(`${WORKER_CONFIG_ENV} is not set: this is a bench worker`);
  // The parent gone (or done with us) ends the worker, node and all.
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  if (config.role === 'server') return runServer(config);
  if (config.role === 'client') return runClient(config);
  // Past its deadline the worker reports a failure (worker.ts) and exits.
  const result = await withDeadline(config.role, config.timeoutMs, () => oneShot(config, bareRss));
  send({ type: 'result', result });
  process.disconnect?.();
}
