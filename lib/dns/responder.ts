/**
 * The lab's DNS answers, independent of any transport: a query's bytes in, a response's
 * bytes out (or nothing, for what must be dropped). Authoritative for each zone's domain
 * and for reverse names inside its subnets; REFUSED for everything else (no recursion: a
 * lab never reaches the internet). Bad input gets FORMERR or is dropped, floods from one
 * source are cut by a rate limit, and every outcome is counted.
 */
import dnsPacket from 'dns-packet';

import { addressOfReverseName, canonicalName, type Zone } from './zone.js';

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

/** Queries larger than this are dropped: a real query is one name (255 bytes) plus EDNS. */
export const MAX_QUERY_BYTES = 1024;
/** Without EDNS a UDP answer must fit 512 bytes (RFC 1035); larger ones are truncated (TC). */
const UDP_PLAIN_LIMIT = 512;
const UDP_EDNS_LIMIT = 1232;
const MAX_NAME_LENGTH = 253;

export interface ResponderCounters {
  queries: number;
  answered: number;
  nxdomain: number;
  nodata: number;
  refused: number;
  formerr: number;
  notimp: number;
  truncated: number;
  dropped: { malformed: number; oversized: number; notQuery: number; rateLimited: number };
}

export interface RateLimit {
  /** Queries per second a source may send on average. */
  perSecond: number;
  /** How many it may send at once. */
  burst: number;
}

const DEFAULT_RATE: RateLimit = { perSecond: 200, burst: 100 };
const MAX_TRACKED_SOURCES = 4096;

type Question = dnsPacket.Question;
type Answer = dnsPacket.Answer;

function header(rd: boolean, rcode: number): number {
  return dnsPacket.AUTHORITATIVE_ANSWER | (rd ? dnsPacket.RECURSION_DESIRED : 0) | (rcode & 0xf);
}

export class DnsResponder {
  readonly counters: ResponderCounters = {
    queries: 0,
    answered: 0,
    nxdomain: 0,
    nodata: 0,
    refused: 0,
    formerr: 0,
    notimp: 0,
    truncated: 0,
    dropped: { malformed: 0, oversized: 0, notQuery: 0, rateLimited: 0 },
  };
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #rate: RateLimit;
  readonly #now: () => number;

