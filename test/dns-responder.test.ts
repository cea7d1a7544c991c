// The lab's DNS answers without sockets: zones from members (names, collisions, PTR), the
// responder's answers and its handling of bad input (FORMERR or drop, never a crash), the
// rate limit, and a property test over random and mutated packets.
import { randomBytes } from 'node:crypto';

import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';

import { DnsResponder, MAX_QUERY_BYTES, Rcode } from '../lib/dns/responder.js';
import {
  addressOfReverseName,
  buildZone,
  isValidDomain,
  isValidLabel,
  reverseName,
  type ZoneSpec,
} from '../lib/dns/zone.js';

const spec: ZoneSpec = {
  nwid: '8056c2e21c000001',
  domain: 'Lab.Home.Arpa.',
  subnets: ['10.147.17.0/24', 'fd80:56c2:e21c:0:199:9300::/88'],
  members: [
    {
      id: 'aaaaaaaaaa',
      name: 'alpha',
      addresses: ['10.147.17.2', 'fd80:56c2:e21c:0:199:93aa:aaaa:aaaa'],
    },
    { id: 'bbbbbbbbbb', name: 'Web_Server', addresses: ['10.147.17.3'] },
    { id: 'cccccccccc', name: 'twin', addresses: ['10.147.17.4'] },
    { id: 'dddddddddd', name: 'twin', addresses: ['10.147.17.5'] },
    { id: 'eeeeeeeeee', name: 'zt-aaaaaaaaaa', addresses: ['10.147.17.6'] },
    { id: 'ffffffffff', name: 'noaddress', addresses: [] },
  ],
};

function query(name: string, type: string, extra: Partial<dnsPacket.Packet> = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A', class: 'IN' }],
    ...extra,
  });
}

function ask(r: DnsResponder, name: string, type: string, udp = true) {
  const reply = r.respond(query(name, type), '10.147.17.9', udp);
  expect(reply).toBeDefined();
  const p = dnsPacket.decode(reply!);
  return {
    p,
    rcode: (p.flags ?? 0) & 0xf,
    data: (p.answers ?? []).map((a) => ('data' in a ? (a.data as string) : '')),
  };
}

describe('zones', () => {
  const zone = buildZone(spec);

  it('names members by id and by valid name; collisions get nothing and are reported', () => {
    expect(zone.domain).toBe('lab.home.arpa');
    expect(zone.hosts.get('zt-bbbbbbbbbb.lab.home.arpa')?.a).toEqual(['10.147.17.3']);
    expect(zone.hosts.get('alpha.lab.home.arpa')).toEqual({
      a: ['10.147.17.2'],
      aaaa: ['fd80:56c2:e21c:0:199:93aa:aaaa:aaaa'],
    });
    expect(zone.hosts.has('web_server.lab.home.arpa')).toBe(false); // not a label
    expect(zone.hosts.has('twin.lab.home.arpa')).toBe(false);
    expect(zone.hosts.has('zt-aaaaaaaaaa.lab.home.arpa')).toBe(false); // wanted twice
    expect(zone.hosts.has('zt-ffffffffff.lab.home.arpa')).toBe(false); // no address
    expect(zone.collisions).toEqual([
      { name: 'zt-aaaaaaaaaa.lab.home.arpa', members: ['aaaaaaaaaa', 'eeeeeeeeee'] },
      { name: 'twin.lab.home.arpa', members: ['cccccccccc', 'dddddddddd'] },
    ]);
    expect(zone.ptr.get('2.17.147.10.in-addr.arpa')).toEqual(['alpha.lab.home.arpa']);
    expect(zone.ptr.get('3.17.147.10.in-addr.arpa')).toEqual(['zt-bbbbbbbbbb.lab.home.arpa']);
  });

  it('maps addresses and reverse names both ways', () => {
    for (const ip of ['10.147.17.2', 'fd80:56c2:e21c:0:199:93aa:aaaa:aaaa', '::1', '1.2.3.4']) {
      expect(addressOfReverseName(reverseName(ip)!)).toBe(ip);
    }
    expect(reverseName('::1')).toBe(`1.${'0.'.repeat(31)}ip6.arpa`);
    expect(addressOfReverseName('1.2.3.in-addr.arpa')).toBeUndefined();
    expect(addressOfReverseName('x.2.3.4.in-addr.arpa')).toBeUndefined();
    expect(addressOfReverseName('256.2.3.4.in-addr.arpa')).toBeUndefined();
    expect(isValidDomain('demo.home.arpa.')).toBe(true);
    for (const bad of ['', '.', 'a..b', 'bad domain', 'a/b', `${'x'.repeat(64)}.arpa`]) {
      expect(isValidDomain(bad)).toBe(false);
    }
    expect(isValidLabel('a-b')).toBe(true);
    for (const bad of ['-a', 'a-', 'a.b', '', 'x'.repeat(64), 'é'])
      expect(isValidLabel(bad)).toBe(false);
  });
});

