/**
 * Using a lab from another process: startLab() runs one (a child process, since the lab
 * takes its process's one node) and returns a handle with the lab's operations.
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';

import type { ResponderCounters } from '../dns/responder.js';
import { isValidLabel } from '../dns/zone.js';
import { packageRoot } from '../native.js';

import {
  DEFAULT_LAB_PORT,
  defaultLabDir,
  isAlive,
  labFiles,
  runningLab,
  type LabInfo,
} from './files.js';

export interface ApiResult {
  status: number;
  body: unknown;
}

/** The lab's HTTP API (the stock controller's). */
export class LabClient {
  readonly #token: string;
  constructor(readonly info: LabInfo) {
    this.#token = readFileSync(info.tokenPath, 'utf8').trim();
  }

  async request(method: string, pathname: string, body?: unknown): Promise<ApiResult> {
    const res = await fetch(`http://127.0.0.1:${this.info.port}${pathname}`, {
      method,
      headers: { 'x-zt1-auth': this.#token, 'content-type': 'application/json' },
      ...(body !== undefined
        ? { body: typeof body === 'string' ? body : JSON.stringify(body) }
        : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  }

  async #ok(method: string, pathname: string, body?: unknown): Promise<Record<string, unknown>> {
    const r = await this.request(method, pathname, body);
    if (r.status !== 200) {
      const e = new Error(`${method} ${pathname}: ${r.status} ${JSON.stringify(r.body)}`);
      (e as Error & { status: number }).status = r.status;
      throw e;
    }
    return r.body as Record<string, unknown>;
  }

  /**
   * Creates a private network; ipv4/ipv6 are CIDRs used as pools and routes. `dns`: the
   * lab serves its members' names (true: under `<name>.home.arpa`, or `<nwid>.home.arpa`
   * when the name is not a DNS label; a string: that domain).
   */
  async createNetwork(
    options: {
      name?: string;
      ipv4?: string[];
      ipv6?: string[];
      private?: boolean;
      dns?: boolean | string;
    } = {},
  ): Promise<string> {
    const pools: Array<{ ipRangeStart: string; ipRangeEnd: string }> = [];
    const routes: Array<{ target: string; via: null }> = [];
    for (const cidr of [...(options.ipv4 ?? []), ...(options.ipv6 ?? [])]) {
      routes.push({ target: cidr, via: null });
      const range = poolOf(cidr);
      if (range) pools.push(range);
    }
    const name = options.name ?? '';
    let domain: string | undefined;
    if (typeof options.dns === 'string') domain = options.dns;
    else if (options.dns === true && isValidLabel(name)) domain = `${name.toLowerCase()}.home.arpa`;
    const body = {
      name,
      ...(domain !== undefined ? { dns: { domain, servers: [] } } : {}),
      private: options.private ?? true,
      ipAssignmentPools: pools,
      routes,
      v4AssignMode: { zt: (options.ipv4?.length ?? 0) > 0 },
      v6AssignMode: { zt: (options.ipv6?.length ?? 0) > 0, rfc4193: false, '6plane': false },
    };
    const created = await this.#ok(
      'POST',
      `/controller/network/${this.info.controllerAddress}______`,
      body,
    );
    const nwid = String(created['id'] ?? created['nwid']);
    if (options.dns === true && domain === undefined) {
      await this.#ok('POST', `/controller/network/${nwid}`, {
        dns: { domain: `${nwid}.home.arpa`, servers: [] },
      });
    }
    return nwid;
  }

  members(nwid: string): Promise<Record<string, unknown>> {
    return this.#ok('GET', `/controller/network/${nwid}/member`);
  }
  member(nwid: string, id: string): Promise<Record<string, unknown>> {
    return this.#ok('GET', `/controller/network/${nwid}/member/${id}`);
  }
  authorize(nwid: string, id: string): Promise<Record<string, unknown>> {
    return this.#ok('POST', `/controller/network/${nwid}/member/${id}`, { authorized: true });
  }
  deauthorize(nwid: string, id: string): Promise<Record<string, unknown>> {
    return this.#ok('POST', `/controller/network/${nwid}/member/${id}`, { authorized: false });
  }
  network(nwid: string): Promise<Record<string, unknown>> {
    return this.#ok('GET', `/controller/network/${nwid}`);
  }
  /** What the lab's DNS servers counted: `{ local, networks: { nwid: counters } }`. */
  async dnsCounters(): Promise<{
    local: ResponderCounters;
    networks: Record<string, ResponderCounters>;
  }> {
    return (await this.#ok('GET', '/lab/dns')) as unknown as {
      local: ResponderCounters;
      networks: Record<string, ResponderCounters>;
    };
  }
}

