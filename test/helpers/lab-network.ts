// A lab network for tests that need one: the lab (root + controller, its own process), a
// peer script in a child process that prints JSON lines, and this process's node joined.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

import { NodeService, type LabHandle, type NetworkLease, type NodeRef } from '../../lib/index.js';
import { eventually } from './events.js';
import { onLines } from './child.js';
import { afterFile } from './teardown.js';
import { startTestLab } from './lab.js';

export interface Line {
  event: string;
  [k: string]: unknown;
}

/** A Node script in a child process speaking JSON lines; killed after the file's tests. */
export class LinePeer {
  readonly lines: Line[] = [];
  readonly child: ChildProcess;
  stderr = '';

  constructor(script: string, args: string[]) {
    this.child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    onLines(this.child.stdout!, (line) => this.lines.push(JSON.parse(line) as Line));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    afterFile(() => this.stop());
  }

  waitFor(match: (l: Line) => boolean, timeoutMs = 30_000): Promise<Line> {
    return eventually(() => {
      const fatal = this.lines.find((l) => l.event === 'fatal');
      if (fatal) throw new Error(`peer failed: ${JSON.stringify(fatal)} ${this.stderr}`);
      return this.lines.find(match);
    }, timeoutMs);
  }

  send(cmd: unknown): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

/** A lab in `dir` with one private IPv4 network; closed after the file's tests. */
export async function startLabNetwork(
  dir: string,
  ipv4 = '10.147.19.0/24',
): Promise<{ lab: LabHandle; nwid: string }> {
  const lab = await startTestLab(path.join(dir, 'lab'));
  afterFile(() => lab.close());
  const nwid = await lab.createNetwork({ name: 'conformance', ipv4: [ipv4] });
  return { lab, nwid };
}

/** Starts a peer script that prints {event:'started', address} and authorizes it. */
export async function startAuthorizedPeer(
  lab: LabHandle,
  nwid: string,
  script: string,
  args: string[],
): Promise<LinePeer> {
  const peer = new LinePeer(script, args);
  const started = await peer.waitFor((l) => l.event === 'started');
  await lab.authorize(nwid, String(started['address']));
  return peer;
}

/** This process's node on the network; released after the file's tests. */
export async function joinHere(
  lab: LabHandle,
  nwid: string,
  storagePath: string,
): Promise<{ ref: NodeRef; lease: NetworkLease; ip: string }> {
  const ref = await NodeService.acquire({ storagePath, planet: lab.info.planetPath, lab: true });
  await lab.authorize(nwid, ref.node.address);
  const lease = await ref.node.join(nwid);
  const info = await lease.ready({ timeoutMs: 30_000, waitForAuthorization: true });
  afterFile(async () => {
    await lease.release();
    await ref.release();
  });
  const ip = info.addresses.find((a) => a.includes('.'))!.split('/')[0]!;
  return { ref, lease, ip };
}
