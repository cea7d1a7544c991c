// Unmodified libraries over our sockets, two processes on a lab network: node:http with
// keep-alive (100 requests on one connection), node:https over tls.connect({ socket }),
// ws, and undici's fetch with a custom connect (1 MiB both ways, hashes checked). The
// server side (test/helpers/library-server.cjs) feeds the same libraries our sockets.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { Agent as UndiciAgent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import {
  NodeService,
  net,
  type LabHandle,
  type NetConnectOptions,
  type NodeRef,
} from '../lib/index.js';
import { run } from './helpers/child.js';
import { startTestLab } from './helpers/lab.js';
import { ScriptProcess } from './helpers/script.js';
import { suiteTempDir } from './helpers/tmp.js';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A GET or POST with node:http(s) through `agent`; resolves with status and body. */
function request(
  mod: typeof http | typeof https,
  agent: http.Agent,
  url: string,
  body?: Buffer,
): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { agent, method: body ? 'POST' : 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('libraries over ZeroTier sockets', () => {
  let lab: LabHandle;
  let ref: NodeRef;
  let server: ScriptProcess;
  let ip: string;
  let ca: Buffer;

  beforeAll(async () => {
    const dir = suiteTempDir('zts-libs-');
    const openssl = await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=zt-test',
      '-addext',
      'subjectAltName=DNS:zt-test',
    ]);
    expect(openssl.code, openssl.stderr).toBe(0);
    const { readFileSync } = await import('node:fs');
    ca = readFileSync(path.join(dir, 'cert.pem'));

    lab = await startTestLab(path.join(dir, 'lab'));
    const nwid = await lab.createNetwork({ name: 'libs', ipv4: ['10.97.0.0/24'] });
    server = new ScriptProcess(path.join(__dirname, 'helpers', 'library-server.cjs'), [
      lab.info.planetPath,
      path.join(dir, 'server'),
      nwid,
      dir,
    ]);
    ref = await NodeService.acquire({
      storagePath: path.join(dir, 'client'),
      planet: lab.info.planetPath,
      lab: true,
    });
    await lab.authorize(nwid, ref.node.address);
    await lab.authorize(
      nwid,
      String((await server.waitFor((l) => l.event === 'started'))['address']),
    );
    const lease = await ref.node.join(nwid);
    await lease.ready({ timeoutMs: 30_000, waitForAuthorization: true });
    ip = String((await server.waitFor((l) => l.event === 'ready', 40_000))['ip']);
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    await ref?.release();
    await lab?.close();
  });

  it('node:http keep-alive: 100 requests on one connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // The agent hands its own options (host, port, path: null, ...) to createConnection.
    agent.createConnection = net.createConnection as unknown as typeof agent.createConnection;
    const ports = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const res = await request(http, agent, `http://${ip}:8080/who`);
      expect(res.status).toBe(200);
      ports.add(res.body.toString());
    }
    expect(ports.size).toBe(1);
    const post = await request(http, agent, `http://${ip}:8080/hash`, Buffer.from('abc'));
    expect(post.body.toString()).toBe(`${sha256(Buffer.from('abc'))} 3`);
    agent.destroy();
  });

  it('node:https over tls.connect({ socket }), keep-alive', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    agent.createConnection = ((options: { host: string; port: number }) =>
      tls.connect({
        socket: net.createConnection({ host: options.host, port: options.port }),
        ca,
        servername: 'zt-test',
      })) as unknown as typeof agent.createConnection;
    const ports = new Set<string>();
    for (let i = 0; i < 10; i++) {
      ports.add((await request(https, agent, `https://${ip}:8443/who`)).body.toString());
    }
    expect(ports.size).toBe(1);
    const body = randomBytes(256 * 1024);
    const post = await request(https, agent, `https://${ip}:8443/hash`, body);
    expect(post.body.toString()).toBe(`${sha256(body)} ${body.length}`);
    agent.destroy();
  });

  it('ws: a WebSocket with our socket (the port as ws passes it)', async () => {
    const ws = new WebSocket(`ws://${ip}:8080/`, {
      createConnection: ((options: NetConnectOptions) =>
        net.createConnection(options)) as unknown as WebSocket.ClientOptions['createConnection'],
    });
    await once(ws, 'open');
    const echoes: string[] = [];
    ws.on('message', (m: Buffer) => echoes.push(m.toString()));
    for (const text of ['one', 'two', 'x'.repeat(100_000)]) ws.send(text);
    await expect.poll(() => echoes.length, { timeout: 10_000 }).toBe(3);
    expect(echoes.map((e) => e.length)).toEqual([3, 3, 100_000]);
    ws.close(1000, 'done');
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(1000);
  });

  it('undici fetch with a custom connect: 1 MiB down and up, hashes checked', async () => {
    const dispatcher = new UndiciAgent({
      connect: (options, callback) => {
        // undici gives the port as a string ('8080'): node:net takes that, and so do we.
        const socket = net.connect({ host: options.hostname, port: options.port });
        socket.once('connect', () => callback(null, socket as never));
        socket.once('error', (e) => callback(e, null));
      },
    });
    const down = await undiciFetch(`http://${ip}:8080/blob`, { dispatcher });
    const blob = Buffer.from(await down.arrayBuffer());
    expect(blob.length).toBe(1 << 20);
    expect(sha256(blob)).toBe(down.headers.get('x-sha256'));

    const up = randomBytes(1 << 20);
    const res = await undiciFetch(`http://${ip}:8080/hash`, {
      method: 'POST',
      body: up,
      dispatcher,
    });
    expect(await res.text()).toBe(`${sha256(up)} ${up.length}`);
    await dispatcher.close();
  });
});
