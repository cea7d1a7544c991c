import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { Identity } from '../lib/index.js';
import { runNode, run } from './helpers/child.js';
import { cliPath, stockFile } from './helpers/paths.js';
import { tempDir } from './helpers/tmp.js';

const idtool = (...args: string[]) => runNode([cliPath, 'idtool', ...args]);
const id1Secret = stockFile('identities', 'id1.secret');
const id1Public = stockFile('identities', 'id1.public');
const id2Public = stockFile('identities', 'id2.public');
const message = stockFile('identities', 'message.txt');
const stockSig = readFileSync(stockFile('identities', 'id1.message.sig'), 'utf8').trim();

/** One clean line on stderr: no stack trace, no Node internals. */
function expectOneLineError(stderr: string, pattern: RegExp) {
  expect(stderr).toMatch(pattern);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('zerotier-sockets idtool', () => {
  it('generate writes a secret (0600) and public file that validate', async () => {
    const dir = tempDir();
    const secret = path.join(dir, 'identity.secret');
    const pub = path.join(dir, 'identity.public');
    const r = await idtool('generate', secret, pub);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${secret} written\n${pub} written\n`);
    expect(statSync(secret).mode & 0o777).toBe(0o600);
    const id = Identity.parse(readFileSync(secret, 'utf8'));
    expect(readFileSync(pub, 'utf8')).toBe(id.toString());
    expect((await idtool('validate', secret)).code).toBe(0);
    expect((await idtool('validate', pub)).stdout).toBe(`${pub} is a valid identity\n`);
  });

  it('generate with no file prints a secret identity', async () => {
    const r = await idtool('generate');
    expect(r.code).toBe(0);
    expect(Identity.parse(r.stdout).hasPrivate).toBe(true);
  });

  it('validate: 0 for the stock identities, 1 for a tampered one', async () => {
    for (const f of [id1Secret, id1Public, id2Public]) {
      const r = await idtool('validate', f);
      expect(r.code, f).toBe(0);
    }
    const dir = tempDir();
    const bad = path.join(dir, 'bad.public');
    writeFileSync(bad, readFileSync(id1Public, 'utf8').replace(/^ae/, 'af'));
    const r = await idtool('validate', bad);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /FAILED validation/);
  });

  it('validate takes the identity text itself, as stock does', async () => {
    const text = readFileSync(id1Public, 'utf8');
    const r = await idtool('validate', text);
    expect(r.code).toBe(0);
  });

  it('getpublic prints the public form of a secret', async () => {
    const r = await idtool('getpublic', id1Secret);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(readFileSync(id1Public, 'utf8'));
  });

  it('sign prints the stock signature byte for byte', async () => {
    const r = await idtool('sign', id1Secret, message);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(stockSig);
  });

  it('verify: 0 for the stock signature, 1 for a wrong key or a flipped digit', async () => {
    const ok = await idtool('verify', id1Public, message, stockSig);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`${message} signature valid\n`);
    const flipped = (stockSig[0] === '0' ? '1' : '0') + stockSig.slice(1);
    for (const [id, sig] of [
      [id1Public, flipped],
      [id2Public, stockSig],
      [id1Public, 'zzzz'],
    ] as const) {
      const r = await idtool('verify', id, message, sig);
      expect(r.code).toBe(1);
      expectOneLineError(r.stderr, /signature check FAILED/);
    }
  });

  it('verify accepts a file holding the signature', async () => {
    const r = await idtool(
      'verify',
      id1Public,
      message,
      stockFile('identities', 'id1.message.sig'),
    );
    expect(r.code).toBe(0);
  });

  it.each([
    ['validate a missing file', ['validate', '/nonexistent/identity.public'], /file unreadable/],
    ['getpublic a missing file', ['getpublic', '/nonexistent/x'], /file unreadable/],
    ['sign with a public identity', ['sign', id1Public, message], /does not contain a private key/],
    ['sign a missing message', ['sign', id1Secret, '/nonexistent/m'], /is not readable/],
    [
      'write into a missing folder',
      ['generate', '/nonexistent/dir/identity.secret'],
      /cannot write/,
    ],
  ])('%s: one line on stderr, exit 1', async (_name, args, pattern) => {
    const r = await idtool(...args);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, pattern);
  });

  it('a malformed file is one line on stderr, exit 1', async () => {
    const dir = tempDir();
    const garbage = path.join(dir, 'garbage');
    writeFileSync(garbage, 'this is garbage\n');
    const r = await idtool('validate', garbage);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /Identity argument invalid or file unreadable/);
  });

  it('missing arguments or an unknown subcommand print usage and exit 1', async () => {
    for (const args of [
      [],
      ['validate'],
      ['sign', id1Secret],
      ['verify', id1Public, message],
      ['x'],
    ]) {
      const r = await idtool(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stdout).toMatch(/^Usage: zerotier-sockets idtool/);
    }
  });
});

// Cross-checks with a stock zerotier-idtool when one is installed (outside the repository).
const stockIdtool = process.env['ZT_STOCK_IDTOOL'] ?? '/opt/zt-stock/bin/zerotier-idtool';
describe.skipIf(!existsSync(stockIdtool))('stock zerotier-idtool parity', () => {
  it('stock idtool accepts identities we generate, and signatures agree', async () => {
    const dir = tempDir();
    const secret = path.join(dir, 'identity.secret');
    const pub = path.join(dir, 'identity.public');
    expect((await idtool('generate', secret, pub)).code).toBe(0);
    const v = await run(stockIdtool, ['validate', secret]);
    expect(v.stdout).toContain('is a valid identity');
    expect(v.code).toBe(0);
    expect((await run(stockIdtool, ['validate', pub])).code).toBe(0);
    const stockSign = await run(stockIdtool, ['sign', secret, message]);
    const ourSign = await idtool('sign', secret, message);
    expect(ourSign.stdout.trim()).toBe(stockSign.stdout.trim());
    expect((await run(stockIdtool, ['verify', pub, message, ourSign.stdout.trim()])).code).toBe(0);
  });
});
