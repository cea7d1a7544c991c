// Just enough of ZeroTier's v1 wire format, in JavaScript, to make hostile datagrams for
// bench/lib/hostile-sender.mjs: Salsa20/12, Poly1305, armoring (protocol.md §2.3), HELLO
// and fragments. Written for tests from the protocol notes; speed is not a goal.
const MASK32 = 0xffffffff;
const rotl = (v, n) => ((v << n) | (v >>> (32 - n))) >>> 0;

/** One 64-byte Salsa20/12 block for an 8-byte nonce and a 64-bit block counter. */
export function salsa2012Block(key, nonce, counter) {
  const k = (i) => key.readUInt32LE(i * 4);
  const x = new Uint32Array([
    0x61707865,
    k(0),
    k(1),
    k(2),
    k(3),
    0x3320646e,
    nonce.readUInt32LE(0),
    nonce.readUInt32LE(4),
    Number(BigInt(counter) & 0xffffffffn),
    Number(BigInt(counter) >> 32n),
    0x79622d32,
    k(4),
    k(5),
    k(6),
    k(7),
    0x6b206574,
  ]);
  const s = Uint32Array.from(x);
  const qr = (a, b, c, d) => {
    s[b] ^= rotl((s[a] + s[d]) & MASK32, 7);
    s[c] ^= rotl((s[b] + s[a]) & MASK32, 9);
    s[d] ^= rotl((s[c] + s[b]) & MASK32, 13);
    s[a] ^= rotl((s[d] + s[c]) & MASK32, 18);
  };
  for (let i = 0; i < 12; i += 2) {
    // A column round, then a row round.
    qr(0, 4, 8, 12);
    qr(5, 9, 13, 1);
    qr(10, 14, 2, 6);
    qr(15, 3, 7, 11);
    qr(0, 1, 2, 3);
    qr(5, 6, 7, 4);
    qr(10, 11, 8, 9);
    qr(15, 12, 13, 14);
  }
  const out = Buffer.alloc(64);
  for (let i = 0; i < 16; i++) out.writeUInt32LE((s[i] + x[i]) >>> 0, i * 4);
  return out;
}

const leBig = (b) => {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
};

/** The 16-byte Poly1305 tag of `msg` under a 32-byte one-time key. */
export function poly1305(msg, key) {
  const p = (1n << 130n) - 5n;
  const r = leBig(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = leBig(key.subarray(16, 32));
  let acc = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const block = msg.subarray(i, Math.min(i + 16, msg.length));
    acc = ((acc + leBig(block) + (1n << BigInt(8 * block.length))) * r) % p;
  }
  let tag = (acc + s) & ((1n << 128n) - 1n);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++, tag >>= 8n) out[i] = Number(tag & 0xffn);
  return out;
}

export const VERB = { HELLO: 1, ERROR: 2, OK: 3, FRAME: 6, ECHO: 8 };
const IDX_FLAGS = 18;
const IDX_MAC = 19;
const IDX_VERB = 27;

/** Header (id, dest, source, zero flags and MAC) and verb, then the payload. */
export function packet(packetId, dest, source, verb, payload = Buffer.alloc(0)) {
  const h = Buffer.alloc(28);
  h.writeBigUInt64BE(BigInt(packetId), 0);
  h.write(dest, 8, 5, 'hex');
  h.write(source, 13, 5, 'hex');
  h[IDX_VERB] = verb;
  return Buffer.concat([h, payload]);
}

/**
 * Armors a packet in place with the first 32 bytes of an agreed key: cipher 0 (MAC only,
 * for HELLO) or 1 (Salsa20/12 and MAC).
 */
export function armor(pkt, agreedKey, cipher, fragmented = false) {
  pkt[IDX_FLAGS] = (cipher << 3) | (cipher === 1 ? 0x80 : 0) | (fragmented ? 0x40 : 0);
  const k = Buffer.from(agreedKey.subarray(0, 32));
  for (let i = 0; i < IDX_FLAGS; i++) k[i] ^= pkt[i];
  k[IDX_FLAGS] ^= pkt[IDX_FLAGS] & ~7;
  k[19] ^= pkt.length & 0xff;
  k[20] ^= (pkt.length >> 8) & 0xff;
  const nonce = pkt.subarray(0, 8);
  if (cipher === 1) {
    for (let off = IDX_VERB, block = 1; off < pkt.length; off += 64, block++) {
      const ks = salsa2012Block(k, nonce, block);
      for (let i = 0; i < 64 && off + i < pkt.length; i++) pkt[off + i] ^= ks[i];
    }
  }
  const block0 = salsa2012Block(k, nonce, 0);
  poly1305(pkt.subarray(IDX_VERB), block0.subarray(0, 32)).copy(pkt, IDX_MAC, 0, 8);
  return pkt;
}

/** A HELLO from `identity` (binary public form) with the key it agreed with the target. */
export function hello(packetId, dest, identity, agreedKey) {
  const body = Buffer.alloc(13);
  body[0] = 11; // protocol version
  body[1] = 1;
  body[2] = 14;
  body.writeUInt16BE(1, 3);
  body.writeBigUInt64BE(BigInt(Date.now()), 5);
  const pkt = packet(
    packetId,
    dest,
    identity.address,
    VERB.HELLO,
    Buffer.concat([body, identity.toBinary()]),
  );
  return armor(pkt, agreedKey, 0);
}

/** Fragment `number` of `total` (1-based) of packet `packetId`, with `data` as its piece. */
export function fragment(packetId, dest, number, total, data) {
  const h = Buffer.alloc(16);
  h.writeBigUInt64BE(BigInt(packetId), 0);
  h.write(dest, 8, 5, 'hex');
  h[13] = 0xff;
  h[14] = (total << 4) | number;
  return Buffer.concat([h, data]);
}
