// The SDK's stub resolver over an in-memory transport: answers, TCP after truncation,
// timeouts and retries across servers, Node's error codes, the TTL cache, forged or stale
// replies ignored, and a property test with malformed replies.
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';

import { DnsResponder } from '../lib/dns/responder.js';
import { DnsResolver, type DnsTransport } from '../lib/dns/resolver.js';
import { lookup } from '../lib/dns/lookup.js';
import { networkForName } from '../lib/dns/network-lookup.js';
import { buildZone } from '../lib/dns/zone.js';

const zone = buildZone({
  nwid: '8056c2e21c000001',
  domain: 'lab.home.arpa',
  subnets: ['10.147.17.0/24'],
  members: [
    { id: 'aaaaaaaaaa', name: 'alpha', addresses: ['10.147.17.2', 'fd00::2'] },
    {
      id: 'bbbbbbbbbb',
      name: 'big',
      addresses: Array.from({ length: 40 }, (_, i) => `fd00::1:${i + 1}`),
    },
  ],
  ttl: 30,
});

type Behaviour = 'answer' | 'silent' | 'servfail' | 'garbage' | 'wrong-id';

/** Servers by IP, each answering with a real responder or misbehaving; calls are logged. */
function fakeNetwork(behaviours: Record<string, Behaviour>) {
  const log: string[] = [];
  const responder = new DnsResponder(() => [zone]);
  const reply = (server: string, query: Buffer, udp: boolean): Buffer | undefined => {
    const b = behaviours[server] ?? 'silent';
    if (b === 'silent') return undefined;
    if (b === 'garbage') return randomBytes(40);
    const r = responder.respond(query, 'client', udp)!;
    if (b === 'wrong-id') r.writeUInt16BE((r.readUInt16BE(0) + 1) & 0xffff, 0);
    if (b === 'servfail') r[3] = (r[3]! & 0xf0) | 2;
    return r;
  };
  const transport: DnsTransport = {
    async udp(server, query, accept, timeoutMs) {
      log.push(`udp ${server}`);
      const r = reply(server, query, true);
      if (r !== undefined && accept(r)) return r;
      await new Promise((res) => setTimeout(res, timeoutMs));
      throw new Error('timeout');
    },
    async tcp(server, query, timeoutMs) {
      log.push(`tcp ${server}`);
      const r = reply(server, query, false);
      if (r !== undefined) return r;
      await new Promise((res) => setTimeout(res, timeoutMs));
      throw new Error('timeout');
    },
  };
  return { transport, log };
}

