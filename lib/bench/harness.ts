/**
 * The benchmark run: a lab (root + controller) and worker processes on this machine, the
 * same measurements over ZeroTier and over node:net on kernel loopback, several runs each.
 * Every step has a deadline; a step that fails or times out is recorded, never waited on.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Identity } from '../identity.js';
import { startLab, type LabHandle } from '../lab/client.js';
import { addon } from '../native.js';
import type {
  ConnectionsResult,
  FirstByteResult,
  IdleResult,
  LabNodeConfig,
  RoundTripResult,
  ServerTarget,
  TransferResult,
  TransportName,
  WorkerConfig,
} from './protocol.js';
import { BenchWorker } from './worker-handle.js';
import { freeLoopbackPort } from './ports.js';

export const FIGURES = [
  'throughput',
  'duplex',
  'rtt',
  'udp',
  'start',
  'connections',
  'idle',
] as const;
export type FigureName = (typeof FIGURES)[number];

export interface BenchSizes {
  transferBytes: number;
  rttRounds: number;
  udpRounds: number;
  connections: number;
  idleSeconds: number;
}

export function sizesFor(quick: boolean): BenchSizes {
  return quick
    ? {
        transferBytes: 4 * 1024 * 1024,
        rttRounds: 100,
        udpRounds: 100,
        connections: 50,
        idleSeconds: 1,
      }
    : {
        transferBytes: 64 * 1024 * 1024,
        rttRounds: 1000,
        udpRounds: 1000,
        connections: 1000,
        idleSeconds: 10,
      };
}

export interface BenchOptions {
  runs: number;
  sizes: BenchSizes;
  only: readonly FigureName[];
  /** One line per step, as it starts and as it ends. */
  progress?: (line: string) => void;
}

export interface Failure {
  figure: FigureName;
  transport: TransportName;
  run: number;
  error: string;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  kernel: string;
  totalMemoryMB: number;
  loadAverage: { start: number[]; end: number[] };
  libraries: Record<string, string>;
}

type ByTransport<T> = Record<TransportName, T[]>;

/** Every run's raw result; report.ts turns them into figures. */
export interface BenchSamples {
  machine: MachineInfo;
  runs: number;
  sizes: BenchSizes;
  only: FigureName[];
  throughput: ByTransport<TransferResult>;
  duplex: ByTransport<TransferResult>;
  rtt: ByTransport<RoundTripResult>;
  udp: ByTransport<RoundTripResult>;
  start: FirstByteResult[];
  connections: ByTransport<ConnectionsResult>;
  idle: IdleResult[];
  failures: Failure[];
}

/** Grace beyond a step's own deadline before the parent gives up on its worker. */
const GRACE_MS = 15_000;
/** How long workers get to start their node and join (or to listen, for node:net). */
const SETUP_MS = 45_000;
const byTransport = <T>(): ByTransport<T> => ({ zerotier: [], net: [] });

/** Deadlines: generous against today's speeds, so a slow build fails a figure, not the run. */
function deadlines(sizes: BenchSizes) {
  return {
    // 10 s plus the transfer at 2 MB/s.
    transferMs: 10_000 + Math.round(sizes.transferBytes / 2000),
    rttMs: 10_000 + sizes.rttRounds * 30,
    udpMs: 10_000 + sizes.udpRounds * 30,
    startMs: 30_000,
    connectionsMs: 60_000,
    idleMs: 60_000 + sizes.idleSeconds * 1000,
  };
}

function describeError(e: unknown): string {
  const err = e as Error & { code?: string };
  const text = err?.message ?? String(e);
  return err?.code && !text.includes(err.code) ? `${text} (${err.code})` : text;
}

/** The pieces the run holds: torn down in one place, also on Ctrl-C. */
class Resources {
  readonly workers = new Set<BenchWorker>();
  lab: LabHandle | undefined;
  constructor(readonly dir: string) {}