  /** `zones()` is asked on every query, so answers follow the zones as they change. */
  constructor(
    private readonly zones: () => readonly Zone[],
    options: { rateLimit?: RateLimit; now?: () => number } = {},
  ) {
    this.#rate = options.rateLimit ?? DEFAULT_RATE;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Answers one query from `source` (an IP: the unit of the rate limit). `udp`: the answer
   * is cut to what the query may receive over UDP, with TC set when it does not fit.
   * Returns undefined when the query is to be dropped.
   */
  respond(query: Uint8Array, source: string, udp: boolean): Buffer | undefined {
    if (!this.#admit(source)) {
      this.counters.dropped.rateLimited++;
      return undefined;
    }
    if (query.length > MAX_QUERY_BYTES) {
      this.counters.dropped.oversized++;
      return undefined;
    }
    const buf = Buffer.from(query.buffer, query.byteOffset, query.length);
    // Responses (QR set) and runts are never answered: answering them could loop two servers.
    const flagsHigh = buf[2] ?? 0x80;
    if (buf.length < 12 || (flagsHigh & 0x80) !== 0) {
      this.counters.dropped.notQuery++;
      return undefined;
    }
    this.counters.queries++;
    let packet: dnsPacket.Packet;
    try {
      packet = dnsPacket.decode(buf);
    } catch {
      return this.#formErr(buf.readUInt16BE(0), (flagsHigh & 0x01) !== 0);
    }
    const id = packet.id ?? 0;
    const rd = ((packet.flags ?? 0) & dnsPacket.RECURSION_DESIRED) !== 0;
    const edns = (packet.additionals ?? []).find((r) => r.type === 'OPT');
    const limit = !udp
      ? 65535
      : edns !== undefined
        ? Math.max(UDP_PLAIN_LIMIT, Math.min(UDP_EDNS_LIMIT, edns.udpPayloadSize ?? 0))
        : UDP_PLAIN_LIMIT;
    // The opcode sits in bits 11-14 of the flags (0: QUERY).
    if ((((packet.flags ?? 0) >> 11) & 0xf) !== 0) {
      this.counters.notimp++;
      return this.#encode({ id, flags: header(rd, Rcode.NOTIMP), questions: [] }, limit);
    }
    const questions = packet.questions ?? [];
    const q = questions[0];
    if (questions.length !== 1 || q === undefined || q.name.length > MAX_NAME_LENGTH) {
      return this.#formErr(id, rd);
    }
    return this.#answer(id, rd, q, limit);
  }

  #answer(id: number, rd: boolean, q: Question, limit: number): Buffer {
    const name = canonicalName(q.name);
    const qtype: string = q.type;
    const zone = this.#zoneOf(name);
    if (zone === undefined) {
      this.counters.refused++;
      return this.#encode(
        { id, flags: header(rd, Rcode.REFUSED) & ~dnsPacket.AUTHORITATIVE_ANSWER, questions: [q] },
        limit,
      );
    }
    const soa: Answer = {
      type: 'SOA',
      name: zone.domain,
      ttl: zone.ttl,
      class: 'IN',
      data: {
        mname: zone.domain,
        rname: `hostmaster.${zone.domain}`,
        serial: 1,
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: zone.ttl,
      },
    };
    const answers: Answer[] = [];
    let exists = false;
    const host = zone.hosts.get(name);
    const ptr = zone.ptr.get(name);
    if (name === zone.domain) {
      exists = true;
      if (qtype === 'SOA' || qtype === 'ANY') answers.push(soa);
    } else if (host !== undefined) {
      exists = true;
      const base = { name, ttl: zone.ttl, class: 'IN' as const };
      if (qtype === 'A' || qtype === 'ANY')
        for (const ip of host.a) answers.push({ ...base, type: 'A', data: ip });
      if (qtype === 'AAAA' || qtype === 'ANY')
        for (const ip of host.aaaa) answers.push({ ...base, type: 'AAAA', data: ip });
    } else if (ptr !== undefined) {
      exists = true;
      if (qtype === 'PTR' || qtype === 'ANY')
        for (const target of ptr)
          answers.push({ name, ttl: zone.ttl, class: 'IN', type: 'PTR', data: target });
    }
    const questions = [{ ...q, name }];
    if (!exists) {
      this.counters.nxdomain++;
      return this.#encode(
        { id, flags: header(rd, Rcode.NXDOMAIN), questions, authorities: [soa] },
        limit,
      );
    }
    if (answers.length === 0) this.counters.nodata++;
    else this.counters.answered++;
    return this.#encode(
      {
        id,
        flags: header(rd, Rcode.NOERROR),
        questions,
        answers,
        authorities: answers.length === 0 ? [soa] : [],
      },
      limit,
    );
  }

  /** The zone a name belongs to: its domain or below, or a reverse name in its subnets. */
  #zoneOf(name: string): Zone | undefined {
    let best: Zone | undefined;
    for (const z of this.zones()) {
      if (name !== z.domain && !name.endsWith(`.${z.domain}`)) continue;
      if (best === undefined || z.domain.length > best.domain.length) best = z;
    }
    if (best !== undefined) return best;
    const ip = addressOfReverseName(name);
    if (ip === undefined) return undefined;
    const type = ip.includes(':') ? 'ipv6' : 'ipv4';
    return this.zones().find((z) => z.ptr.has(name) || z.subnets.check(ip, type));
  }

  #formErr(id: number, rd: boolean): Buffer {
    this.counters.formerr++;
    return this.#encode({ id, flags: header(rd, Rcode.FORMERR), questions: [] }, 65535);
  }

  #encode(packet: dnsPacket.Packet, limit: number): Buffer {
    const full = dnsPacket.encode({ ...packet, type: 'response' });
    if (full.length <= limit) return full;
    // Too big for this UDP query: header and question only, TC set, so the client asks
    // again over TCP.
    this.counters.truncated++;
    return dnsPacket.encode({
      type: 'response',
      id: packet.id ?? 0,
      flags: (packet.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
      questions: packet.questions ?? [],
    });
  }

  /** Token bucket per source; the table forgets the stalest sources past its size. */
  #admit(source: string): boolean {
    const now = this.#now();
    let b = this.#buckets.get(source);
    if (b === undefined) {
      if (this.#buckets.size >= MAX_TRACKED_SOURCES) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
      b = { tokens: this.#rate.burst, at: now };
    } else {
      this.#buckets.delete(source); // re-inserted below: the map stays in last-use order
      b.tokens = Math.min(
        this.#rate.burst,
        b.tokens + ((now - b.at) / 1000) * this.#rate.perSecond,
      );
      b.at = now;
    }
    this.#buckets.set(source, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
