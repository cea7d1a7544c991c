/**
 * The benchmark run: a lab (root + controller) and worker processes on this machine, the
 * same measurements over ZeroTier and over node:net on kernel loopback, several runs each.
 * Every step has a deadline; a step that fails or times out is recorded, never waited on.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Identity } from '../identity.js';
import { startLab, type LabHandle } from '../lab/client.js';
import {
  COMPARED,
  FIGURES,
  deadlinesFor,
  emptySamples,
  type BenchSamples,
  type BenchSizes,
  type Deadlines,
  type FigureName,
} from './figures.js';
import { freeLoopbackPort } from './ports.js';
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

export { FIGURES, sizesFor, type BenchSamples, type FigureName } from './figures.js';

export interface BenchOptions {
  runs: number;
  sizes: BenchSizes;
  only: readonly FigureName[];
  /** One line per step, as it starts and as it ends. */
  progress?: (line: string) => void;
}

/** Grace beyond a step's own deadline before the parent gives up on its worker. */
const GRACE_MS = 15_000;
/** How long workers get to start their node and join (or to listen, for node:net). */
const SETUP_MS = 45_000;
const TRANSPORTS: readonly TransportName[] = ['zerotier', 'net'];
const stackName = (t: TransportName) => (t === 'zerotier' ? 'ZeroTier' : 'node:net');

function describeError(e: unknown): string {
  const err = e as Error & { code?: string };
  const text = err?.message ?? String(e);
  return err?.code && !text.includes(err.code) ? `${text} (${err.code})` : text;
}

/** A long-lived client process and the server it measures against. */
interface Pair {
  client: BenchWorker;
  target: ServerTarget;
}

/** One benchmark run: what it holds (torn down in close()) and one method per figure. */
class BenchRun {
  readonly workers = new Set<BenchWorker>();
  readonly limits: Deadlines;
  readonly samples: BenchSamples;
  #lab: LabHandle | undefined;
  #nwid = '';
  #pairs: Partial<Record<TransportName, Pair>> = {};
  /** Why a stack could not be set up: its figures then fail at once, with this reason. */
  #setupErrors: Partial<Record<TransportName, string>> = {};
  #step = 0;
  #steps = 0;

