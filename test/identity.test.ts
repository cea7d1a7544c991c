import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { Identity } from '../lib/index.js';
import { stockFile } from './helpers/paths.js';

// Golden vectors V1, V2, V5 and V6 (shared/vectors/README.md).
const V1 =
  '8e4df28b72:0:ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d7:bd8dd6e4ce7022d2f812797a80c6ee8ad180dc4ebf301dec8b06d1be08832bddd63a2f1cfa7b2c504474c75bdc8898ba476ef92e8e2d0509f8441985171ff16e';
const V2 =
  '0b9ec04f21:0:864801cefb83df0e96e5ae162f27115dac7530ce47361695276773e4dce3f169001782068d9c48bad9ede39655cd3bd87ae9a00d6e4436096796422afe918051:25555f65b3bc35f0092dc618cb2b0c515061b19e3f559a1adf9369f52b822e361da7467c92c7008fdd9ecac17971ba3086e6e75da72c0cd545e4b0daddd93407';
const V5 =
  '30fd9cb12354f8ae3f45cf4b3e558740f0e5d80a48860fcd94ab43c75dee443e38e4556a4e36542606d6b8efd9df83f1';
const V6 =
  '335adb4ceaa1aa59aae8dc30cb0cb2966a9ed27f9c9c006100e185894c37896fed474fa4a6356d65e48f6646adb01af6fb49b2aff7d7c7f4ccd36b1ffd759c05b5c21fd112ddd332126e5629ffc213977525c5621f42d05b1249f5339ee1322a';

const stockText = (name: string) => readFileSync(stockFile('identities', name), 'utf8');

describe('golden vectors', () => {
  it('V1 identity A validates, and fails with another address', async () => {
    const a = Identity.parse(V1);
    expect(a.address).toBe('8e4df28b72');
    expect(a.hasPrivate).toBe(true);
    expect(await a.validate()).toBe(true);
    expect(a.validateSync()).toBe(true);
    expect(await Identity.parse(V1.replace(/^8e/, '9e')).validate()).toBe(false);
  });

  it('V2 identity B validates', async () => {
    expect(await Identity.parse(V2).validate()).toBe(true);
  });

  it('V5 key agreement is the vector and symmetric', () => {
    const a = Identity.parse(V1);
    const b = Identity.parse(V2);
    expect(a.agree(b.toPublic()).toString('hex')).toBe(V5);
    expect(b.agree(a.toPublic()).toString('hex')).toBe(V5);
  });

  it('V6 signature by A over "hello zerotier" is byte-exact and verifies', () => {
    const a = Identity.parse(V1);
    const sig = a.sign('hello zerotier');
    expect(sig.toString('hex')).toBe(V6);
    expect(a.toPublic().verify('hello zerotier', sig)).toBe(true);
  });
});

describe('stock identities', () => {
  for (const name of ['id1.public', 'id1.secret', 'id2.public', 'id2.secret']) {
    it(`${name} parses, validates and prints back unchanged`, async () => {
      const text = stockText(name);
      const id = Identity.parse(text);
      expect(await id.validate()).toBe(true);
      expect(name.endsWith('.secret') ? id.toSecretString() : id.toString()).toBe(text.trim());
    });
  }

  it('the stock signature verifies and ours is byte-identical', () => {
    const message = readFileSync(stockFile('identities', 'message.txt'));
    const stockSig = Buffer.from(stockText('id1.message.sig').trim(), 'hex');
    const id1 = Identity.parse(stockText('id1.secret'));
    expect(Identity.parse(stockText('id1.public')).verify(message, stockSig)).toBe(true);
    expect(id1.sign(message).equals(stockSig)).toBe(true);
  });

  it('signatures fail for another key, another message, or any flipped byte', () => {
    const message = readFileSync(stockFile('identities', 'message.txt'));
    const stockSig = Buffer.from(stockText('id1.message.sig').trim(), 'hex');
    const id1 = Identity.parse(stockText('id1.public'));
    expect(Identity.parse(stockText('id2.public')).verify(message, stockSig)).toBe(false);
    expect(id1.verify(Buffer.concat([message, Buffer.from('x')]), stockSig)).toBe(false);
    for (const i of [0, 31, 32, 63, 64, 95]) {
      const bad = Buffer.from(stockSig);
      bad[i] = bad[i]! ^ 0x01;
      expect(id1.verify(message, bad), `byte ${i}`).toBe(false);
    }
    expect(id1.verify(message, stockSig.subarray(0, 95))).toBe(false);
  });
});

