// docs/net-compat.md's node:dgram section cannot drift: every member of the real node:dgram (module
// exports, Socket.prototype, asyncDispose) has exactly one row with a status, every row
// names a real member, what we claim to provide exists, and what we call not supported
// says so with ERR_NOT_SUPPORTED (or is absent).
import nodeDgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { NodeService, UdpSocket, dgram } from '../lib/index.js';
import { idlePlanet } from './helpers/lab.js';
import { repoRoot } from './helpers/paths.js';

type Status = 'same' | 'differs' | 'not supported';

function rows(): Map<string, Status> {
  const doc = readFileSync(path.join(repoRoot, 'docs', 'net-compat.md'), 'utf8');
  const start = doc.indexOf('\n## node:dgram\n');
  expect(start).toBeGreaterThan(0);
  const text = doc.slice(start); // the last section: node:net's rows are above it
  const out = new Map<string, Status>();
  for (const m of text.matchAll(/^\| `([^`]+)` \| ([a-z ]+) \|/gm)) {
    const [, name, status] = m;
    expect(out.has(name!), `${name} has two rows`).toBe(false);
    expect(['same', 'differs', 'not supported']).toContain(status);
    out.set(name!, status as Status);
  }
  return out;
}

function nodeMembers(): string[] {
  const proto = nodeDgram.Socket.prototype as object;
  const symbols = Object.getOwnPropertySymbols(proto).map((s) =>
    s === Symbol.asyncDispose ? 'Symbol.asyncDispose' : String(s),
  );
  return [
    ...Object.keys(nodeDgram).map((k) => `dgram.${k}`),
    ...Object.getOwnPropertyNames(proto)
      .filter((k) => k !== 'constructor')
      .map((k) => `Socket#${k}`),
    ...symbols.map((s) => `Socket#[${s}]`),
  ];
}

const events = ["'listening'", "'connect'", "'message'", "'close'", "'error'"];

function ours(name: string): unknown {
  if (name.startsWith('dgram.')) return (dgram as Record<string, unknown>)[name.slice(6)];
  const member = name.slice('Socket#'.length);
  const key = member === '[Symbol.asyncDispose]' ? Symbol.asyncDispose : member;
  return (UdpSocket.prototype as unknown as Record<string | symbol, unknown>)[key];
}

describe("docs/net-compat.md's node:dgram section", () => {
  it('lists every node:dgram member and event once, and nothing else', () => {
    const listed = rows();
    const expected = [...nodeMembers(), ...events];
    for (const name of expected) expect(listed.has(name), `${name} is not listed`).toBe(true);
    for (const name of listed.keys())
      expect(expected, `${name} is not in node:dgram`).toContain(name);
  });

  it('claims only members we provide', () => {
    for (const [name, status] of rows()) {
      if (status === 'not supported' || name.startsWith("'")) continue;
      expect(ours(name), `${name} is listed as ${status} but missing`).toBeDefined();
    }
  });

  it('says ERR_NOT_SUPPORTED where it lists a member as not supported', async () => {
    await using _ref = await NodeService.acquire({ planet: await idlePlanet(), lab: true });
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, resolve));
    const calls: Record<string, () => unknown> = {
      'Socket#addSourceSpecificMembership': () =>
        socket.addSourceSpecificMembership('10.0.0.1', '232.1.2.3'),
    };
    for (const [name, status] of rows()) {
      if (status !== 'not supported') continue;
      const call = calls[name];
      if (call === undefined) {
        expect(ours(name), `${name} is listed as not supported but exists`).toBeUndefined();
      } else {
        expect(call, name).toThrow(expect.objectContaining({ code: 'ERR_NOT_SUPPORTED' }));
      }
    }
    await new Promise<void>((resolve) => socket.close(resolve));
  });
});
