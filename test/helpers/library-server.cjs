// A peer for the library tests, in its own process: joins a lab network and serves, with
// unmodified libraries fed our sockets, node:http on 8080 (with a ws WebSocket server on
// the same port) and node:https on 8443. Routes:
//   GET /who    -> "<remote port of the connection>" (the keep-alive test counts them)
//   GET /blob   -> 1 MiB of random bytes, their sha256 in the x-sha256 header
//   POST /hash  -> "<sha256 of the body> <its length>"
// WebSocket messages are echoed. Prints JSON lines: started, ready.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');
const { WebSocketServer } = require('ws');

const { NodeService, net } = require(path.resolve(__dirname, '..', '..', 'dist', 'index.js'));

const [planet, storage, nwid, certDir] = process.argv.slice(2);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const blob = crypto.randomBytes(1 << 20);
const blobHash = crypto.createHash('sha256').update(blob).digest('hex');

function handle(req, res) {
  if (req.method === 'GET' && req.url === '/who') {
    res.end(String(req.socket.remotePort));
  } else if (req.method === 'GET' && req.url === '/blob') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-sha256': blobHash });
    res.end(blob);
  } else if (req.method === 'POST' && req.url === '/hash') {
    const hash = crypto.createHash('sha256');
    let length = 0;
    req.on('data', (d) => {
      hash.update(d);
      length += d.length;
    });
    req.on('end', () => res.end(`${hash.digest('hex')} ${length}`));
  } else {
    res.statusCode = 404;
    res.end();
  }
}

/** Feeds a node:http(s) server with the connections a ZeroTier listener accepts. */
function serveOver(server, port) {
  return new Promise((resolve) => {
    net.createServer((socket) => server.emit('connection', socket)).listen(port, resolve);
  });
}

(async () => {
  const ref = await NodeService.acquire({ storagePath: storage, planet, lab: true });
  say({ event: 'started', address: ref.node.address });
  const lease = await ref.node.join(nwid);
  const info = await lease.ready({ timeoutMs: 30000, waitForAuthorization: true });
  const ip = info.addresses.find((a) => a.includes('.')).split('/')[0];

  const plain = http.createServer({ keepAliveTimeout: 30000 }, handle);
  const wss = new WebSocketServer({ server: plain });
  wss.on('connection', (ws) => ws.on('message', (m, binary) => ws.send(m, { binary })));
  const secure = https.createServer(
    {
      key: fs.readFileSync(path.join(certDir, 'key.pem')),
      cert: fs.readFileSync(path.join(certDir, 'cert.pem')),
    },
    handle,
  );
  await serveOver(plain, 8080);
  await serveOver(secure, 8443);
  say({ event: 'ready', ip });
})().catch((e) => {
  say({ event: 'fatal', message: String(e && e.stack) });
  process.exit(1);
});
