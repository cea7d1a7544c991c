/** The parent's side of a benchmark worker process: start it, wait for its messages, stop it. */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

import {
  WORKER_CONFIG_ENV,
  type ClientCommand,
  type ServerTarget,
  type WorkerConfig,
  type WorkerMessage,
} from './protocol.js';

const workerPath = path.join(__dirname, 'worker.js');
/** The tail of a worker's stderr kept for error messages. */
const STDERR_KEPT = 2000;

/** A client command before the handle numbers it (Omit, distributed over the union). */
type Unnumbered<C> = C extends unknown ? Omit<C, 'id'> : never;
type Command = Unnumbered<ClientCommand>;

export class BenchWorker {
  readonly child: ChildProcess;
  readonly #messages: WorkerMessage[] = [];
  #waiters: Array<() => void> = [];
  #stderr = '';
  #nextId = 1;

  constructor(readonly config: WorkerConfig) {
    this.child = fork(workerPath, [], {
      env: { ...process.env, [WORKER_CONFIG_ENV]: JSON.stringify(config) },
      // --expose-gc: RSS figures are taken after a collection, not before one.
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child.on('message', (m: WorkerMessage) => {
      this.#messages.push(m);
      this.#wake();
    });
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-STDERR_KEPT);
    });
    this.child.on('exit', () => this.#wake());
    this.child.on('error', () => this.#wake());
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  #failure(what: string): Error {
    const fatal = this.#messages.find((m) => m.type === 'fatal');
    const why =
      fatal?.type === 'fatal'
        ? `${fatal.error.message}${fatal.error.code ? ` (${fatal.error.code})` : ''}`
        : `worker exited (${this.child.exitCode ?? this.child.signalCode})`;
    const tail = this.#stderr.trim().split('\n').slice(-3).join(' | ');
    const e = new Error(`${what}: ${why}${tail ? `; stderr: ${tail}` : ''}`);
    if (fatal?.type === 'fatal' && fatal.error.code !== undefined) {
      (e as Error & { code: string }).code = fatal.error.code;
    }
    return e;
  }

  /** Waits for the first message `pick` accepts (and removes it); fails on exit or timeout. */
  async #next<T>(
    what: string,
    timeoutMs: number,
    pick: (m: WorkerMessage) => T | undefined,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const [i, m] of this.#messages.entries()) {
        const picked = pick(m);
        if (picked !== undefined) {
          this.#messages.splice(i, 1);
          return picked;
        }
      }
      if (this.#messages.some((m) => m.type === 'fatal') || this.exited) {
        throw this.#failure(what);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        // A worker that missed its deadline is not trusted with another figure.
        this.kill();
        throw Object.assign(new Error(`${what}: no answer in ${timeoutMs} ms`), {
          code: 'ETIMEDOUT',
        });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The node's ZeroTier address, once it started (lab workers only). */
  started(timeoutMs: number): Promise<string> {
    return this.#next('node start', timeoutMs, (m) =>
      m.type === 'started' ? m.address : undefined,
    );
  }

  /** Where a server listens (a client reports its own host), once ready. */
  ready(timeoutMs: number): Promise<ServerTarget> {
    return this.#next('worker ready', timeoutMs, (m) =>
      m.type === 'ready' ? m.target : undefined,
    );
  }

  /** A one-shot worker's result. */
  result<T>(timeoutMs: number): Promise<T> {
    return this.#next(this.config.role, timeoutMs, (m) =>
      m.type === 'result' ? (m.result as T) : undefined,
    );
  }

  /** Runs a client command; its own deadline is inside, `timeoutMs` is the backstop. */
  async call<T>(command: Command, timeoutMs: number): Promise<T> {
    if (this.exited) throw this.#failure(command.cmd);
    const id = this.#nextId++;
    this.child.send({ ...command, id });
    const reply = await this.#next(command.cmd, timeoutMs, (m) =>
      m.type === 'reply' && m.id === id ? m : undefined,
    );
    if (reply.type !== 'reply') throw new Error('unreachable');
    if (reply.error !== undefined) {
      throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    }
    return reply.result as T;
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** SIGTERM, then SIGKILL if it has not exited within 3 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), 3000);
    await exited;
    clearTimeout(timer);
  }
}
