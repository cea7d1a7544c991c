// A TCP peer for the promise-API and rate-limit tests, in its own process (one node per
// process) on a lab network. Prints JSON lines; takes commands on stdin, one JSON object
// a line:
//   {"listen": port, "afterMs": n}   an echo server on port, opened n ms from now
//   {"sink": port}                   a server that reads and drops everything
//   {"source": port}                 a server that writes as fast as its reader takes
//   {"connect": ip, "port": p, "text": t}   connects, sends t, reports the echo
'use strict';
const path = require('node:path');
const readline = require('node:readline');
const { NodeService, net } = require(path.resolve(__dirname, '..', '..', 'dist', 'index.js'));

const [planet, storage, nwid] = process.argv.slice(2);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const chunk = Buffer.alloc(64 * 1024, 0x5a);

function serve(port, onSocket) {
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    onSocket(s);
  });
  server.listen(port, () => say({ event: 'listening', port }));
}

(async () => {
  const ref = await NodeService.acquire({ storagePath: storage, planet, lab: true });
  say({ event: 'started', address: ref.node.address });
  const lease = await ref.node.join(nwid);
  const info = await lease.ready({ timeoutMs: 30000, waitForAuthorization: true });
  const host = info.addresses.find((a) => a.includes('.')).split('/')[0];
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    const cmd = JSON.parse(line);
    if (cmd.listen !== undefined) {
      setTimeout(
        () =>
          serve(cmd.listen, (s) => {
            s.on('data', (d) => s.write(d));
            s.on('end', () => s.end());
          }),
        cmd.afterMs ?? 0,
      );
    } else if (cmd.sink !== undefined) {
      serve(cmd.sink, (s) => {
        s.resume();
        s.on('end', () => s.end());
      });
    } else if (cmd.source !== undefined) {
      serve(cmd.source, (s) => {
        const pump = () => {
          while (!s.destroyed && s.write(chunk));
        };
        s.on('drain', pump);
        s.on('close', () => s.off('drain', pump));
        pump();
      });
    } else if (cmd.connect !== undefined) {
      const s = net.createConnection({ host: cmd.connect, port: cmd.port });
      let got = '';
      s.on('data', (d) => {
        got += d;
        if (got.length >= cmd.text.length) {
          say({ event: 'echo', text: got });
          s.end();
        }
      });
      s.on('error', (e) => say({ event: 'connect-error', code: e.code }));
      s.write(cmd.text);
    }
  });
  say({ event: 'ready', host });
})().catch((e) => {
  say({ event: 'fatal', message: e.message, code: e.code });
  process.exit(1);
});
