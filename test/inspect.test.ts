import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { Identity } from '../lib/index.js';
import { inspectCapture } from '../lib/inspect/inspect.js';
import { parsePcap } from '../lib/inspect/pcap.js';
import { addon } from '../lib/native.js';
import { run, runNode } from './helpers/child.js';
import { cliPath, vectorsDir } from './helpers/paths.js';
import {
  ethernet,
  ipv4Udp,
  ipv6Udp,
  loopback,
  pcapFile,
  sll,
  sll2,
  type CaptureOptions,
  type Endpoint,
} from './helpers/pcap.js';
import { suiteTempDir, tempDir } from './helpers/tmp.js';

/** One section (`## V7 ...`) of the golden vectors. */
function section(id: string): string {
  const text = readFileSync(path.join(vectorsDir, 'README.md'), 'utf8');
  const start = text.indexOf(`\n## ${id} `);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}
/** The code blocks of a section, whitespace removed. */
function vector(id: string): string[] {
  return [...section(id).matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\s+/g, ''));
}
const bytes = (hex: string) => Buffer.from(hex, 'hex');

const A = Identity.parse(vector('V1')[0]!);
const B = Identity.parse(vector('V2')[0]!);
const KEY_AB = bytes(/`([0-9a-f]{96})`/.exec(section('V5'))![1]!);
const ECHO_A_B = bytes(vector('V7')[1]!);
const HELLO_A_B = bytes(vector('V9')[2]!);
const OK_B_A = bytes(vector('V10')[1]!);
const [FRAME_HEAD, FRAME_FRAGMENT] = vector('V11').map(bytes) as [Buffer, Buffer];
const CONFIG_CHUNK_A_B = bytes(vector('V16').at(-1)!);

const atA: Endpoint = { ip: '10.0.0.1', port: 9993 };
const atB: Endpoint = { ip: '10.0.0.2', port: 41000 };

interface Sent {
  from: Endpoint;
  to: Endpoint;
  payload: Uint8Array;
}
const aToB = (payload: Uint8Array): Sent => ({ from: atA, to: atB, payload });
const bToA = (payload: Uint8Array): Sent => ({ from: atB, to: atA, payload });

/** A capture of UDP/IPv4 datagrams one millisecond apart, over Ethernet by default. */
function capture(sent: readonly Sent[], options: CaptureOptions = { linkType: 1 }): Buffer {
  const frame = (s: Sent) => {
    const ip = ipv4Udp(s.from, s.to, s.payload);
    return options.linkType === 1 ? ethernet(ip) : ip;
  };
  return pcapFile(
    options,
    sent.map((s, i) => ({ seconds: 1700000000, fraction: 1000 * i, frame: frame(s) })),
  );
}

const JSON_KEYS = [
  'time',
  'src',
  'dst',
  'srcAddress',
  'dstAddress',
  'fragment',
  'cipher',
  'verb',
  'mac',
];

let files: Record<'aSecret' | 'bSecret' | 'aPublic' | 'bPublic', string>;
beforeAll(() => {
  const dir = suiteTempDir('zts-inspect-');
  files = {
    aSecret: path.join(dir, 'a.secret'),
    bSecret: path.join(dir, 'b.secret'),
    aPublic: path.join(dir, 'a.public'),
    bPublic: path.join(dir, 'b.public'),
  };
  writeFileSync(files.aSecret, A.toSecretString());
  writeFileSync(files.bSecret, B.toSecretString());
  writeFileSync(files.aPublic, A.toString());
  writeFileSync(files.bPublic, B.toString());
});

/** Runs the CLI on a capture; `identities` name entries of `files`. */
async function cli(pcap: Buffer, identities: (keyof typeof files)[], ...extra: string[]) {
  const file = path.join(tempDir(), 'capture.pcap');
  writeFileSync(file, pcap);
  const ids = identities.flatMap((k) => ['--identity', files[k]]);
  return runNode([cliPath, 'inspect', file, ...ids, ...extra]);
}

