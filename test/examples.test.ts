// The examples, run as a user would (npx tsx examples/<name>.ts) on a lab network: the
// echo server with the echo client, and the http server fetched by this process's node.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { NodeService, net, type LabHandle, type NodeRef } from '../lib/index.js';
import { eventually } from './helpers/events.js';
import { repoRoot } from './helpers/paths.js';
import { startTestLab } from './helpers/lab.js';
import { suiteTempDir } from './helpers/tmp.js';

interface Example {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startExample(name: string, args: string[]): Example {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'examples', `${name}.ts`), ...args],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => output, exited };
}

/** Waits for a line matching `re` and returns its first group. */
async function line(example: Example, re: RegExp, timeoutMs = 60_000): Promise<string> {
  const m = await eventually(() => re.exec(example.output()) ?? undefined, timeoutMs).catch(
    (e: Error) => {
      throw new Error(`${e.message}; output: ${example.output()}`, { cause: e });
    },
  );
  return m[1] ?? '';
}

describe('examples', () => {
  let dir: string;
  let lab: LabHandle;
  let nwid: string;
  let common: string[];

  beforeAll(async () => {
    dir = suiteTempDir('zts-examples-');
    lab = await startTestLab(path.join(dir, 'lab'));
    nwid = await lab.createNetwork({ name: 'examples', ipv4: ['10.95.0.0/24'] });
    common = ['--network', nwid, '--planet', lab.info.planetPath, '--lab'];
  }, 60_000);
  afterAll(async () => lab?.close());

  /** Starts an example and authorizes its node once it says who it is. */
  async function started(name: string, args: string[]): Promise<Example> {
    const example = startExample(name, [...common, ...args]);
    await lab.authorize(nwid, await line(example, /node ([0-9a-f]{10}) joining/));
    return example;
  }

  it('echo-server.ts and echo-client.ts', { timeout: 90_000 }, async () => {
    const server = await started('echo-server', ['--storage', path.join(dir, 'es')]);
    const ip = await line(server, /echo server listening on ([\d.]+):7000/);
    const client = await started('echo-client', [
      '--storage',
      path.join(dir, 'ec'),
      '--host',
      ip,
      '--message',
      'ping through the example',
    ]);
    expect(await client.exited).toBe(0);
    expect(client.output()).toContain('echo: ping through the example');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('http-server.ts answers node:http over our socket', { timeout: 90_000 }, async () => {
    const server = await started('http-server', [
      '--storage',
      path.join(dir, 'hs'),
      '--port',
      '8080',
    ]);
    const ip = await line(server, /http server on http:\/\/([\d.]+):8080\//);
    await using ref: NodeRef = await NodeService.acquire({
      storagePath: path.join(dir, 'hc'),
      planet: lab.info.planetPath,
      lab: true,
    });
    await lab.authorize(nwid, ref.node.address);
    const lease = await ref.node.join(nwid);
    const { addresses } = await lease.ready({ timeoutMs: 30_000, waitForAuthorization: true });
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get(
          `http://${ip}:8080/from-the-test`,
          { createConnection: () => net.createConnection({ host: ip, port: 8080 }) as never },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (text += d));
            res.on('end', () => resolve(text));
          },
        )
        .on('error', reject);
    });
    expect(body).toBe(`hello ${addresses[0]!.split('/')[0]}, you asked for /from-the-test\n`);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
