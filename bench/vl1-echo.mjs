// VL1 figures on one machine: time from starting a node to online and to the first ECHO
// answered by a peer (through a lab root on loopback), and the 64-byte ECHO round trip over
// a direct path against a 64-byte round trip on node:net over kernel loopback, same run.
// Prints lines for people and one JSON object last. Usage: node bench/vl1-echo.mjs [rounds]
import net from 'node:net';
import { performance } from 'node:perf_hooks';

import { Identity, NodeService } from '../dist/index.js';
import { startLabRoot } from '../examples/lib/lab-processes.mjs';

const rounds = Number(process.argv[2] ?? 500);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function netRoundTrip() {
  const server = net.createServer((s) => s.pipe(s)).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const sock = net.connect(server.address().port, '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise((r) => sock.once('connect', r));
  const msg = Buffer.alloc(64, 1);
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    sock.write(msg);
    let got = 0;
    await new Promise((r) => {
      const on = (d) => {
        got += d.length;
        if (got >= 64) {
          sock.off('data', on);
          r();
        }
      };
      sock.on('data', on);
    });
    times.push((performance.now() - t) * 1000);
  }
  sock.destroy();
  server.close();
  return median(times);
}

const lab = await startLabRoot();
try {
  const peer = await lab.startPeer('peer');
  const peerAddress = peer.address;
  const identity = await Identity.generate(); // made before the clock starts, as a stored one would be

  const t0 = performance.now();
  const ref = await NodeService.acquire({ identity, planet: lab.planetFile, lab: true });
  const node = ref.node;
  await node.waitOnline(10_000);
  const tOnline = performance.now() - t0;
  let first = null;
  while (first === null) first = await node.echo(peerAddress, { timeoutMs: 2000 });
  const tFirstEcho = performance.now() - t0;
  await new Promise(
    (r) => (node.on('path', (p) => p.address === peerAddress && r()), setTimeout(r, 3000)),
  );

  const rtts = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    const r = await node.echo(peerAddress, { timeoutMs: 2000 });
    if (r !== null) rtts.push((performance.now() - t) * 1000);
  }
  await ref.release();
  const netRtt = await netRoundTrip();
  const zt = median(rtts);
  const result = {
    rounds,
    startToOnlineMs: Math.round(tOnline * 10) / 10,
    startToFirstEchoMs: Math.round(tFirstEcho * 10) / 10,
    echoRoundTripMedianUs: Math.round(zt),
    netRoundTripMedianUs: Math.round(netRtt),
    echoVsNetRatio: Math.round((zt / netRtt) * 100) / 100,
    echoesAnswered: rtts.length,
  };
  console.log(`start -> online:                ${result.startToOnlineMs} ms`);
  console.log(
    `start -> first ECHO answered:   ${result.startToFirstEchoMs} ms (WHOIS + relay via the root)`,
  );
  console.log(
    `64-byte ECHO round trip (direct), median of ${rtts.length}: ${result.echoRoundTripMedianUs} us`,
  );
  console.log(
    `64-byte node:net round trip on loopback, median:  ${result.netRoundTripMedianUs} us`,
  );
  console.log(`ratio ECHO / node:net: ${result.echoVsNetRatio}`);
  console.log(JSON.stringify(result));
} finally {
  lab.close();
}
