/**
 * A stub resolver for a network's DNS servers, over whatever transport it is given (the
 * ZeroTier one is in network-lookup.ts): UDP first, TCP when the answer is truncated,
 * a timeout per try, retries across the servers, a small cache honouring TTLs, and the
 * error codes of node:dns (ENOTFOUND, ETIMEOUT, ESERVFAIL, EREFUSED, EBADRESP).
 */
import { randomInt } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

import dnsPacket from 'dns-packet';

import { Rcode } from './responder.js';
import { canonicalName } from './zone.js';

/** How queries reach a server. Both reject on timeout (any error counts as no answer). */
export interface DnsTransport {
  /**
   * Sends `query` to server:53 over UDP and resolves with the first datagram from there
   * that `accept` takes (others are ignored: stale or forged answers).
   */
  udp(
    server: string,
    query: Buffer,
    accept: (reply: Buffer) => boolean,
    timeoutMs: number,
  ): Promise<Buffer>;
  /** One query over a TCP connection to server:53 (2-byte length framing), its answer. */
  tcp(server: string, query: Buffer, timeoutMs: number): Promise<Buffer>;
}

export interface ResolverOptions {
  /** ms per try (default 2000: a first query may wait for a path and ARP). */
  timeoutMs?: number;
  /** Rounds over the server list (default 3). */
  tries?: number;
  /** Cached answers kept (default 256). */
  cacheSize?: number;
  now?: () => number;
}

export type RecordType = 'A' | 'AAAA' | 'PTR';

export interface DnsAnswer {
  /** Addresses (A, AAAA) or names (PTR). */
  values: string[];
  /** Seconds the answer may be reused (the smallest TTL of the records). */
  ttl: number;
}

export type DnsErrorCode =
  'ENOTFOUND' | 'ENODATA' | 'ETIMEOUT' | 'ESERVFAIL' | 'EREFUSED' | 'EBADRESP' | 'ECONNREFUSED';

export interface DnsError extends Error {
  code: DnsErrorCode;
  syscall: string;
  hostname: string;
}

const SYSCALL: Record<RecordType, string> = { A: 'queryA', AAAA: 'queryAaaa', PTR: 'queryPtr' };

export function dnsError(code: DnsErrorCode, syscall: string, hostname: string): DnsError {
  const e = new Error(`${syscall} ${code} ${hostname}`) as DnsError;
  e.code = code;
  e.syscall = syscall;
  e.hostname = hostname;
  return e;
}

/** What a reply says, once it is known to answer our question. */
type Outcome =
  | { kind: 'answer'; answer: DnsAnswer }
  | { kind: 'final'; code: DnsErrorCode; ttl: number }
  | { kind: 'next'; code: DnsErrorCode }
  | { kind: 'truncated' };

export class DnsResolver {
  readonly #transport: DnsTransport;
  readonly #timeoutMs: number;
  readonly #tries: number;
  readonly #cacheSize: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { expires: number; answer?: DnsAnswer; code?: DnsErrorCode }>();

  constructor(transport: DnsTransport, options: ResolverOptions = {}) {
    this.#transport = transport;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#tries = options.tries ?? 3;
    this.#cacheSize = options.cacheSize ?? 256;
    this.#now = options.now ?? Date.now;
  }

  /** Forgets every cached answer. */
  clearCache(): void {
    this.#cache.clear();
  }

