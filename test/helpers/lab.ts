// Factories for nodes in child processes (one engine per process) and a test root with
// its planet, each registering its own teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { onTestFinished } from 'vitest';

import {
  Identity,
  generatePlanetKey,
  makePlanet,
  startLab,
  type LabHandle,
  type StartLabOptions,
} from '../../lib/index.js';
import { cliPath } from './paths.js';
import { onLines } from './child.js';
import { freeLoopbackPort } from './ports.js';
import { afterFile } from './teardown.js';

export interface NodeLine {
  event: string;
  address?: string;
  [key: string]: unknown;
}

/** A `zerotier-sockets node --json` child process and the events it printed. */
export class NodeProcess {
  readonly lines: NodeLine[] = [];
  readonly child: ChildProcess;
  stderr = '';
  #waiters: Array<() => void> = [];

  /** `command`: the CLI command to run (`node`, `forward`), always with --json. */
  constructor(args: string[], command = 'node') {
    this.child = spawn(process.execPath, [cliPath, command, '--json', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onLines(this.child.stdout!, (line) => {
      try {
        this.lines.push(JSON.parse(line) as NodeLine);
      } catch {
        this.stderr += `unparsed: ${line}\n`;
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
  }

  /** Waits for a printed line that passes `match`. */
  async waitFor(match: (l: NodeLine) => boolean, timeoutMs = 10_000): Promise<NodeLine> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(match);
      if (found) return found;
      if (this.child.exitCode !== null) {
        throw new Error(`node process exited (${this.child.exitCode}): ${this.stderr}`);
      }
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no matching line in ${timeoutMs} ms; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The node's ZeroTier address (after 'started'). */
  async address(): Promise<string> {
    return (await this.waitFor((l) => l.event === 'started')).address!;
  }

  async stop(): Promise<number | null> {
    // Already gone (exited, or killed by a signal: then exitCode stays null).
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)));
    this.child.kill('SIGTERM');
    return exited;
  }
}

/** Spawns a node process, stopped when the test (or, with `suite`, the file) finishes. */
export function spawnNode(args: string[], suite = false, command = 'node'): NodeProcess {
  const p = new NodeProcess(args, command);
  const stop = () => p.stop().then(() => undefined);
  if (suite) afterFile(stop);
  else onTestFinished(stop);
  return p;
}

/**
 * A planet whose one root is on 127.0.0.1 at a port nobody listens on: for tests of a
 * lone node that must send nothing beyond loopback.
 */
export async function idlePlanet(): Promise<Buffer> {
  const identity = await Identity.generate();
  return makePlanet({
    roots: [{ identity, endpoints: [`127.0.0.1/${await freeLoopbackPort()}`] }],
    signingKey: await generatePlanetKey(),
  });
}

export interface TestRoot {
  process: NodeProcess;
  planetFile: string;
  planet: Buffer;
  identity: Identity;
  port: number;
}

/** A lab root on 127.0.0.1 with a fresh identity and a planet naming it. */
export async function startTestRoot(dir: string, suite = false): Promise<TestRoot> {
  const identity = await Identity.generate();
  const rootDir = path.join(dir, 'root');
  mkdirSync(rootDir, { recursive: true });
  await identity.writeFiles(
    path.join(rootDir, 'identity.secret'),
    path.join(rootDir, 'identity.public'),
  );
  const port = await freeLoopbackPort();
  const planet = makePlanet({
    roots: [{ identity, endpoints: [`127.0.0.1/${port}`] }],
    signingKey: await generatePlanetKey(),
  });
  const planetFile = path.join(dir, 'planet');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(planetFile, planet);
  const proc = spawnNode(
    [
      '--storage',
      rootDir,
      '--planet',
      planetFile,
      '--port',
      String(port),
      '--lab',
      '--root',
      '--stats',
      '100',
    ],
    suite,
  );
  await proc.waitFor((l) => l.event === 'started');
  return { process: proc, planetFile, planet, identity, port };
}

/**
 * startLab() in `dir` on a port that was free a moment ago. If another process took the port
 * before the lab bound it (EADDRINUSE), up to twice more, each on another port in a fresh folder
 * beside `dir`: use `lab.info.dir`, not `dir`, afterwards.
 */
export async function startTestLab(
  dir: string,
  options: Omit<StartLabOptions, 'dir' | 'port'> = {},
): Promise<LabHandle> {
  for (let attempt = 1; ; attempt++) {
    const labDir = attempt === 1 ? dir : `${dir}-${attempt}`;
    try {
      return await startLab({ ...options, dir: labDir, port: await freeLoopbackPort() });
    } catch (e) {
      if (attempt === 3 || !String((e as Error).message).includes('EADDRINUSE')) throw e;
    }
  }
}
