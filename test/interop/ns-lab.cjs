#!/usr/bin/env node
// Our root + network controller for a lab of network namespaces: the same node as
// `zerotier-sockets lab` (root: true, the controller with the stock HTTP API), but bound to
// every IPv4 address of its namespace instead of 127.0.0.1, on a planet the caller made
// (naming this node at its namespace address), so that stock nodes and libzt, which refuse
// loopback paths, can use it. `lab up` cannot: it binds 127.0.0.1 and writes its own planet
// naming 127.0.0.1 (lib/lab/server.ts). State is kept in memory only.
//
//   node ns-lab.cjs --storage <dir> --planet <file> [--port 9993]
//
// <dir> holds identity.secret (made if missing) and gets authtoken.secret; the HTTP API
// (GET/POST/DELETE /controller/network/..., X-ZT1-Auth) listens on 127.0.0.1:<port> TCP.
// Prints one JSON line {"event":"ready",...} once both are up; stops on SIGTERM/SIGINT.
'use strict';

const http = require('node:http');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { writeFileSync } = require('node:fs');
const { parseArgs } = require('node:util');

const dist = path.resolve(__dirname, '..', '..', 'dist');
const { NodeService } = require(path.join(dist, 'index.js'));
const { routeRequest } = require(path.join(dist, 'lab', 'server.js'));

const { values } = parseArgs({
  options: {
    storage: { type: 'string' },
    planet: { type: 'string' },
    port: { type: 'string', default: '9993' },
  },
  strict: true,
});
if (!values.storage || !values.planet) {
  process.stderr.write('usage: ns-lab.cjs --storage <dir> --planet <file> [--port 9993]\n');
  process.exit(2);
}
const port = Number(values.port);
const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main() {
  const ref = await NodeService.acquire({
    storagePath: values.storage,
    planet: values.planet,
    port,
    root: true,
    bindV4: '0.0.0.0',
    bindV6: '',
    controllerState: '',
  });
  const node = ref.node;
  const token = randomBytes(18).toString('base64url');
  writeFileSync(path.join(values.storage, 'authtoken.secret'), token, { mode: 0o600 });

  const send = (res, status, body) => {
    const text = JSON.stringify(body ?? null);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(text);
  };
  const server = http.createServer((req, res) => {
    (async () => {
      if (req.headers['x-zt1-auth'] !== token) return send(res, 401, { error: 'token' });
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const route = routeRequest(req.method ?? 'GET', url.pathname, node.address);
      if (route === undefined) return send(res, 404, { error: 'not found' });
      let body = '';
      for await (const chunk of req) body += chunk;
      const r = await node.controllerCall(
        route.op,
        route.nwid ?? '',
        route.member ?? '',
        body || '{}',
      );
      send(res, r.status, r.body);
    })().catch((e) => send(res, 500, { error: e.message }));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  print({
    event: 'ready',
    address: node.address,
    port: node.port,
    api: `http://127.0.0.1:${port}/controller`,
  });
  node.on('peer', (p) => print({ event: 'peer', address: p.address }));

  await new Promise((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await new Promise((r) => server.close(() => r()));
  await ref.release();
  print({ event: 'stopped' });
}

main().catch((e) => {
  print({ event: 'error', message: e && e.message, code: e && e.code });
  process.exit(1);
});
