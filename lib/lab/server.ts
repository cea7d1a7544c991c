/**
 * The lab process: one node that is both the planet's root (relaying and introducing
 * peers on loopback) and a network controller, with the stock controller's HTTP API on
 * 127.0.0.1 guarded by a token file. State lives in one folder and survives restarts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import http from 'node:http';

import { Identity } from '../identity.js';
import { addon } from '../native.js';
import { NodeService, type ZeroTierNode } from '../node.js';
import { generatePlanetKey, makePlanet, parsePlanet } from '../planet.js';
import {
  loadOrCreateIdentity,
  lockStorage,
  writeFileAtomic,
  type StorageLock,
} from '../storage.js';
import { LabDns } from './dns.js';
import { labFiles, type LabInfo } from './files.js';

const MAX_BODY = 1024 * 1024;

async function readOrUndefined(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** A planet naming this lab's node at 127.0.0.1:port, made once and kept while it fits. */
async function ensurePlanet(
  dir: string,
  identity: Identity,
  host: string,
  port: number,
): Promise<void> {
  const files = labFiles(dir);
  const endpoint = `${host}/${port}`;
  if (existsSync(files.planet)) {
    const info = parsePlanet(await readFile(files.planet));
    const root = info.roots[0];
    if (
      info.roots.length === 1 &&
      root?.identity === identity.toString() &&
      root.endpoints.includes(endpoint)
    ) {
      return;
    }
  }
  const stored = existsSync(files.planetKey) ? await readFile(files.planetKey) : undefined;
  let key: Uint8Array;
  if (stored !== undefined && stored.length === 128) {
    key = stored;
  } else {
    key = await generatePlanetKey();
    await writeFileAtomic(files.planetKey, key, 0o600);
  }
  await writeFileAtomic(
    files.planet,
    makePlanet({ roots: [{ identity, endpoints: [endpoint] }], signingKey: key }),
  );
}

interface Route {
  op: string;
  nwid?: string;
  member?: string;
  mutates: boolean;
}

