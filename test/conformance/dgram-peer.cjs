// The far end for the dgram conformance cases, in its own process: node:dgram on
// 127.0.0.1 ("node"), or this package's dgram on a lab network ("zt"). An echo socket
// sends every datagram back to its sender; a control socket answers "poke <port>" by
// sending "unwanted" to that port (from itself) and then "poked" to the asker, and
// "group <port> <group>" by sending "to-group" to that group and port. On ZeroTier, a
// group socket in 239.1.2.3 echoes what it gets too.
'use strict';
const path = require('node:path');

const [mode, planet, storage, nwid] = process.argv.slice(2);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main() {
  let dgram;
  let host = '127.0.0.1';
  if (mode === 'zt') {
    const zts = require(path.resolve(__dirname, '..', '..', 'dist', 'index.js'));
    const ref = await zts.NodeService.acquire({ storagePath: storage, planet, lab: true });
    say({ event: 'started', address: ref.node.address });
    const lease = await ref.node.join(nwid);
    const info = await lease.ready({ timeoutMs: 30000, waitForAuthorization: true });
    host = info.addresses.find((a) => a.includes('.')).split('/')[0];
    dgram = zts.dgram;
  } else {
    dgram = require('node:dgram');
  }
  const echo = dgram.createSocket('udp4');
  echo.on('message', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
  const control = dgram.createSocket('udp4');
  control.on('message', (msg, rinfo) => {
    const [verb, port, group] = msg.toString().split(' ');
    if (verb === 'group') {
      control.send('to-group', Number(port), group, () =>
        control.send('sent', rinfo.port, rinfo.address),
      );
      return;
    }
    if (verb !== 'poke') return;
    control.send('unwanted', Number(port), rinfo.address, () =>
      control.send('poked', rinfo.port, rinfo.address),
    );
  });
  await new Promise((r) => echo.bind(0, mode === 'zt' ? undefined : host, r));
  await new Promise((r) => control.bind(0, mode === 'zt' ? undefined : host, r));
  let groupPort = 0;
  if (mode === 'zt') {
    const group = dgram.createSocket('udp4');
    group.on('message', (msg, rinfo) => group.send(msg, rinfo.port, rinfo.address));
    await new Promise((r) => group.bind(0, r));
    group.addMembership('239.1.2.3');
    groupPort = group.address().port;
  }
  say({
    event: 'ready',
    host,
    echoPort: echo.address().port,
    controlPort: control.address().port,
    groupPort,
  });
}

main().catch((e) => {
  say({ event: 'fatal', message: e.message, code: e.code });
  process.exit(1);
});