describe('negative validation', () => {
  const a = Identity.parse(V1);
  const pub = a.publicKey.toString('hex');
  const priv = V1.split(':')[3]!;

  it('rejects reserved addresses', async () => {
    expect(await Identity.parse(`0000000000:0:${pub}`).validate()).toBe(false);
    expect(await Identity.parse(`ff4df28b72:0:${pub}`).validate()).toBe(false);
  });

  it('rejects a changed public key', async () => {
    const flipped = (pub[0] === '0' ? '1' : '0') + pub.slice(1);
    expect(await Identity.parse(`8e4df28b72:0:${flipped}`).validate()).toBe(false);
  });

  it('rejects a secret whose private key does not match its public key', async () => {
    const otherPriv = V2.split(':')[3]!;
    expect(await Identity.parse(`8e4df28b72:0:${pub}:${otherPriv}`).validate()).toBe(false);
    expect(await Identity.parse(`8e4df28b72:0:${pub}:${priv}`).validate()).toBe(true);
  });
});

describe('parsing', () => {
  const [addr, , pub, priv] = V1.split(':') as [string, string, string, string];

  it.each([
    ['empty', ''],
    ['address only', addr],
    ['wrong type', `${addr}:1:${pub}`],
    ['short address', `${addr.slice(1)}:0:${pub}`],
    ['short public key', `${addr}:0:${pub.slice(2)}`],
    ['non-hex public key', `${addr}:0:${pub.slice(0, -1)}g`],
    ['short private key', `${addr}:0:${pub}:${priv.slice(2)}`],
    ['extra field', `${addr}:0:${pub}:${priv}:00`],
    ['empty private key', `${addr}:0:${pub}:`],
  ])('rejects %s with ERR_INVALID_ARG_VALUE', (_name, text) => {
    expect(() => Identity.parse(text)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('rejects non-strings with ERR_INVALID_ARG_TYPE', () => {
    expect(() => Identity.parse(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });

  it('accepts upper-case hex and surrounding white space', () => {
    const id = Identity.parse(`  ${V1.toUpperCase().replace(':0:', ':0:')}\n`);
    expect(id.toSecretString()).toBe(V1);
  });

  it('round-trips the binary forms', () => {
    const a = Identity.parse(V1);
    const pubBin = a.toBinary();
    expect(pubBin.length).toBe(71);
    expect(Identity.fromBinary(pubBin).toString()).toBe(a.toString());
    const secBin = a.toBinary({ includePrivate: true });
    expect(secBin.length).toBe(135);
    expect(Identity.fromBinary(secBin).toSecretString()).toBe(V1);
    expect(() => Identity.fromBinary(pubBin.subarray(0, 70))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('never shows the private key in JSON or inspection', async () => {
    const { inspect } = await import('node:util');
    const a = Identity.parse(V1);
    expect(JSON.stringify({ a })).not.toContain(V1.split(':')[3]);
    expect(inspect(a)).toBe('Identity <8e4df28b72, with private key>');
  });

  it('operations that need a private key say so', () => {
    const pubOnly = Identity.parse(V1).toPublic();
    expect(() => pubOnly.sign('x')).toThrow(/needs a private key/);
    expect(() => pubOnly.agree(pubOnly)).toThrow(/needs a private key/);
    expect(() => pubOnly.toSecretString()).toThrow(/needs a private key/);
  });
});

describe('generation', () => {
  it('makes valid, distinct identities that sign, verify and agree', async () => {
    const [x, y] = await Promise.all([Identity.generate(), Identity.generate()]);
    expect(x.address).toMatch(/^[0-9a-f]{10}$/);
    expect(x.address).not.toBe(y.address);
    expect(await x.validate()).toBe(true);
    expect(await y.toPublic().validate()).toBe(true);
    const sig = x.sign('m');
    expect(x.toPublic().verify('m', sig)).toBe(true);
    expect(x.agree(y.toPublic()).equals(y.agree(x.toPublic()))).toBe(true);
  });

  it('does not block the JS thread', async () => {
    // If the memory-hard search ran on this thread, no setImmediate callback could run
    // until it finished. Each generation takes at least one 2 MiB hash (milliseconds), so
    // a free event loop turns many times meanwhile.
    let turns = 0;
    let running = true;
    const spin = () => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    const ids = await Promise.all([Identity.generate(), Identity.generate(), Identity.generate()]);
    running = false;
    expect(ids).toHaveLength(3);
    expect(turns).toBeGreaterThan(20);
  });
});