  spawn(config: WorkerConfig): BenchWorker {
    const w = new BenchWorker(config);
    this.workers.add(w);
    w.child.once('exit', () => this.workers.delete(w));
    return w;
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.stop()));
    await this.lab?.close().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function runBench(options: BenchOptions): Promise<BenchSamples> {
  const { runs, sizes, only } = options;
  const say = options.progress ?? (() => undefined);
  const limits = deadlines(sizes);
  const wanted = (f: FigureName) => only.includes(f);
  const samples: BenchSamples = {
    machine: machineInfo(),
    runs,
    sizes,
    only: [...only],
    throughput: byTransport(),
    duplex: byTransport(),
    rtt: byTransport(),
    udp: byTransport(),
    start: [],
    connections: byTransport(),
    idle: [],
    failures: [],
  };
  const res = new Resources(mkdtempSync(path.join(os.tmpdir(), 'zts-bench-')));
  // The lab runs detached (it outlives its starter by design): an interrupted bench must
  // stop it, and its workers, itself.
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const interrupted = (signal: NodeJS.Signals) => {
    void res.close().finally(() => process.exit(128 + os.constants.signals[signal]));
  };
  for (const signal of signals) process.once(signal, interrupted);
  try {
    say('starting a lab (root + controller) on loopback');
    res.lab = await startLab({ dir: path.join(res.dir, 'lab'), port: await freeLoopbackPort() });
    const lab = res.lab;
    const nwid = await lab.createNetwork({ name: 'bench', ipv4: ['10.147.17.0/24'] });
    const labNode = (name: string): LabNodeConfig => ({
      planet: lab.info.planetPath,
      storage: path.join(res.dir, name),
      nwid,
    });
    /** A node that starts already authorized, as a stored member would. */
    const freshLabNode = async (name: string): Promise<LabNodeConfig> => {
      const config = labNode(name);
      mkdirSync(config.storage, { recursive: true });
      const id = await Identity.generate();
      await id.writeFiles(
        path.join(config.storage, 'identity.secret'),
        path.join(config.storage, 'identity.public'),
      );
      await lab.authorize(nwid, id.address);
      return config;
    };
    const startPair = async (transport: TransportName) => {
      const zt = transport === 'zerotier';
      const server = res.spawn({
        role: 'server',
        transport,
        ...(zt ? { lab: labNode('server') } : {}),
      });
      const client = res.spawn({
        role: 'client',
        transport,
        ...(zt ? { lab: labNode('client') } : {}),
      });
      if (zt) {
        await Promise.all(
          [server, client].map(async (w) => lab.authorize(nwid, await w.started(SETUP_MS))),
        );
      }
      const [target] = await Promise.all([server.ready(SETUP_MS), client.ready(SETUP_MS)]);
      return { client, target };
    };

    say('starting the server and client processes (ZeroTier and node:net)');
    const pairs = await Promise.all([startPair('zerotier'), startPair('net')]);
    const pair = { zerotier: pairs[0], net: pairs[1] };

    const perTransport: FigureName[] = ['throughput', 'duplex', 'rtt', 'udp', 'connections'];
    const total = only.reduce((n, f) => n + runs * (perTransport.includes(f) ? 2 : 1), 0);
    let done = 0;
    /** Runs one step; its failure is recorded and the run goes on. */
    const step = async <T>(
      figure: FigureName,
      transport: TransportName,
      run: number,
      label: string,
      work: () => Promise<T>,
      show: (r: T) => string,
      check?: (r: T) => string | undefined,
    ): Promise<T | undefined> => {
      const head = `[${++done}/${total}] run ${run}/${runs} ${label}`;
      say(`${head} ...`);
      try {
        const r = await work();
        const wrong = check?.(r);
        if (wrong !== undefined) throw new Error(wrong);
        say(`${head}: ${show(r)}`);
        return r;
      } catch (e) {
        samples.failures.push({ figure, transport, run, error: describeError(e) });
        say(`${head}: FAILED ${describeError(e)}`);
        return undefined;
      }
    };
    const over = (t: TransportName) => (t === 'zerotier' ? 'ZeroTier' : 'node:net');
    const mib = `${sizes.transferBytes / 1024 / 1024} MiB`;
    const hashed = (r: TransferResult) => (r.sha256Ok ? undefined : 'SHA-256 mismatch');
    const mbps = (r: TransferResult) => `${r.mbps.toFixed(1)} MB/s`;
    const us = (r: RoundTripResult) =>
      `median ${r.medianUs.toFixed(0)} us, p99 ${r.p99Us.toFixed(0)} us${r.lost ? `, ${r.lost} lost` : ''}`;
    const transports: TransportName[] = ['zerotier', 'net'];

    // Figure by figure; within a run ZeroTier and node:net back to back, so that the
    // machine's load (shared, noisy) weighs on both alike.
    for (const figure of FIGURES.filter(wanted)) {
      for (let run = 1; run <= runs; run++) {
        if (figure === 'start') {
          const r = await step(
            figure,
            'zerotier',
            run,
            'start to first echoed byte (fresh process, ZeroTier)',
            async () => {
              const config = await freshLabNode(`first-byte-${run}`);
              const w = res.spawn({
                role: 'first-byte',
                lab: config,
                target: pair.zerotier.target,
                timeoutMs: limits.startMs,
              });
              try {
                return await w.result<FirstByteResult>(limits.startMs + GRACE_MS);
              } finally {
                await w.stop();
              }
            },
            (r) =>
              `${r.acquireToFirstByteMs.toFixed(1)} ms (${r.processToFirstByteMs.toFixed(0)} ms from exec)`,
          );
          if (r) samples.start.push(r);
          continue;
        }
        if (figure === 'idle') {
          const r = await step(
            figure,
            'zerotier',
            run,
            `idle joined node (fresh process, ${sizes.idleSeconds} s)`,
            async () => {
              const w = res.spawn({
                role: 'idle',
                lab: await freshLabNode(`idle-${run}`),
                seconds: sizes.idleSeconds,
                settleMs: Math.min(2000, sizes.idleSeconds * 500),
                timeoutMs: limits.idleMs,
              });
              try {
                return await w.result<IdleResult>(limits.idleMs + GRACE_MS);
              } finally {
                await w.stop();
              }
            },
            (r) => `+${r.rssAddedMB.toFixed(1)} MB RSS, ${r.cpuPercent.toFixed(2)}% CPU`,
          );
          if (r) samples.idle.push(r);
          continue;
        }
        for (const t of transports) {
          const { client, target } = pair[t];
          if (figure === 'throughput' || figure === 'duplex') {
            const what =
              figure === 'throughput' ? `one-way TCP ${mib}` : `duplex TCP ${mib} each way`;
            const r = await step(
              figure,
              t,
              run,
              `${what} over ${over(t)}`,
              () =>
                client.call<TransferResult>(
                  { cmd: figure, target, bytes: sizes.transferBytes, timeoutMs: limits.transferMs },
                  limits.transferMs + GRACE_MS,
                ),
              mbps,
              hashed,
            );
            if (r) samples[figure][t].push(r);
          } else if (figure === 'rtt' || figure === 'udp') {
            const rounds = figure === 'rtt' ? sizes.rttRounds : sizes.udpRounds;
            const timeoutMs = figure === 'rtt' ? limits.rttMs : limits.udpMs;
            const r = await step(
              figure,
              t,
              run,
              `${rounds} ${figure === 'rtt' ? 'TCP' : 'UDP'} round trips of 64 bytes over ${over(t)}`,
              () =>
                client.call<RoundTripResult>(
                  { cmd: figure === 'rtt' ? 'rtt' : 'udpRtt', target, rounds, timeoutMs },
                  timeoutMs + GRACE_MS,
                ),
              us,
            );
            if (r) samples[figure][t].push(r);
          } else if (figure === 'connections') {
            const r = await step(
              figure,
              t,
              run,
              `${sizes.connections} concurrent connections over ${over(t)} (fresh process)`,
              () => manyConnections(t, target),
              (r) =>
                `${r.opened}/${r.attempted} open in ${r.openMs.toFixed(0)} ms` +
                (r.kibPerConnection !== null ? `, ${r.kibPerConnection.toFixed(1)} KiB each` : '') +
                (Object.keys(r.errors).length ? `, errors ${JSON.stringify(r.errors)}` : ''),
              (r) =>
                r.opened === 0 ? `no connection opened: ${JSON.stringify(r.errors)}` : undefined,
            );
            if (r) samples.connections[t].push(r);
          }
        }
      }
    }

    async function manyConnections(t: TransportName, target: ServerTarget) {
      const config: WorkerConfig = {
        role: 'connections',
        transport: t,
        target,
        count: sizes.connections,
        timeoutMs: limits.connectionsMs,
        ...(t === 'zerotier' ? { lab: await freshLabNode(`connections-${done}`) } : {}),
      };
      const w = res.spawn(config);
      try {
        return await w.result<ConnectionsResult>(limits.connectionsMs + GRACE_MS);
      } finally {
        await w.stop();
      }
    }
  } finally {
    for (const signal of signals) process.off(signal, interrupted);
    samples.machine.loadAverage.end = os.loadavg();
    say('stopping the workers and the lab');
    await res.close();
  }
  return samples;
}

function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  let libraries: Record<string, string> = {};
  try {
    libraries = { ...addon.versions() } as unknown as Record<string, string>;
  } catch {
    // versions are a nicety; the bench does not depend on them
  }
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    totalMemoryMB: Math.round(os.totalmem() / 1024 / 1024),
    loadAverage: { start: os.loadavg(), end: [] },
    libraries,
  };
}
