// docs/net-compat.md against the code: every member of the real node:net has a row with
// a status, and every member said to work exists in our net. So the page cannot drift.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import nodeNet from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { net } from '../lib/index.js';
import { repoRoot } from './helpers/paths.js';

type Status = 'same' | 'differs' | 'not supported';
interface Row {
  member: string;
  status: Status;
  notes: string;
}

/** The table rows of the doc's `## node:net` section. */
function netRows(): Row[] {
  const text = readFileSync(path.join(repoRoot, 'docs', 'net-compat.md'), 'utf8');
  const start = text.indexOf('\n## node:net\n');
  const end = text.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(0);
  const rows: Row[] = [];
  for (const line of text.slice(start, end < 0 ? undefined : end).split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    // | `member` | status | notes |  (cells[0] and the last are the empty outsides)
    const m = /^`(.+)`$/.exec(cells[1] ?? '');
    if (m === null || cells.length < 5) continue;
    rows.push({ member: m[1]!, status: cells[2] as Status, notes: cells[3] ?? '' });
  }
  return rows;
}

const isPublic = (name: string) => !name.startsWith('_') && name !== 'constructor';

/** Every member of node:net that code can see, named as the doc names them. */
function nodeMembers(): string[] {
  const names = Object.keys(nodeNet).map((k) => `net.${k}`);
  const symbolName = (s: symbol) =>
    s === Symbol.asyncDispose
      ? '[Symbol.asyncDispose]'
      : s === EventEmitter.captureRejectionSymbol
        ? '[EventEmitter.captureRejectionSymbol]'
        : undefined;
  const classMembers = (cls: string, proto: object, instance: object) => {
    const own = [...Object.getOwnPropertyNames(proto), ...Object.getOwnPropertyNames(instance)];
    for (const n of own.filter(isPublic)) names.push(`${cls}#${n}`);
    for (const s of Object.getOwnPropertySymbols(proto)) {
      const n = symbolName(s);
      if (n !== undefined) names.push(`${cls}#${n}`);
    }
  };
  classMembers('Socket', nodeNet.Socket.prototype, new nodeNet.Socket());
  classMembers('Server', nodeNet.Server.prototype, new nodeNet.Server());
  return [...new Set(names)];
}

/** Whether our net has the member a row names (events are the conformance suite's job). */
function oursHas(member: string): boolean | undefined {
  const key = (n: string) =>
    n === '[Symbol.asyncDispose]'
      ? Symbol.asyncDispose
      : n === '[EventEmitter.captureRejectionSymbol]'
        ? EventEmitter.captureRejectionSymbol
        : n;
  if (member.startsWith('net.')) return member.slice(4) in net;
  const m = /^(Socket|Server)#(.+)$/.exec(member);
  if (m === null) return undefined;
  const [, cls, name] = m;
  const instance = cls === 'Socket' ? new net.Socket() : new net.Server();
  return key(name!) in instance;
}

describe('docs/net-compat.md', () => {
  const rows = netRows();

  it('gives every row a status, and a reason for each difference', () => {
    expect(rows.length).toBeGreaterThan(60);
    for (const row of rows) {
      expect(['same', 'differs', 'not supported'], row.member).toContain(row.status);
      if (row.status !== 'same') expect(row.notes.length, row.member).toBeGreaterThan(10);
    }
    const names = rows.map((r) => r.member);
    expect(new Set(names).size).toBe(names.length);
  });

  it('lists every member of the real node:net', () => {
    const documented = new Set(rows.map((r) => r.member));
    const missing = nodeMembers().filter((m) => !documented.has(m));
    expect(missing).toEqual([]);
  });

  it('matches our net: what works exists, what does not throws ERR_NOT_SUPPORTED', () => {
    for (const row of rows) {
      const has = oursHas(row.member);
      if (has === undefined) continue; // an event
      if (row.status !== 'not supported') {
        expect(has, `${row.member} is documented as working`).toBe(true);
      } else if (has && row.member.startsWith('net.')) {
        const f = (net as unknown as Record<string, () => unknown>)[row.member.slice(4)]!;
        expect(() => f(), row.member).toThrow(
          expect.objectContaining({ code: 'ERR_NOT_SUPPORTED' }),
        );
      }
    }
  });
});
