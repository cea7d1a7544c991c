// The conformance harness: four worker processes (server and client sides, for node:net
// over loopback and for our net over a lab network) that run the same case roles, so a
// test can compare what both stacks did. Reusable for other case files (dgram): a case
// is `<suite>/<name>`, the suite being a module the worker loads (worker.cjs).
import path from 'node:path';

import type { LabHandle } from '../../lib/index.js';
import { startTestLab } from '../helpers/lab.js';
import { ScriptProcess } from '../helpers/script.js';

/**
 * Which stack runs a case, and where: 'node' and 'zt' put the server and the client in two
 * processes; 'node-same' and 'zt-same' run both roles in one process (for ours: a process
 * talking to its own ZeroTier address).
 */
export type Impl = 'node' | 'zt' | 'node-same' | 'zt-same';
export type CaseLog = unknown[][];

/** A worker: the script plus numbered commands. */
class Worker extends ScriptProcess {
  #nextId = 1;

  constructor(args: string[]) {
    super(path.join(__dirname, 'worker.cjs'), args);
  }

  command(cmd: Record<string, unknown>): number {
    const id = this.#nextId++;
    this.send({ id, ...cmd });
    return id;
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
    const lab = await startTestLab(path.join(dir, 'lab'));
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
          'zt-same': { server: ztServer, client: ztServer, serverIp: ztServerIp },
          'node-same': { server: nodeServer, client: nodeServer, serverIp: '127.0.0.1' },
        },
        lab,
      );
    } catch (e) {
      await Promise.all(workers.map((w) => w.stop()));
      await lab.close();
      throw e;
    }
  }

  /** Runs a case's two roles on one stack; rejects if a role threw. */
  async run(impl: Impl, name: string, timeoutMs = 15_000): Promise<CaseRun> {
    const { server, client, serverIp } = this.#pairs[impl];
    const sid = server.command({ run: name, role: 'server' });
    const listening = await server.waitFor(
      (l) => l.id === sid && (l.event === 'listening' || l.event === 'finished'),
      timeoutMs,
    );
    if (listening['error']) throw new Error(`${impl} server: ${String(listening['error'])}`);
    const cid = client.command({
      run: name,
      role: 'client',
      host: serverIp,
      port: listening['port'],
    });
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
    await Promise.all(
      [...new Set(Object.values(this.#pairs).flatMap((pair) => [pair.server, pair.client]))].map(
        (w) => w.stop(),
      ),
    );
    await this.#lab.close();
  }
}