/** First and last usable addresses of a CIDR (IPv4: without network and broadcast). */
function poolOf(cidr: string): { ipRangeStart: string; ipRangeEnd: string } | undefined {
  const [ip, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (ip === undefined || !Number.isInteger(bits)) return undefined;
  if (ip.includes('.')) {
    const n = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
    const size = 2 ** (32 - bits);
    const base = n - (n % size);
    const toIp = (v: number) => [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
    return { ipRangeStart: toIp(base + 1), ipRangeEnd: toIp(base + size - 2) };
  }
  return undefined; // IPv6 pools: routes only; members get rfc4193/6plane or explicit IPs
}

export interface StartLabOptions {
  dir?: string;
  port?: number;
  /** The root's address in the planet (default 127.0.0.1). */
  host?: string;
  /** ms to wait for the lab to come up. */
  timeoutMs?: number;
  /** Port of the lab's DNS server on 127.0.0.1 (UDP and TCP); default: a free one. */
  dnsPort?: number;
}

export interface LabHandle extends LabClient {
  close(): Promise<void>;
}

/** Runs a lab in a child process (or attaches to the one running in `dir`). */
export async function startLab(options: StartLabOptions = {}): Promise<LabHandle> {
  const dir = path.resolve(options.dir ?? defaultLabDir());
  const port = options.port ?? DEFAULT_LAB_PORT;
  let info = runningLab(dir);
  let pid: number | undefined;
  if (info === undefined) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const logFile = labFiles(dir).log;
    const log = openSync(logFile, 'a');
    const logStart = fstatSync(log).size;
    const cli = path.join(packageRoot, 'dist', 'cli', 'main.js');
    const child = spawn(
      process.execPath,
      [
        cli,
        'lab',
        'run',
        '--dir',
        dir,
        '--port',
        String(port),
        ...(options.host ? ['--host', options.host] : []),
        ...(options.dnsPort !== undefined ? ['--dns-port', String(options.dnsPort)] : []),
      ],
      {
        detached: true,
        stdio: ['ignore', log, log],
      },
    );
    closeSync(log);
    // A lab that cannot start (a port taken, the folder in use) exits at once with one line
    // saying why: that line is the error, without waiting out the timeout.
    let exited = false;
    child.once('exit', () => (exited = true));
    child.unref();
    pid = child.pid;
    const deadline = Date.now() + (options.timeoutMs ?? 15_000);
    while ((info = runningLab(dir)) === undefined || info.pid !== pid) {
      if (exited || pid === undefined || !isAlive(pid)) {
        const why = logSince(logFile, logStart).trim().split('\n').pop() ?? '';
        throw new Error(`the lab did not start: ${why || 'it exited'} (log: ${logFile})`);
      }
      if (Date.now() > deadline) {
        if (pid !== undefined) process.kill(pid, 'SIGKILL'); // leave no half-started lab
        throw new Error(`the lab did not start in time; see ${logFile}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const client = new LabClient(info) as LabHandle;
  client.close = async () => {
    if (pid === undefined) return; // attached to someone else's lab: leave it running
    // The lab we started goes even if its folder (and the info file naming it) is gone.
    if (!(await stopLab(dir)) && isAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    }
  };
  return client;
}

/** What was appended to `file` after byte `from` (at most the last 4 KiB). */
function logSince(file: string, from: number): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(from, size - 4096);
    const buf = Buffer.alloc(Math.max(0, size - start));
    readSync(fd, buf, 0, buf.length, start);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Stops the lab running in `dir`; resolves once its process is gone. */
export async function stopLab(dir: string): Promise<boolean> {
  const info = runningLab(dir);
  if (info === undefined) return false;
  process.kill(info.pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (isAlive(info.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return true;
}