  /** Asks `servers` (IPs, in order) for `name`'s records of `type`. */
  async query(name: string, type: RecordType, servers: readonly string[]): Promise<DnsAnswer> {
    const qname = canonicalName(name);
    const syscall = SYSCALL[type];
    const key = `${type} ${qname}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined && cached.expires > this.#now()) {
      if (cached.answer !== undefined) return cached.answer;
      throw dnsError(cached.code ?? 'ENOTFOUND', syscall, name);
    }
    this.#cache.delete(key);
    const usable = servers.filter((s) => isIPv4(s) || isIPv6(s));
    if (usable.length === 0) throw dnsError('ESERVFAIL', syscall, name);

    let lastCode: DnsErrorCode = 'ETIMEOUT';
    // Another round only helps servers that did not answer: a refusal or SERVFAIL stands.
    let silent = true;
    for (let round = 0; round < this.#tries && silent; round++) {
      silent = false;
      for (const server of usable) {
        const outcome = await this.#ask(server, qname, type);
        if (outcome.kind === 'answer') {
          this.#remember(key, outcome.answer.ttl, { answer: outcome.answer });
          return outcome.answer;
        }
        if (outcome.kind === 'final') {
          this.#remember(key, outcome.ttl, { code: outcome.code });
          throw dnsError(outcome.code, syscall, name);
        }
        if (outcome.kind === 'next') {
          lastCode = outcome.code;
          silent ||= outcome.code === 'ETIMEOUT';
        }
      }
    }
    throw dnsError(lastCode, syscall, name);
  }

  async #ask(server: string, qname: string, type: RecordType): Promise<Outcome> {
    const id = randomInt(0, 0x10000);
    const query = dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type, name: qname, class: 'IN' }],
    });
    const matches = (reply: Buffer) => {
      const p = decodeOrUndefined(reply);
      const q = p?.questions?.[0];
      return (
        p !== undefined &&
        p.type === 'response' &&
        p.id === id &&
        q !== undefined &&
        canonicalName(q.name) === qname &&
        q.type === type
      );
    };
    let outcome: Outcome;
    try {
      const reply = await this.#transport.udp(
        server,
        query,
        (r) => matches(r) || isTruncatedFor(r, id),
        this.#timeoutMs,
      );
      outcome = interpret(reply, qname, type);
    } catch {
      return { kind: 'next', code: 'ETIMEOUT' };
    }
    if (outcome.kind !== 'truncated') return outcome;
    try {
      const reply = await this.#transport.tcp(server, query, this.#timeoutMs);
      if (!matches(reply)) return { kind: 'next', code: 'EBADRESP' };
      const viaTcp = interpret(reply, qname, type);
      return viaTcp.kind === 'truncated' ? { kind: 'next', code: 'EBADRESP' } : viaTcp;
    } catch {
      return { kind: 'next', code: 'ETIMEOUT' };
    }
  }

  #remember(key: string, ttl: number, entry: { answer?: DnsAnswer; code?: DnsErrorCode }): void {
    if (ttl <= 0 || this.#cacheSize <= 0) return;
    if (this.#cache.size >= this.#cacheSize) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(key, { expires: this.#now() + ttl * 1000, ...entry });
  }
}

function decodeOrUndefined(reply: Buffer): dnsPacket.DecodedPacket | undefined {
  try {
    return dnsPacket.decode(reply);
  } catch {
    return undefined;
  }
}

/** A truncated answer may omit the question; the id is enough to switch to TCP. */
function isTruncatedFor(reply: Buffer, id: number): boolean {
  const p = decodeOrUndefined(reply);
  return (
    p !== undefined &&
    p.type === 'response' &&
    p.id === id &&
    ((p.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0
  );
}

function rcodeOf(p: dnsPacket.DecodedPacket): number {
  return (p.flags ?? 0) & 0xf;
}

function interpret(reply: Buffer, qname: string, type: RecordType): Outcome {
  const p = decodeOrUndefined(reply);
  if (p === undefined) return { kind: 'next', code: 'EBADRESP' };
  if (((p.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0) return { kind: 'truncated' };
  const negativeTtl = () => {
    const soa = (p.authorities ?? []).find((r) => r.type === 'SOA');
    return soa !== undefined && soa.type === 'SOA'
      ? Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0)
      : 0;
  };
  switch (rcodeOf(p)) {
    case Rcode.NOERROR:
      break;
    case Rcode.NXDOMAIN:
      return { kind: 'final', code: 'ENOTFOUND', ttl: negativeTtl() };
    case Rcode.SERVFAIL:
      return { kind: 'next', code: 'ESERVFAIL' };
    case Rcode.REFUSED:
      return { kind: 'next', code: 'EREFUSED' };
    default:
      return { kind: 'next', code: 'EBADRESP' };
  }
  // Follow the answer section from our name through any CNAMEs to records of our type.
  const answers = p.answers ?? [];
  let target = qname;
  for (let hops = 0; hops < 8; hops++) {
    const cname = answers.find((r) => r.type === 'CNAME' && canonicalName(r.name) === target);
    if (cname === undefined || cname.type !== 'CNAME') break;
    target = canonicalName(cname.data);
  }
  const values: string[] = [];
  let ttl = Number.POSITIVE_INFINITY;
  for (const r of answers) {
    if (r.type !== type || canonicalName(r.name) !== target) continue;
    const v = r.data;
    if (typeof v !== 'string') continue;
    if (type === 'A' && !isIPv4(v)) continue;
    if (type === 'AAAA' && !isIPv6(v)) continue;
    values.push(type === 'PTR' ? canonicalName(v) : v);
    ttl = Math.min(ttl, r.ttl ?? 0);
  }
  if (values.length === 0) return { kind: 'final', code: 'ENODATA', ttl: negativeTtl() };
  return { kind: 'answer', answer: { values, ttl: Number.isFinite(ttl) ? ttl : 0 } };
}
