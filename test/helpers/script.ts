// A Node script in a child process that talks in JSON lines: what it printed, a wait for
// a line, commands on stdin, and a stop that the caller (or the test's end) runs.
import { spawn, type ChildProcess } from 'node:child_process';

import { eventually } from './events.js';
import { onLines } from './child.js';

export interface ScriptLine {
  event: string;
  id?: number;
  [key: string]: unknown;
}

export class ScriptProcess {
  readonly lines: ScriptLine[] = [];
  readonly child: ChildProcess;
  stderr = '';

  constructor(file: string, args: readonly string[], nodeFlags: readonly string[] = []) {
    this.child = spawn(process.execPath, [...nodeFlags, file, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    onLines(this.child.stdout!, (line) => {
      try {
        this.lines.push(JSON.parse(line) as ScriptLine);
      } catch {
        this.stderr += `unparsed: ${line}\n`;
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
  }

  /** The first line that passes `match`; rejects (with stderr) on exit or timeout. */
  async waitFor(match: (l: ScriptLine) => boolean, timeoutMs = 20_000): Promise<ScriptLine> {
    try {
      return await eventually(() => {
        const found = this.lines.find(match);
        if (found) return found;
        if (this.child.exitCode !== null) throw new Error(`exited (${this.child.exitCode})`);
        return undefined;
      }, timeoutMs);
    } catch (e) {
      throw new Error(`${(e as Error).message}; stderr: ${this.stderr}`, { cause: e });
    }
  }

  send(line: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(line)}\n`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}
