// The conformance harness: four worker processes (server and client sides, for node:net
// over loopback and for our net over a lab network) that run the same case roles, so a
// test can compare what both stacks did. Reusable for other case files (dgram): a case
// is `<suite>/<name>`, the suite being a module the worker loads (worker.cjs).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

import { startLab, type LabHandle } from '../../lib/index.js';
import { eventually } from '../helpers/events.js';
import { freeUdpPort } from '../helpers/ports.js';

export type Impl = 'node' | 'zt';
export type CaseLog = unknown[][];

interface WorkerLine {
  id?: number;
  event: string;
  [k: string]: unknown;
}

class Worker {
  readonly lines: WorkerLine[] = [];
  readonly child: ChildProcess;
  stderr = '';
  #nextId = 1;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [path.join(__dirname, 'worker.cjs'), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let buf = '';
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.lines.push(JSON.parse(buf.slice(0, nl)) as WorkerLine);
        buf = buf.slice(nl + 1);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
  }

  waitFor(match: (l: WorkerLine) => boolean, timeoutMs: number): Promise<WorkerLine> {
    return eventually(() => {
      if (this.child.exitCode !== null) {
        throw new Error(`worker exited (${this.child.exitCode}): ${this.stderr}`);
      }
      return this.lines.find(match);
    }, timeoutMs).catch((e: Error) => {
      throw new Error(`${e.message}; worker stderr: ${this.stderr}`);
    });
  }

  send(cmd: Record<string, unknown>): number {
    const id = this.#nextId++;
    this.child.stdin!.write(`${JSON.stringify({ id, ...cmd })}\n`);
    return id;
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

interface Pair {
  server: Worker;
  client: Worker;
  serverIp: string;
}

export interface CaseRun {
  server: CaseLog;
  client: CaseLog;
}

export class ConformanceEnv {
  readonly #pairs: Record<Impl, Pair>;
  readonly #lab: LabHandle;

  private constructor(pairs: Record<Impl, Pair>, lab: LabHandle) {
    this.#pairs = pairs;
    this.#lab = lab;
  }

  /** A lab with one network, two ZeroTier workers on it, and two node:net workers. */
  static async start(dir: string): Promise<ConformanceEnv> {
    const lab = await startLab({ dir: path.join(dir, 'lab'), port: await freeUdpPort() });
    const workers: Worker[] = [];
    try {
      const nwid = await lab.createNetwork({ name: 'conformance', ipv4: ['10.222.0.0/24'] });
      const zt = (name: string) => {
        const w = new Worker(['zt', lab.info.planetPath, path.join(dir, name), nwid]);
        workers.push(w);
        return w;
      };
      const node = () => {
        const w = new Worker(['node']);
        workers.push(w);
        return w;
      };
      const ztServer = zt('server');
      const ztClient = zt('client');
      for (const w of [ztServer, ztClient]) {
        const started = await w.waitFor((l) => l.event === 'started', 20_000);
        await lab.authorize(nwid, String(started['address']));
      }
      const ready = (w: Worker) => w.waitFor((l) => l.event === 'ready', 40_000);
      const ztServerIp = String((await ready(ztServer))['ip']);
      await ready(ztClient);
      const nodeServer = node();
      const nodeClient = node();
      await ready(nodeServer);
      await ready(nodeClient);
      return new ConformanceEnv(
        {
          zt: { server: ztServer, client: ztClient, serverIp: ztServerIp },
          node: { server: nodeServer, client: nodeClient, serverIp: '127.0.0.1' },
        },
        lab,
      );
    } catch (e) {
      for (const w of workers) w.stop();
      await lab.close();
      throw e;
    }
  }

  /** Runs a case's two roles on one stack; rejects if a role threw. */
  async run(impl: Impl, name: string, timeoutMs = 15_000): Promise<CaseRun> {
    const { server, client, serverIp } = this.#pairs[impl];
    const sid = server.send({ run: name, role: 'server' });
    const listening = await server.waitFor(
      (l) => l.id === sid && (l.event === 'listening' || l.event === 'finished'),
      timeoutMs,
    );
    if (listening['error']) throw new Error(`${impl} server: ${String(listening['error'])}`);
    const cid = client.send({ run: name, role: 'client', host: serverIp, port: listening['port'] });
    const finished = (w: Worker, id: number) =>
      w.waitFor((l) => l.id === id && l.event === 'finished', timeoutMs);
    const [s, c] = await Promise.all([finished(server, sid), finished(client, cid)]);
    for (const [role, line] of [
      ['server', s],
      ['client', c],
    ] as const) {
      if (line['error']) throw new Error(`${impl} ${role}: ${String(line['error'])}`);
    }
    return { server: s['log'] as CaseLog, client: c['log'] as CaseLog };
  }

  async close(): Promise<void> {
    for (const pair of Object.values(this.#pairs)) {
      pair.server.stop();
      pair.client.stop();
    }
    await this.#lab.close();
  }
}