async function inspectJson(pcap: Buffer, identities: (keyof typeof files)[]) {
  const r = await cli(pcap, identities, '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** One clean line on stderr: no stack trace, no Node internals. */
function expectOneLineError(stderr: string, pattern: RegExp) {
  expect(stderr).toMatch(pattern);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('inspectPacket (native)', () => {
  it('authenticates and decrypts V7 with the A-B key, on a copy', () => {
    const packet = Buffer.from(ECHO_A_B);
    expect(addon.inspectPacket(packet, KEY_AB)).toEqual({
      mac: 'ok',
      verb: 'ECHO',
      verbCode: 8,
      compressed: false,
    });
    expect(packet.equals(ECHO_A_B)).toBe(true);
  });

  it('reports a compressed payload (V16) and inflates it', () => {
    expect(addon.inspectPacket(CONFIG_CHUNK_A_B, KEY_AB)).toEqual({
      mac: 'ok',
      verb: 'OK',
      verbCode: 3,
      compressed: true,
    });
  });

  it('reports bad, short and AES packets without throwing', () => {
    const flipped = Buffer.from(ECHO_A_B);
    flipped[30]! ^= 1;
    expect(addon.inspectPacket(flipped, KEY_AB)).toEqual({ mac: 'bad' });
    expect(addon.inspectPacket(ECHO_A_B.subarray(0, 20), KEY_AB)).toEqual({ mac: 'bad' });
    const aes = Buffer.from(ECHO_A_B);
    aes[18] = (aes[18]! & ~0x38) | (3 << 3);
    expect(addon.inspectPacket(aes, KEY_AB)).toEqual({ mac: 'unsupported-cipher' });
    // Cipher 0 keeps the verb in clear: it shows even with a wrong key.
    expect(addon.inspectPacket(HELLO_A_B, new Uint8Array(48))).toEqual({
      mac: 'bad',
      verb: 'HELLO',
      verbCode: 1,
    });
  });

  it('throws TypeError for arguments that are not Uint8Arrays or a 48-byte key', () => {
    const inspect = addon.inspectPacket as (...args: unknown[]) => unknown;
    expect(() => inspect('packet', KEY_AB)).toThrow(TypeError);
    expect(() => inspect(ECHO_A_B)).toThrow(TypeError);
    expect(() => inspect(ECHO_A_B, new Uint16Array(24))).toThrow(TypeError);
    expect(() => inspect(ECHO_A_B, KEY_AB.subarray(0, 32))).toThrow(TypeError);
  });
});

describe('zerotier-sockets inspect', () => {
  it('V7 ECHO A->B: ok with A secret and B public, bad when a byte is flipped', async () => {
    const flipped = Buffer.from(ECHO_A_B);
    flipped[flipped.length - 1]! ^= 0x01;
    const rows = await inspectJson(capture([aToB(ECHO_A_B), aToB(flipped)]), [
      'aSecret',
      'bPublic',
    ]);
    expect(rows[0]).toEqual({
      time: '2023-11-14T22:13:20.000000Z',
      src: '10.0.0.1/9993',
      dst: '10.0.0.2/41000',
      srcAddress: A.address,
      dstAddress: B.address,
      fragment: null,
      cipher: 1,
      verb: 'ECHO',
      mac: 'ok',
    });
    expect(rows[1]).toMatchObject({ time: '2023-11-14T22:13:20.001000Z', verb: null, mac: 'bad' });
  });

  it('V7 with only A secret: B is unknown, so unknown-key', async () => {
    const [row] = await inspectJson(capture([aToB(ECHO_A_B)]), ['aSecret']);
    expect(row).toMatchObject({ cipher: 1, verb: null, mac: 'unknown-key' });
  });

  it('V9 HELLO from A: the clear verb without a key, mac ok with B secret', async () => {
    const pcap = capture([aToB(HELLO_A_B)]);
    const [withoutKey] = await inspectJson(pcap, []);
    expect(withoutKey).toMatchObject({ cipher: 0, verb: 'HELLO', mac: 'unknown-key' });
    // A's identity comes from the HELLO itself.
    const [withB] = await inspectJson(pcap, ['bSecret']);
    expect(withB).toMatchObject({
      srcAddress: A.address,
      dstAddress: B.address,
      cipher: 0,
      verb: 'HELLO',
      mac: 'ok',
    });
  });

  it('V10 OK B->A: ok with B secret once the capture has taught A from its HELLO', async () => {
    // The OK comes first here: identities learned anywhere serve the whole capture.
    const rows = await inspectJson(capture([bToA(OK_B_A), aToB(HELLO_A_B)]), ['bSecret']);
    expect(rows.map((r) => [r['verb'], r['mac']])).toEqual([
      ['OK', 'ok'],
      ['HELLO', 'ok'],
    ]);
    expect(rows[0]).toMatchObject({ srcAddress: B.address, dstAddress: A.address, cipher: 1 });
    // A's secret and B's public file give the same key.
    const [ok] = await inspectJson(capture([bToA(OK_B_A)]), ['aSecret', 'bPublic']);
    expect(ok).toMatchObject({ verb: 'OK', mac: 'ok' });
  });

  it('V11 fragmented FRAME: reassembled, mac ok on head and fragment, in either order', async () => {
    for (const order of [
      [FRAME_HEAD, FRAME_FRAGMENT],
      [FRAME_FRAGMENT, FRAME_HEAD],
    ]) {
      const rows = await inspectJson(capture(order.map(aToB)), ['aSecret', 'bPublic']);
      const byNumber = new Map(rows.map((r) => [(r['fragment'] as { number: number }).number, r]));
      const common = {
        srcAddress: A.address,
        dstAddress: B.address,
        cipher: 1,
        verb: 'FRAME',
        mac: 'ok',
      };
      expect(byNumber.get(0)).toMatchObject({ ...common, fragment: { number: 0, total: 2 } });
      expect(byNumber.get(1)).toMatchObject({ ...common, fragment: { number: 1, total: 2 } });
    }
  });

  it('pieces of a packet that never completes are incomplete', async () => {
    const rows = await inspectJson(capture([aToB(FRAME_HEAD)]), ['aSecret', 'bPublic']);
    expect(rows[0]).toMatchObject({ fragment: { number: 0, total: null }, mac: 'incomplete' });
    const [alone] = await inspectJson(capture([aToB(FRAME_FRAGMENT)]), ['aSecret', 'bPublic']);
    expect(alone).toMatchObject({
      srcAddress: null,
      dstAddress: B.address,
      fragment: { number: 1, total: 2 },
      cipher: null,
      mac: 'incomplete',
    });
  });

  it('the text form shows the fragment number and total', async () => {
    const r = await cli(capture([FRAME_HEAD, FRAME_FRAGMENT].map(aToB)), ['aSecret', 'bPublic']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[1]).toBe(
      `2023-11-14T22:13:20.001000Z 10.0.0.1/9993 > 10.0.0.2/41000 zt ${A.address} > ` +
        `${B.address} frag 1/2 cipher 1 FRAME mac ok`,
    );
  });

  it('the text form marks a compressed payload (V16)', async () => {
    const r = await cli(capture([aToB(CONFIG_CHUNK_A_B)]), ['aSecret', 'bPublic']);
    expect(r.stdout).toMatch(/ cipher 1 OK lz4 mac ok\n$/);
  });

  it('a packet between identities it has no key for is unknown-key', async () => {
    const other = Buffer.from(ECHO_A_B);
    bytes('1122334455' + '6677889900').copy(other, 8); // destination, source
    const [row] = await inspectJson(capture([aToB(other)]), ['aSecret', 'bSecret']);
    expect(row).toMatchObject({
      srcAddress: '6677889900',
      dstAddress: '1122334455',
      verb: null,
      mac: 'unknown-key',
    });
  });

  it('AES (cipher 3), beacons and runts', async () => {
    const aes = Buffer.from(ECHO_A_B);
    aes[18] = 0x18;
    const rows = await inspectJson(
      capture([aToB(aes), aToB(Buffer.alloc(13, 7)), aToB(ECHO_A_B.subarray(0, 20))]),
      ['aSecret', 'bPublic'],
    );
    expect(rows.map((r) => [r['cipher'], r['verb'], r['mac']])).toEqual([
      [3, null, 'unsupported-cipher'],
      [null, 'BEACON', 'none'],
      [null, null, 'malformed'],
    ]);
  });

  it('--json lines have exactly the documented keys', async () => {
    const sent = [aToB(HELLO_A_B), bToA(OK_B_A), aToB(FRAME_HEAD), aToB(Buffer.alloc(13))];
    const rows = await inspectJson(capture(sent), ['aSecret']);
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(Object.keys(row)).toEqual(JSON_KEYS);
  });

  it.each<[string, CaptureOptions]>([
    ['raw IP (101)', { linkType: 101 }],
    ['raw IP, big-endian, nanoseconds', { linkType: 101, bigEndian: true, nanoseconds: true }],
  ])('reads %s captures', async (_name, options) => {
    const [row] = await inspectJson(capture([aToB(ECHO_A_B)], options), ['aSecret', 'bPublic']);
    expect(row).toMatchObject({ src: '10.0.0.1/9993', verb: 'ECHO', mac: 'ok' });
    if (options.nanoseconds === true) expect(row!['time']).toBe('2023-11-14T22:13:20.000000000Z');
  });

  it('reads UDP over IPv6', async () => {
    const from = { ip: 'fd00:0:0:0:0:0:0:1', port: 9993 };
    const to = { ip: 'fd00:0:0:0:1:0:0:abcd', port: 9993 };
    const pcap = pcapFile({ linkType: 1 }, [
      { seconds: 1, frame: ethernet(ipv6Udp(from, to, OK_B_A)) },
    ]);
    const [row] = await inspectJson(pcap, ['aSecret', 'bPublic']);
    expect(row).toMatchObject({
      src: 'fd00::1/9993',
      dst: 'fd00::1:0:0:abcd/9993',
      verb: 'OK',
      mac: 'ok',
    });
  });

  it('a truncated capture: the records before it, then one line on stderr, exit 1', async () => {
    const pcap = capture([aToB(ECHO_A_B), aToB(ECHO_A_B)]);
    const r = await cli(pcap.subarray(0, pcap.length - 10), ['aSecret', 'bPublic']);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /capture\.pcap: record 2 is truncated/);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/ECHO mac ok$/m);
  });

  it('bad files: one line on stderr, exit 1', async () => {
    const dir = tempDir();
    const garbage = path.join(dir, 'garbage');
    writeFileSync(garbage, 'this is not a capture, nor an identity\n');
    const pcapng = path.join(dir, 'x.pcapng');
    writeFileSync(pcapng, bytes('0a0d0d0a1c0000004d3c2b1a'));
    const good = path.join(dir, 'good.pcap');
    writeFileSync(good, capture([aToB(ECHO_A_B)]));
    const cases: [string[], RegExp][] = [
      [['/nonexistent/c.pcap'], /c\.pcap: cannot read the capture \(ENOENT\)/],
      [[garbage], /garbage: not a pcap capture/],
      [[pcapng], /pcapng/],
      [[good, '--identity', '/nonexistent/id'], /id: cannot read the identity file/],
      [[good, '--identity', garbage], /garbage: not a ZeroTier identity/],
    ];
    for (const [args, pattern] of cases) {
      const r = await runNode([cliPath, 'inspect', ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expectOneLineError(r.stderr, pattern);
    }
  });

  it('a reader that goes away early (| head) ends it quietly', async () => {
    const file = path.join(tempDir(), 'big.pcap');
    writeFileSync(file, capture(Array.from({ length: 20_000 }, () => aToB(ECHO_A_B))));
    const r = await run('sh', [
      '-c',
      `"${process.execPath}" "${cliPath}" inspect "${file}" | head -n 1`,
    ]);
    expect(r.stdout).toMatch(/cipher 1 \? mac unknown-key\n$/);
    expect(r.stderr).toBe('');
  });

  it('missing or unknown arguments print the usage and exit 1', async () => {
    for (const args of [[], ['--json'], ['a.pcap', '--identity'], ['a.pcap', '--bogus']]) {
      const r = await runNode([cliPath, 'inspect', ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^Usage: zerotier-sockets inspect/);
    }
  });
});

describe('pcap reader', () => {
  const ip4 = ipv4Udp(atA, atB, ECHO_A_B);
  const ip6 = ipv6Udp(
    { ip: '0:0:0:0:0:0:0:1', port: 1 },
    { ip: '2001:db8:0:0:1:0:0:1', port: 2 },
    ECHO_A_B,
  );

  it.each([
    ['Ethernet with a VLAN tag', 1, ethernet(ip4, { vlan: 5 })],
    ['Linux cooked (SLL)', 113, sll(ip4)],
    ['Linux cooked v2 (SLL2)', 276, sll2(ip4)],
    ['loopback (null)', 0, loopback(ip4)],
    ['raw IPv4 (228)', 228, ip4],
  ])('%s', (_name, linkType, frame) => {
    const { datagrams, error } = parsePcap(pcapFile({ linkType }, [{ seconds: 0, frame }]));
    expect(error).toBeUndefined();
    expect(datagrams).toHaveLength(1);
    expect(datagrams[0]).toMatchObject({ src: '10.0.0.1/9993', dst: '10.0.0.2/41000' });
    expect(Buffer.from(datagrams[0]!.payload).equals(ECHO_A_B)).toBe(true);
  });

  it('IPv6 over SLL2 and raw IPv6 (229), with RFC 5952 addresses', () => {
    for (const [linkType, frame] of [
      [276, sll2(ip6)],
      [229, ip6],
    ] as const) {
      const { datagrams } = parsePcap(pcapFile({ linkType }, [{ seconds: 0, frame }]));
      expect(datagrams[0]).toMatchObject({ src: '::1/1', dst: '2001:db8::1:0:0:1/2' });
    }
  });

  it('skips what is not UDP and flags datagrams cut by the snap length', () => {
    const tcp = Buffer.from(ip4);
    tcp[9] = 6;
    const { datagrams } = parsePcap(
      pcapFile({ linkType: 101 }, [
        { seconds: 0, frame: tcp },
        { seconds: 0, frame: ip4.subarray(0, ip4.length - 4) },
      ]),
    );
    expect(datagrams).toHaveLength(1);
    expect(datagrams[0]).toMatchObject({ record: 2, truncated: true });
    const [row] = inspectCapture(datagrams, []);
    expect(row).toMatchObject({ mac: 'truncated', srcAddress: A.address });
  });

  it('rejects unsupported link types and ends at a truncated record header', () => {
    expect(() => parsePcap(pcapFile({ linkType: 147 }, []))).toThrow(/link type 147/);
    const pcap = pcapFile({ linkType: 101 }, [{ seconds: 0, frame: ip4 }]);
    const cut = Buffer.concat([pcap, Buffer.alloc(5)]);
    const { datagrams, error } = parsePcap(cut);
    expect(datagrams).toHaveLength(1);
    expect(error?.message).toMatch(/record 2 is truncated/);
  });
});
