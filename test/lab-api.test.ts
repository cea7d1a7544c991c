// The lab's controller API under abuse: malformed and mistyped bodies, 10 MB bodies, unknown
// networks and members, bad tokens, 1,000 concurrent requests. Every answer is 4xx (or 2xx
// when valid), nothing is half-applied, the lab stays up and its state file stays valid.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { LabHandle } from '../lib/index.js';
import { startTestLab } from './helpers/lab.js';
import { suiteTempDir } from './helpers/tmp.js';

describe('the controller API under abuse', () => {
  let dir: string;
  let lab: LabHandle;
  let nwid: string;
  const member = 'abcdef0123';

  const stateFile = () => path.join(dir, 'controller.json');
  /** The saved state: valid JSON that holds what the API shows. */
  const savedNetwork = () => {
    const state = JSON.parse(readFileSync(stateFile(), 'utf8')) as {
      networks: Array<{ network: Record<string, unknown>; members: unknown[] }>;
    };
    return state.networks.find((n) => n.network['id'] === nwid);
  };
  const raw = (method: string, p: string, body?: string, token?: string) =>
    fetch(`http://127.0.0.1:${lab.info.port}${p}`, {
      method,
      headers: token === undefined ? {} : { 'x-zt1-auth': token },
      ...(body !== undefined ? { body } : {}),
    });

  beforeAll(async () => {
    dir = path.join(suiteTempDir('zts-labapi-'), 'lab');
    lab = await startTestLab(dir);
    dir = lab.info.dir;
    nwid = await lab.createNetwork({ name: 'abuse', ipv4: ['10.1.0.0/24'] });
    const created = await lab.request('POST', `/controller/network/${nwid}/member/${member}`, {
      name: 'm',
    });
    expect(created.status).toBe(200);
  }, 30_000);

  afterAll(async () => {
    await lab?.close();
  });

  it('answers malformed JSON with 400 and changes nothing', async () => {
    const before = await lab.network(nwid);
    for (const body of [
      '{not json',
      '{"name": "x",}',
      '[1, 2',
      '"just a string"',
      '[]',
      '42',
      'null',
      '{"name": "\\ud800"}',
      '\u0000',
      '{"a":' + '['.repeat(1000) + ']'.repeat(1000) + '}',
    ]) {
      const r = await lab.request('POST', `/controller/network/${nwid}`, body);
      expect(r.status, body.slice(0, 40)).toBe(400);
      expect(typeof (r.body as { error?: unknown }).error).toBe('string');
    }
    expect(await lab.network(nwid)).toEqual(before);
  });

  it('answers wrong types and values with 400, applying no part of the body', async () => {
    const before = await lab.network(nwid);
    const beforeMember = await lab.member(nwid, member);
    const networkBodies: unknown[] = [
      { name: 'changed', private: 'yes' }, // a valid field before a bad one: neither applies
      { name: 42 },
      { mtu: 'big' },
      { mtu: 1.5 },
      { mtu: 99999999 },
      { multicastLimit: -1 },
      { ipAssignmentPools: 'all' },
      { ipAssignmentPools: [{ ipRangeStart: 'x', ipRangeEnd: 'y' }] },
      { routes: [{ target: 'nowhere' }] },
      { routes: {} },
      { v4AssignMode: true },
      { v6AssignMode: { zt: 'on' } },
      { rules: 'accept' },
      { rules: [{ type: 'NO_SUCH_RULE' }] },
      { rules: [{ type: 'MATCH_IP_PROTOCOL', ipProtocol: 300 }] },
      { rules: Array.from({ length: 1025 }, () => ({ type: 'ACTION_ACCEPT' })) },
      { name: 'x'.repeat(1000) },
    ];
    for (const body of networkBodies) {
      const r = await lab.request('POST', `/controller/network/${nwid}`, body);
      expect(r.status, JSON.stringify(body).slice(0, 60)).toBe(400);
    }
    const memberBodies: unknown[] = [
      { name: 'changed', authorized: 'sure' },
      { authorized: 1 },
      { ipAssignments: '10.1.0.9' },
      { ipAssignments: ['not an ip'] },
      { ipAssignments: Array.from({ length: 20 }, (_, i) => `10.1.0.${i + 10}`) },
      { activeBridge: null },
    ];
    for (const body of memberBodies) {
      const r = await lab.request('POST', `/controller/network/${nwid}/member/${member}`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    expect(await lab.network(nwid)).toEqual(before);
    expect(await lab.member(nwid, member)).toEqual(beforeMember);
    expect(savedNetwork()?.network['name']).toBe('abuse');
  });

  it('answers unknown networks, members and paths with 404, bad ids with 400', async () => {
    const other = `${lab.info.controllerAddress}ffffff`;
    const foreign = 'aaaaaaaaaa000001'; // another controller's network
    const cases: Array<[string, string, number]> = [
      ['GET', `/controller/network/${other}`, 404],
      ['DELETE', `/controller/network/${other}`, 404],
      ['GET', `/controller/network/${other}/member`, 404],
      ['POST', `/controller/network/${other}/member/${member}`, 404],
      ['POST', `/controller/network/${foreign}`, 400],
      ['GET', `/controller/network/${nwid}/member/0000000001`, 404],
      ['DELETE', `/controller/network/${nwid}/member/0000000001`, 404],
      ['GET', `/controller/network/xyz`, 400],
      ['GET', `/controller/network/${nwid}/member/zzzz`, 400],
      ['GET', `/controller/network/${nwid}/member/ffffffffff`, 400], // reserved address
      ['GET', `/controller/nothing`, 404],
      ['PUT', `/controller/network/${nwid}`, 404],
      ['GET', `/`, 404],
    ];
    for (const [method, p, status] of cases) {
      const r = await lab.request(method, p, method === 'POST' ? {} : undefined);
      expect(r.status, `${method} ${p}`).toBe(status);
    }
  });

  it('answers a missing or wrong token with 401 before reading anything', async () => {
    const token = readFileSync(lab.info.tokenPath, 'utf8').trim();
    for (const t of [undefined, '', 'nope', token.slice(1), `${token}x`, token.toUpperCase()]) {
      if (t === token) continue;
      const get = await raw('GET', `/controller/network/${nwid}`, undefined, t);
      expect(get.status, String(t)).toBe(401);
      const post = await raw('POST', `/controller/network/${nwid}`, '{"name":"hacked"}', t);
      expect(post.status, String(t)).toBe(401);
    }
    expect((await lab.network(nwid))['name']).toBe('abuse');
  });

  it('caps request bodies: 10 MB gets 413 and the lab stays up', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(10 * 1024 * 1024) });
    const r = await lab.request('POST', `/controller/network/${nwid}`, big);
    expect(r.status).toBe(413);
    const garbage = 'x'.repeat(10 * 1024 * 1024);
    const g = await lab.request('POST', `/controller/network/${nwid}/member/${member}`, garbage);
    expect(g.status).toBe(413);
    expect((await lab.network(nwid))['name']).toBe('abuse');
  });

  it('takes 1,000 concurrent requests: 2xx or 4xx each, the state file valid and current', async () => {
    const bodies = (i: number): [string, string, unknown] => {
      switch (i % 5) {
        case 0:
          return ['GET', `/controller/network/${nwid}`, undefined];
        case 1:
          return ['POST', `/controller/network/${nwid}`, { name: `n${i}` }];
        case 2:
          return ['POST', `/controller/network/${nwid}`, '{broken'];
        case 3:
          return [
            'POST',
            `/controller/network/${nwid}/member/${(0x1000000000 + i).toString(16)}`,
            { authorized: i % 2 === 0, name: `m${i}` },
          ];
        default:
          return ['POST', `/controller/network/${nwid}`, { mtu: 'x' }];
      }
    };
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => {
        const [method, p, body] = bodies(i);
        return lab.request(method, p, body).then((r) => [i, r.status] as const);
      }),
    );
    for (const [i, status] of results) {
      const expected = i % 5 === 0 || i % 5 === 1 || i % 5 === 3 ? 200 : 400;
      expect(status, `request ${i}`).toBe(expected);
    }
    // Still up, and the file holds what the API shows (nothing half-written or stale).
    const shown = await lab.network(nwid);
    expect(String(shown['name'])).toMatch(/^n\d+$/);
    const saved = savedNetwork();
    expect(saved?.network).toEqual(shown);
    const members = await lab.members(nwid);
    expect(Object.keys(members).length).toBe(1 + 200);
    expect(saved?.members.length).toBe(1 + 200);
  }, 60_000);
});