describe('the resolver', () => {
  it('resolves A, AAAA and PTR, and switches to TCP when the answer is truncated', async () => {
    const { transport, log } = fakeNetwork({ '10.0.0.1': 'answer' });
    const r = new DnsResolver(transport, { timeoutMs: 50 });
    expect((await r.query('alpha.lab.home.arpa', 'A', ['10.0.0.1'])).values).toEqual([
      '10.147.17.2',
    ]);
    expect((await r.query('ALPHA.lab.home.arpa.', 'AAAA', ['10.0.0.1'])).values).toEqual([
      'fd00::2',
    ]);
    expect((await r.query('2.17.147.10.in-addr.arpa', 'PTR', ['10.0.0.1'])).values).toEqual([
      'alpha.lab.home.arpa',
    ]);
    log.length = 0;
    expect((await r.query('big.lab.home.arpa', 'AAAA', ['10.0.0.1'])).values).toHaveLength(40);
    expect(log).toEqual(['udp 10.0.0.1', 'tcp 10.0.0.1']);
  });

  it('tries the next server on silence, SERVFAIL or garbage, and fails with the right code', async () => {
    const { transport, log } = fakeNetwork({
      '10.0.0.1': 'silent',
      '10.0.0.2': 'servfail',
      '10.0.0.3': 'garbage',
      '10.0.0.4': 'answer',
    });
    const r = new DnsResolver(transport, { timeoutMs: 30, tries: 2 });
    const servers = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'];
    expect((await r.query('alpha.lab.home.arpa', 'A', servers)).values).toEqual(['10.147.17.2']);
    expect(log).toEqual(servers.map((s) => `udp ${s}`));

    r.clearCache(); // the answer above is cached for its 30 s TTL
    await expect(r.query('alpha.lab.home.arpa', 'A', ['10.0.0.1'])).rejects.toMatchObject({
      code: 'ETIMEOUT',
      syscall: 'queryA',
      hostname: 'alpha.lab.home.arpa',
    });
    await expect(r.query('alpha.lab.home.arpa', 'A', ['10.0.0.2'])).rejects.toMatchObject({
      code: 'ESERVFAIL',
    });
    await expect(
      r.query('alpha.lab.home.arpa', 'A', ['10.0.0.5', '10.0.0.1']),
    ).rejects.toMatchObject({
      code: 'ETIMEOUT',
    });
    // NXDOMAIN is final: no other server is asked.
    log.length = 0;
    await expect(
      r.query('nobody.lab.home.arpa', 'A', ['10.0.0.4', '10.0.0.1']),
    ).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
    expect(log).toEqual(['udp 10.0.0.4']);
    // A refusal is asked of each server once, not again in later rounds.
    log.length = 0;
    await expect(r.query('example.com', 'A', ['10.0.0.4', '10.0.0.4'])).rejects.toMatchObject({
      code: 'EREFUSED',
    });
    expect(log).toEqual(['udp 10.0.0.4', 'udp 10.0.0.4']);
    await expect(r.query('alpha.lab.home.arpa', 'A', [])).rejects.toMatchObject({
      code: 'ESERVFAIL',
    });
  });

  it('ignores replies with another id (a stale or forged answer)', async () => {
    const { transport } = fakeNetwork({ '10.0.0.1': 'wrong-id', '10.0.0.2': 'answer' });
    const r = new DnsResolver(transport, { timeoutMs: 30, tries: 1 });
    expect((await r.query('alpha.lab.home.arpa', 'A', ['10.0.0.1', '10.0.0.2'])).values).toEqual([
      '10.147.17.2',
    ]);
  });

  it('caches answers for their TTL', async () => {
    let now = 1_000_000;
    const { transport, log } = fakeNetwork({ '10.0.0.1': 'answer' });
    const r = new DnsResolver(transport, { timeoutMs: 30, now: () => now });
    await r.query('alpha.lab.home.arpa', 'A', ['10.0.0.1']);
    await r.query('alpha.lab.home.arpa', 'A', ['10.0.0.1']);
    expect(log).toHaveLength(1);
    now += 29_000;
    await r.query('alpha.lab.home.arpa', 'A', ['10.0.0.1']);
    expect(log).toHaveLength(1);
    now += 2_000;
    await r.query('alpha.lab.home.arpa', 'A', ['10.0.0.1']);
    expect(log).toHaveLength(2);
  });

  it('turns malformed replies into errors, never a crash (property test)', async () => {
    const base = dnsPacket.encode({
      type: 'response',
      id: 0,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: [{ name: 'alpha.lab.home.arpa', type: 'A' }],
      answers: [{ name: 'alpha.lab.home.arpa', type: 'A', ttl: 5, data: '10.147.17.2' }],
    });
    let outcomes = 0;
    for (let i = 0; i < 400; i++) {
      const transport: DnsTransport = {
        async udp(_server, query, accept) {
          const reply = i % 2 === 0 ? Buffer.from(base) : randomBytes(12 + (i % 80));
          reply.writeUInt16BE(query.readUInt16BE(0), 0); // the right id, so it gets parsed
          for (let f = 0; f < 1 + (i % 5) && i % 2 === 0; f++) {
            reply[12 + ((i * 7 + f * 13) % (reply.length - 12))] = randomBytes(1)[0]!;
          }
          if (accept(reply)) return reply;
          throw new Error('not accepted');
        },
        async tcp() {
          throw new Error('no tcp');
        },
      };
      const r = new DnsResolver(transport, { timeoutMs: 5, tries: 1 });
      try {
        const answer = await r.query('alpha.lab.home.arpa', 'A', ['10.0.0.1']);
        for (const v of answer.values) expect(v).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      } catch (e) {
        expect(['ETIMEOUT', 'EBADRESP', 'ENOTFOUND', 'ENODATA', 'ESERVFAIL', 'EREFUSED']).toContain(
          (e as { code: string }).code,
        );
      }
      outcomes++;
    }
    expect(outcomes).toBe(400);
  });

  it('picks the network whose domain holds the name (longest wins)', () => {
    const info = (id: string, domain: string, servers: string[]) => ({
      id,
      status: 'OK' as const,
      mac: '',
      addresses: [],
      routes: [],
      dns: { domain, servers },
    });
    const infos = [info('1', 'home.arpa', ['10.0.0.1']), info('2', 'Lab.home.arpa.', ['10.0.0.2'])];
    expect(networkForName(infos, 'x.lab.home.arpa')?.servers).toEqual(['10.0.0.2']);
    expect(networkForName(infos, 'x.other.home.arpa')?.servers).toEqual(['10.0.0.1']);
    expect(networkForName(infos, 'example.com')).toBeUndefined();
    expect(networkForName(infos, 'xhome.arpa')).toBeUndefined();
  });
});

describe('lookup (no node in this process)', () => {
  it("checks its arguments with Node's codes and answers IP literals like dns.lookup", async () => {
    expect(() => lookup(5 as unknown as string, () => undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => lookup('x', {} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => lookup('x', { family: 5 as 4 }, () => undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    const one = promisify(lookup) as unknown as (n: string, o?: object) => Promise<unknown>;
    expect(await one('10.1.2.3')).toEqual({ address: '10.1.2.3', family: 4 });
    expect(await one('fd00::1', { all: true })).toEqual([{ address: 'fd00::1', family: 6 }]);
    await expect(one('10.1.2.3', { family: 6 })).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(one('web.lab.home.arpa')).rejects.toMatchObject({ code: 'ERR_ZT_NO_NODE' });
  });
});