describe('the responder', () => {
  const zone = buildZone(spec);

  it('answers A, AAAA, ANY and PTR authoritatively, case-insensitively', () => {
    const r = new DnsResponder(() => [zone]);
    const a = ask(r, 'ALPHA.lab.home.arpa', 'A');
    expect(a.rcode).toBe(Rcode.NOERROR);
    expect(a.data).toEqual(['10.147.17.2']);
    expect((a.p.flags ?? 0) & dnsPacket.AUTHORITATIVE_ANSWER).not.toBe(0);
    expect(a.p.id).toBe(4242);
    expect(ask(r, 'alpha.lab.home.arpa.', 'AAAA').data).toEqual([
      'fd80:56c2:e21c:0:199:93aa:aaaa:aaaa',
    ]);
    expect(ask(r, 'alpha.lab.home.arpa', 'ANY').data).toHaveLength(2);
    expect(ask(r, reverseName('10.147.17.2')!, 'PTR').data).toEqual(['alpha.lab.home.arpa']);
    expect(ask(r, reverseName('fd80:56c2:e21c:0:199:93aa:aaaa:aaaa')!, 'PTR').data).toEqual([
      'alpha.lab.home.arpa',
    ]);
    expect(ask(r, 'lab.home.arpa', 'SOA').p.answers?.[0]?.type).toBe('SOA');
  });

  it('says NXDOMAIN inside the domain and its subnets, NODATA for other types, REFUSED outside', () => {
    const r = new DnsResponder(() => [zone]);
    const nx = ask(r, 'nobody.lab.home.arpa', 'A');
    expect(nx.rcode).toBe(Rcode.NXDOMAIN);
    expect(nx.p.authorities?.[0]?.type).toBe('SOA');
    expect(ask(r, reverseName('10.147.17.200')!, 'PTR').rcode).toBe(Rcode.NXDOMAIN);
    const nodata = ask(r, 'alpha.lab.home.arpa', 'TXT');
    expect(nodata.rcode).toBe(Rcode.NOERROR);
    expect(nodata.data).toEqual([]);
    for (const outside of ['example.com', 'home.arpa', 'xlab.home.arpa', reverseName('8.8.8.8')!]) {
      const refused = ask(r, outside, 'A');
      expect(refused.rcode).toBe(Rcode.REFUSED);
      expect(refused.data).toEqual([]);
    }
    expect(r.counters).toMatchObject({ nxdomain: 2, nodata: 1, refused: 4 });
  });

  it('truncates what does not fit UDP and answers it whole over TCP', () => {
    const many: ZoneSpec = {
      ...spec,
      members: [
        {
          id: '0123456789',
          name: 'big',
          addresses: Array.from({ length: 14 }, (_, i) => `fd00::${i + 1}`),
        },
      ],
    };
    const r = new DnsResponder(() => [buildZone(many)]);
    const udp = ask(r, 'big.lab.home.arpa', 'ANY');
    // 14 AAAA records with the question fit 512 bytes; force the limit with ANY on a longer set.
    expect(udp.rcode).toBe(Rcode.NOERROR);
    const bigger = new DnsResponder(() => [
      buildZone({
        ...many,
        members: [
          {
            ...many.members[0]!,
            addresses: Array.from({ length: 40 }, (_, i) => `fd00::${i + 1}`),
          },
        ],
      }),
    ]);
    const cut = ask(bigger, 'big.lab.home.arpa', 'AAAA');
    expect((cut.p.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE).not.toBe(0);
    expect(cut.data).toEqual([]);
    expect(ask(bigger, 'big.lab.home.arpa', 'AAAA', false).data).toHaveLength(40);
    expect(bigger.counters.truncated).toBe(1);
  });

  it('answers malformed queries FORMERR or drops them, and counts each', () => {
    const r = new DnsResponder(() => [zone]);
    const valid = query('alpha.lab.home.arpa', 'A');
    // A compression pointer to itself in the question name: a loop.
    const loop = Buffer.concat([valid.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    const formerr = r.respond(loop, 's', true)!;
    expect(dnsPacket.decode(formerr).id).toBe(4242);
    expect((dnsPacket.decode(formerr).flags ?? 0) & 0xf).toBe(Rcode.FORMERR);
    // Two questions, and a name over 253 characters.
    const two = dnsPacket.encode({
      type: 'query',
      id: 1,
      questions: [
        { name: 'a.lab.home.arpa', type: 'A' },
        { name: 'b.lab.home.arpa', type: 'A' },
      ],
    });
    expect((dnsPacket.decode(r.respond(two, 's', true)!).flags ?? 0) & 0xf).toBe(Rcode.FORMERR);
    const long = query(`${'a'.repeat(60)}.`.repeat(4) + 'lab.home.arpa', 'A');
    expect((dnsPacket.decode(r.respond(long, 's', true)!).flags ?? 0) & 0xf).toBe(Rcode.FORMERR);
    // Another opcode (NOTIFY = 4).
    const notify = Buffer.from(valid);
    notify[2] = (4 << 3) | (notify[2]! & 0x87);
    expect((dnsPacket.decode(r.respond(notify, 's', true)!).flags ?? 0) & 0xf).toBe(Rcode.NOTIMP);
    // Dropped: runts, responses (no answering answers), oversized.
    expect(r.respond(Buffer.alloc(5), 's', true)).toBeUndefined();
    const response = Buffer.from(valid);
    response[2]! |= 0x80;
    expect(r.respond(response, 's', true)).toBeUndefined();
    expect(r.respond(Buffer.alloc(MAX_QUERY_BYTES + 1), 's', true)).toBeUndefined();
    expect(r.counters.formerr).toBe(3);
    expect(r.counters.notimp).toBe(1);
    expect(r.counters.dropped).toMatchObject({ notQuery: 2, oversized: 1 });
  });

  it('limits the rate per source and recovers with time', () => {
    let now = 0;
    const r = new DnsResponder(() => [zone], {
      rateLimit: { perSecond: 10, burst: 5 },
      now: () => now,
    });
    const q = query('alpha.lab.home.arpa', 'A');
    const answered = Array.from({ length: 20 }, () => r.respond(q, '10.0.0.1', true)).filter(
      Boolean,
    );
    expect(answered).toHaveLength(5);
    expect(r.counters.dropped.rateLimited).toBe(15);
    expect(r.respond(q, '10.0.0.2', true)).toBeDefined(); // another source is not affected
    now += 1000;
    expect(
      Array.from({ length: 20 }, () => r.respond(q, '10.0.0.1', true)).filter(Boolean),
    ).toHaveLength(5);
  });

  it('never throws on random or mutated packets (property test)', () => {
    const r = new DnsResponder(() => [zone], { rateLimit: { perSecond: 1e9, burst: 1e9 } });
    const seeds = [
      query('alpha.lab.home.arpa', 'A'),
      query(reverseName('10.147.17.2')!, 'PTR'),
      query('x.lab.home.arpa', 'AAAA', {
        additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as dnsPacket.Answer],
      }),
    ];
    let answered = 0;
    for (let i = 0; i < 3000; i++) {
      let input: Buffer;
      if (i % 3 === 0) {
        input = randomBytes(1 + (i % 200));
      } else {
        input = Buffer.from(seeds[i % seeds.length]!);
        const flips = 1 + (i % 6);
        for (let f = 0; f < flips; f++) {
          const at = (i * 7919 + f * 104729) % input.length;
          input[at] = randomBytes(1)[0]!;
        }
        if (i % 5 === 0) input = input.subarray(0, (i * 31) % input.length);
      }
      const reply = r.respond(input, 'fuzz', true);
      if (reply === undefined) continue;
      answered++;
      const p = dnsPacket.decode(reply); // whatever we send must itself decode
      expect(p.type).toBe('response');
      expect(reply.length).toBeLessThanOrEqual(1232);
    }
    expect(answered).toBeGreaterThan(100);
    const c = r.counters;
    const outcomes = c.answered + c.nxdomain + c.nodata + c.refused + c.formerr + c.notimp;
    expect(outcomes).toBe(c.queries);
  });
});
