// The attacker for bench/hostile-flood.mjs, in its own process so that crafting packets
// does not slow the node being measured. Sends to one node's UDP port on loopback:
//   node hostile-sender.mjs '<json: {host, port, target, impostorOf, nwid, seconds}>'
// where target is the node's public identity text and impostorOf a peer's address it
// knows. First, as a valid identity it admitted: OKs for packet ids never sent, a replayed
// ECHO, every truncation of another, FRAMEs for a private network it is not a member of.
// Then HELLOs claiming impostorOf with another key. Then, for `seconds`, in turns: HELLOs
// from made-up identities, fragment floods, random datagrams of every size. Prints one
// JSON line per phase: {"event":"sent", phase, count}, and {"event":"done"}.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';

import { Identity } from '../../dist/index.mjs';
import { VERB, armor, fragment, hello, packet } from './zt-wire.mjs';

const cfg = JSON.parse(process.argv[2]);
const target = Identity.parse(cfg.target);
const dest = target.address;
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const sock = dgram.createSocket('udp4');
await new Promise((r) => sock.bind(0, '127.0.0.1', r));
let replies = 0;
sock.on('message', () => replies++);
const send = (buf) => new Promise((resolve) => sock.send(buf, cfg.port, cfg.host, () => resolve()));
const randomId = () => randomBytes(8).readBigUInt64BE(0);

/** An identity with a real X25519 key pair but any address: it fails the address proof. */
function madeUp(address) {
  // DER straight from the key generation, the raw key its last 32 bytes. Not KeyObject
  // export: Node 20 deadlocked in it (a GC inside ExportJWK ran ~KeyGenJob, which waited
  // for a mutex the export held; gdb on the stalled sender), which stalled this sender.
  const { publicKey, privateKey } = generateKeyPairSync('x25519', {
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  const pub = publicKey.subarray(publicKey.length - 32);
  const priv = privateKey.subarray(privateKey.length - 32);
  const hex = (b) => b.toString('hex');
  return Identity.parse(
    `${address}:0:${hex(pub)}${hex(randomBytes(32))}:${hex(priv)}${hex(randomBytes(32))}`,
  );
}
const randomAddress = () => {
  const a = randomBytes(5);
  if (a[0] === 0xff || a[0] === 0) a[0] = 0x42;
  return a.toString('hex');
};

async function asMember() {
  const me = await Identity.generate();
  const key = me.agree(target);
  for (let i = 0; i < 20 && replies === 0; i++) {
    await send(hello(randomId(), dest, me, key));
    await new Promise((r) => setTimeout(r, 500));
  }
  if (replies === 0) throw new Error('the target never answered our HELLO');
  const sealed = (verb, payload) =>
    armor(packet(randomId(), dest, me.address, verb, payload), key, 1);
  const n = 200;
  for (let i = 0; i < n; i++) {
    const body = Buffer.alloc(9);
    body[0] = VERB.ECHO;
    randomBytes(8).copy(body, 1);
    await send(sealed(VERB.OK, body));
  }
  say({ event: 'sent', phase: 'unexpected-ok', count: n });
  const echo = sealed(VERB.ECHO, Buffer.from('genuine'));
  await send(echo);
  for (let i = 0; i < n; i++) await send(echo);
  say({ event: 'sent', phase: 'replayed', count: n });
  const other = sealed(VERB.ECHO, randomBytes(64));
  for (let len = 0; len < other.length; len++) await send(other.subarray(0, len));
  say({ event: 'sent', phase: 'truncated', count: other.length });
  const frame = Buffer.concat([
    Buffer.from(cfg.nwid, 'hex'),
    Buffer.from([0x08, 0x00]),
    randomBytes(60),
  ]);
  for (let i = 0; i < n; i++) await send(sealed(VERB.FRAME, frame));
  say({ event: 'sent', phase: 'non-member-frames', count: n });
}

async function impostors() {
  const n = 50;
  for (let i = 0; i < n; i++) {
    const fake = madeUp(cfg.impostorOf);
    await send(hello(randomId(), dest, fake, fake.agree(target)));
  }
  say({ event: 'sent', phase: 'impostor-hello', count: n });
}

async function helloFlood(n) {
  for (let i = 0; i < n; i++) {
    const fake = madeUp(randomAddress());
    await send(hello(randomId(), dest, fake, fake.agree(target)));
  }
  return n;
}

async function fragmentFlood(n) {
  let sent = 0;
  for (let i = 0; i < n; i++) {
    const id = randomId();
    const total = 2 + (i % 6);
    for (let k = 1; k < total; k++, sent++)
      await send(fragment(id, dest, k, total, randomBytes(1400)));
  }
  return sent;
}

async function randomDatagrams(from, to) {
  for (let len = from; len < to; len++) await send(randomBytes(len));
  return to - from;
}

try {
  await asMember();
  await impostors();
  const totals = { 'hello-flood': 0, 'fragment-flood': 0, 'random-datagrams': 0 };
  const end = Date.now() + cfg.seconds * 1000;
  let size = 0;
  while (Date.now() < end) {
    totals['hello-flood'] += await helloFlood(200);
    totals['fragment-flood'] += await fragmentFlood(500);
    // Every size from 0 to 10,100 bytes, 2,000 at a time, then round again.
    totals['random-datagrams'] += await randomDatagrams(size, size + 2000);
    size = (size + 2000) % 10100;
  }
  for (const [phase, count] of Object.entries(totals)) say({ event: 'sent', phase, count });
  say({ event: 'done', replies });
} catch (e) {
  say({ event: 'fatal', message: String(e.stack) });
  process.exitCode = 1;
} finally {
  sock.close();
}