/** Maps a request to a controller operation, as the stock controller's paths are laid out. */
export function routeRequest(
  method: string,
  pathname: string,
  controllerAddress: string,
): Route | undefined {
  const parts = pathname.split('/').filter((p) => p !== '');
  if (parts[0] !== 'controller') return undefined;
  if (parts.length === 1 && method === 'GET') return { op: 'controller', mutates: false };
  if (parts[1] !== 'network') return undefined;
  if (parts.length === 2 && method === 'GET') return { op: 'networks', mutates: false };
  const nwid = parts[2];
  if (nwid === undefined) return undefined;
  if (parts.length === 3) {
    if (method === 'POST' && nwid.toLowerCase() === `${controllerAddress}______`) {
      return { op: 'network-create', mutates: true };
    }
    if (method === 'GET') return { op: 'network-get', nwid, mutates: false };
    if (method === 'POST') return { op: 'network-post', nwid, mutates: true };
    if (method === 'DELETE') return { op: 'network-delete', nwid, mutates: true };
    return undefined;
  }
  if (parts[3] !== 'member') return undefined;
  if (parts.length === 4 && method === 'GET') return { op: 'members', nwid, mutates: false };
  const member = parts[4];
  if (parts.length !== 5 || member === undefined) return undefined;
  if (method === 'GET') return { op: 'member-get', nwid, member, mutates: false };
  if (method === 'POST') return { op: 'member-post', nwid, member, mutates: true };
  if (method === 'DELETE') return { op: 'member-delete', nwid, member, mutates: true };
  return undefined;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export interface RunningLab {
  info: LabInfo;
  node: ZeroTierNode;
  close(): Promise<void>;
}

/**
 * Starts the lab in this process (it takes the process's one node). The root listens on
 * `host` (127.0.0.1 by default; another address lets stock nodes, which refuse loopback,
 * use the lab, e.g. from a network namespace); the HTTP API stays on 127.0.0.1.
 */
export async function runLab(
  dir: string,
  port: number,
  host = '127.0.0.1',
  options: { dnsPort?: number } = {},
): Promise<RunningLab> {
  // One lab per folder: a second one fails here, before it touches the folder's files.
  const lock = lockStorage(dir);
  const undo: Array<() => Promise<void> | void> = [() => lock.release()];
  try {
    return await openLab(dir, port, host, options, lock, undo);
  } catch (e) {
    // Nothing of a lab that failed to start outlives it: no node, no server, no lock.
    for (const step of undo.reverse()) await step();
    throw e;
  }
}

/** A port of the lab that is taken: the error names it, for `lab up` and startLab(). */
function portInUse(e: unknown, what: string): Error {
  const err = e as NodeJS.ErrnoException;
  if (err.code !== 'EADDRINUSE') return err;
  const taken = new Error(`the lab's ${what} is in use (EADDRINUSE)`) as NodeJS.ErrnoException;
  taken.code = 'EADDRINUSE';
  return taken;
}

async function openLab(
  dir: string,
  port: number,
  host: string,
  options: { dnsPort?: number },
  lock: StorageLock,
  undo: Array<() => Promise<void> | void>,
): Promise<RunningLab> {
  const files = labFiles(dir);
  const identity = await loadOrCreateIdentity(dir);
  await ensurePlanet(dir, identity, host, port);
  let token = (await readOrUndefined(files.token))?.trim();
  if (!token) {
    token = randomBytes(18).toString('base64url');
    await writeFileAtomic(files.token, token, 0o600);
  }
  const state = (await readOrUndefined(files.state)) ?? '';
  // A state the controller cannot load would be dropped and then overwritten by the next
  // change: refuse to start instead, leaving the file as it is.
  const stateError = state === '' ? '' : addon.checkControllerState(identity.toString(), state);
  if (stateError !== '') {
    const e = new Error(
      `${files.state}: ${stateError}; refusing to start (the file is left as it is)`,
    ) as NodeJS.ErrnoException;
    e.code = 'ERR_ZT_CORRUPT_LAB_STATE';
    throw e;
  }
  const ref = await NodeService.acquire({
    storagePath: dir,
    planet: files.planet,
    port,
    lab: host === '127.0.0.1',
    root: true,
    bindV4: host,
    bindV6: '',
    controllerState: state,
  }).catch((e: unknown) => {
    throw portInUse(e, `UDP port ${host}:${port}`);
  });
  undo.push(() => ref.release());
  const node = ref.node;

  // Saves are chained so that the file always ends with the latest state.
  let saving = Promise.resolve();
  const save = () => {
    saving = saving.then(async () => {
      const r = await node.controllerCall('state');
      if (r.status === 200) await writeFileAtomic(files.state, JSON.stringify(r.body), 0o600);
    });
    return saving;
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.headers['x-zt1-auth'] !== token)
        return send(res, 401, { error: 'missing or wrong X-ZT1-Auth token' });
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      // Not a stock path: what the lab's DNS servers counted (answers, drops by reason).
      if (url.pathname === '/lab/dns' && req.method === 'GET') {
        return send(res, 200, await dns.counters());
      }
      const route = routeRequest(req.method ?? 'GET', url.pathname, identity.address);
      if (route === undefined) return send(res, 404, { error: 'not found' });
      let body = '';
      for await (const chunk of req) {
        body += chunk;
        if (body.length > MAX_BODY) return send(res, 413, { error: 'body too large' });
      }
      if (route.mutates && body.trim() !== '') {
        try {
          JSON.parse(body);
        } catch (e) {
          return send(res, 400, { error: `malformed JSON: ${(e as Error).message}` });
        }
      }
      const r = await node.controllerCall(
        route.op,
        route.nwid ?? '',
        route.member ?? '',
        body || '{}',
      );
      if (route.mutates && r.status === 200) {
        await save();
        await dns.refresh(); // names follow membership at once
      }
      send(res, r.status, r.body);
    })().catch((e: unknown) => send(res, 500, { error: (e as Error).message }));
  });
  // Published once the API listens; the DNS map is filled in as networks get DNS.
  let published = false;
  const publish = () =>
    published ? writeFileAtomic(files.info, JSON.stringify(info, null, 2)) : Promise.resolve();
  const dns = new LabDns({
    node,
    dir,
    planetPath: files.planet,
    save,
    onChange: (entries) => {
      info.dns = entries;
      publish().catch(() => undefined);
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(portInUse(e, `API port 127.0.0.1:${port} (TCP)`)));
    server.listen(port, '127.0.0.1', () => resolve());
  });
  undo.push(() => new Promise<void>((r) => server.close(() => r())));

  const info: LabInfo = {
    pid: process.pid,
    dir,
    port,
    planetPath: files.planet,
    apiUrl: `http://127.0.0.1:${port}/controller`,
    tokenPath: files.token,
    controllerAddress: identity.address,
    rootAddress: identity.address,
    dns: {},
  };
  await dns.start(options.dnsPort ?? 0);
  undo.push(() => dns.close());
  published = true;
  await publish();
  return {
    info,
    node,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await dns.close();
      await saving;
      await ref.release();
      await rm(files.info, { force: true });
      lock.release();
    },
  };
}