  constructor(
    readonly dir: string,
    readonly options: BenchOptions,
    readonly say: (line: string) => void,
  ) {
    this.limits = deadlinesFor(options.sizes);
    this.samples = emptySamples(options.runs, options.sizes, [...options.only]);
    this.#steps = options.only.reduce(
      (n, f) => n + options.runs * (COMPARED.includes(f) ? TRANSPORTS.length : 1),
      0,
    );
  }

  spawn(config: WorkerConfig): BenchWorker {
    const w = new BenchWorker(config);
    this.workers.add(w);
    w.child.once('exit', () => this.workers.delete(w));
    return w;
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.stop()));
    await this.#lab?.close().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  get #labHandle(): LabHandle {
    if (this.#lab === undefined) {
      throw new Error(`no lab: ${this.#setupErrors.zerotier ?? 'not started'}`);
    }
    return this.#lab;
  }

  #labNode(name: string): LabNodeConfig {
    return {
      planet: this.#labHandle.info.planetPath,
      storage: path.join(this.dir, name),
      nwid: this.#nwid,
    };
  }

  /** A node in a fresh folder that starts already authorized, as a stored member would. */
  async #freshLabNode(name: string): Promise<LabNodeConfig> {
    const config = this.#labNode(name);
    mkdirSync(config.storage, { recursive: true });
    const id = await Identity.generate();
    await id.writeFiles(
      path.join(config.storage, 'identity.secret'),
      path.join(config.storage, 'identity.public'),
    );
    await this.#labHandle.authorize(this.#nwid, id.address);
    return config;
  }

  #pair(t: TransportName): Pair {
    const p = this.#pairs[t];
    if (p === undefined) {
      const why = this.#setupErrors[t] ?? 'not started';
      throw new Error(`no ${stackName(t)} server and client: ${why}`);
    }
    return p;
  }

  async #startPair(transport: TransportName): Promise<Pair> {
    const zt = transport === 'zerotier';
    const lab = (name: string) => (zt ? { lab: this.#labNode(name) } : {});
    const server = this.spawn({ role: 'server', transport, ...lab('server') });
    const client = this.spawn({ role: 'client', transport, ...lab('client') });
    if (zt) {
      await Promise.all(
        [server, client].map(async (w) =>
          this.#labHandle.authorize(this.#nwid, await w.started(SETUP_MS)),
        ),
      );
    }
    const [target] = await Promise.all([server.ready(SETUP_MS), client.ready(SETUP_MS)]);
    return { client, target };
  }

  /**
   * A lab on a port that was free a moment ago over UDP and TCP; once more on another if
   * that one was taken meanwhile. Its log's last lines go into the error, since the folder
   * is removed at the end.
   */
  async #startLab(): Promise<LabHandle> {
    for (let attempt = 1; ; attempt++) {
      const dir = path.join(this.dir, `lab-${attempt}`);
      try {
        return await startLab({ dir, port: await freeLoopbackPort(), timeoutMs: 30_000 });
      } catch (e) {
        let log = '';
        try {
          log = readFileSync(path.join(dir, 'lab.log'), 'utf8')
            .trim()
            .split('\n')
            .slice(-3)
            .join(' | ');
        } catch {
          // no log: the process did not get as far as writing one
        }
        const why = `the lab did not start: ${describeError(e)}${log ? `; its log: ${log}` : ''}`;
        if (attempt === 2) throw new Error(why, { cause: e });
        this.say(`${why}; trying another port`);
      }
    }
  }

  /** The lab and both stacks' processes; a stack that cannot start fails its figures only. */
  async setUp(): Promise<void> {
    this.say('starting a lab (root + controller) on loopback');
    let labReady = false;
    try {
      this.#lab = await this.#startLab();
      this.#nwid = await this.#lab.createNetwork({ name: 'bench', ipv4: ['10.147.17.0/24'] });
      labReady = true;
    } catch (e) {
      this.#setupErrors.zerotier = describeError(e);
    }
    this.say('starting the server and client processes (ZeroTier and node:net)');
    await Promise.all(
      TRANSPORTS.filter((t) => t === 'net' || labReady).map(async (t) => {
        try {
          this.#pairs[t] = await this.#startPair(t);
        } catch (e) {
          this.#setupErrors[t] = describeError(e);
          this.say(`${stackName(t)} server and client: FAILED ${describeError(e)}`);
        }
      }),
    );
  }

  /** Runs one step; a failure (or a result `check` rejects) is recorded and the run goes on. */
  async #measure<T>(
    figure: FigureName,
    transport: TransportName,
    run: number,
    label: string,
    work: () => Promise<T>,
    show: (r: T) => string,
    check?: (r: T) => string | undefined,
  ): Promise<T | undefined> {
    const head = `[${++this.#step}/${this.#steps}] run ${run}/${this.options.runs} ${label}`;
    this.say(`${head} ...`);
    try {
      const r = await work();
      const wrong = check?.(r);
      if (wrong !== undefined) throw new Error(wrong);
      this.say(`${head}: ${show(r)}`);
      return r;
    } catch (e) {
      this.samples.failures.push({ figure, transport, run, error: describeError(e) });
      this.say(`${head}: FAILED ${describeError(e)}`);
      return undefined;
    }
  }

  /** A worker for one figure in a fresh process: its one result, then it is stopped. */
  async #oneShot<T>(config: WorkerConfig, timeoutMs: number): Promise<T> {
    const w = this.spawn(config);
    try {
      return await w.result<T>(timeoutMs + GRACE_MS);
    } finally {
      await w.stop();
    }
  }

  async transfer(figure: 'throughput' | 'duplex', t: TransportName, run: number): Promise<void> {
    const bytes = this.options.sizes.transferBytes;
    const mib = `${bytes / 1024 / 1024} MiB`;
    const what = figure === 'throughput' ? `one-way TCP ${mib}` : `duplex TCP ${mib} each way`;
    const timeoutMs = this.limits.transferMs;
    const r = await this.#measure(
      figure,
      t,
      run,
      `${what} over ${stackName(t)}`,
      () => {
        const { client, target } = this.#pair(t);
        return client.call<TransferResult>(
          { cmd: figure, target, bytes, timeoutMs },
          timeoutMs + GRACE_MS,
        );
      },
      (r) => `${r.mbps.toFixed(1)} MB/s`,
      (r) => (r.sha256Ok ? undefined : 'SHA-256 mismatch: the bytes arrived changed'),
    );
    if (r) this.samples[figure][t].push(r);
  }

  async roundTrips(figure: 'rtt' | 'udp', t: TransportName, run: number): Promise<void> {
    const tcp = figure === 'rtt';
    const rounds = tcp ? this.options.sizes.rttRounds : this.options.sizes.udpRounds;
    const timeoutMs = tcp ? this.limits.rttMs : this.limits.udpMs;
    const r = await this.#measure(
      figure,
      t,
      run,
      `${rounds} ${tcp ? 'TCP' : 'UDP'} round trips of 64 bytes over ${stackName(t)}`,
      () => {
        const { client, target } = this.#pair(t);
        return client.call<RoundTripResult>(
          { cmd: tcp ? 'rtt' : 'udpRtt', target, rounds, timeoutMs },
          timeoutMs + GRACE_MS,
        );
      },
      (r) =>
        `median ${r.medianUs.toFixed(0)} us, p99 ${r.p99Us.toFixed(0)} us` +
        (r.lost ? `, ${r.lost} lost` : ''),
    );
    if (r) this.samples[figure][t].push(r);
  }

  async firstByte(run: number): Promise<void> {
    const timeoutMs = this.limits.startMs;
    const r = await this.#measure(
      'start',
      'zerotier',
      run,
      'start to first echoed byte (fresh process, ZeroTier)',
      async () =>
        this.#oneShot<FirstByteResult>(
          {
            role: 'first-byte',
            lab: await this.#freshLabNode(`first-byte-${run}`),
            target: this.#pair('zerotier').target,
            timeoutMs,
          },
          timeoutMs,
        ),
      (r) =>
        `${r.acquireToFirstByteMs.toFixed(1)} ms (${r.processToFirstByteMs.toFixed(0)} ms from exec)`,
    );
    if (r) this.samples.start.push(r);
  }

  async connections(t: TransportName, run: number): Promise<void> {
    const count = this.options.sizes.connections;
    const timeoutMs = this.limits.connectionsMs;
    const r = await this.#measure(
      'connections',
      t,
      run,
      `${count} concurrent connections over ${stackName(t)} (fresh process)`,
      async () =>
        this.#oneShot<ConnectionsResult>(
          {
            role: 'connections',
            transport: t,
            target: this.#pair(t).target,
            count,
            timeoutMs,
            ...(t === 'zerotier' ? { lab: await this.#freshLabNode(`connections-${run}`) } : {}),
          },
          timeoutMs,
        ),
      (r) =>
        `${r.opened}/${r.attempted} open in ${r.openMs.toFixed(0)} ms` +
        (r.kibPerConnection !== null ? `, ${r.kibPerConnection.toFixed(1)} KiB each` : '') +
        (r.echoed < r.opened ? `, only ${r.echoed} echoed` : '') +
        (Object.keys(r.errors).length ? `, errors ${JSON.stringify(r.errors)}` : ''),
      (r) => (r.opened === 0 ? `no connection opened: ${JSON.stringify(r.errors)}` : undefined),
    );
    if (r) this.samples.connections[t].push(r);
  }

  async idle(run: number): Promise<void> {
    const seconds = this.options.sizes.idleSeconds;
    const timeoutMs = this.limits.idleMs;
    const r = await this.#measure(
      'idle',
      'zerotier',
      run,
      `idle joined node (fresh process, ${seconds} s)`,
      async () =>
        this.#oneShot<IdleResult>(
          {
            role: 'idle',
            lab: await this.#freshLabNode(`idle-${run}`),
            seconds,
            settleMs: Math.min(2000, seconds * 500),
            timeoutMs,
          },
          timeoutMs,
        ),
      (r) =>
        `+${r.rssAddedMB.toFixed(1)} MB RSS (${(r.loadedRssMB - r.bareRssMB).toFixed(1)} ` +
        `loading the package), ${r.cpuPercent.toFixed(2)}% CPU`,
    );
    if (r) this.samples.idle.push(r);
  }

  async figure(figure: FigureName, run: number): Promise<void> {
    switch (figure) {
      case 'start':
        return this.firstByte(run);
      case 'idle':
        return this.idle(run);
      default:
        // Within a run, ZeroTier and node:net back to back, so that the machine's load
        // (shared, noisy) weighs on both alike.
        for (const t of TRANSPORTS) {
          if (figure === 'throughput' || figure === 'duplex') await this.transfer(figure, t, run);
          else if (figure === 'rtt' || figure === 'udp') await this.roundTrips(figure, t, run);
          else await this.connections(t, run);
        }
    }
  }
}

export async function runBench(options: BenchOptions): Promise<BenchSamples> {
  const bench = new BenchRun(
    mkdtempSync(path.join(os.tmpdir(), 'zts-bench-')),
    options,
    options.progress ?? (() => undefined),
  );
  // The lab runs detached (it outlives its starter by design): an interrupted bench must
  // stop it, and its workers, itself.
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const interrupted = (signal: NodeJS.Signals) => {
    void bench.close().finally(() => process.exit(128 + os.constants.signals[signal]));
  };
  for (const signal of signals) process.once(signal, interrupted);
  try {
    await bench.setUp();
    for (const figure of FIGURES.filter((f) => options.only.includes(f))) {
      for (let run = 1; run <= options.runs; run++) await bench.figure(figure, run);
    }
  } finally {
    for (const signal of signals) process.off(signal, interrupted);
    bench.samples.machine.loadAverage.end = os.loadavg();
    bench.say('stopping the workers and the lab');
    await bench.close();
  }
  return bench.samples;
}
