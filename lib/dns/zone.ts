/**
 * A network's names, as the lab serves them: `zt-<member id>.<domain>` and
 * `<member name>.<domain>` for every authorized member with an address (A and AAAA), and
 * PTR records for those addresses. Pure data: built from the controller's view, read by
 * the responder (responder.ts).
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

import * as ipCodec from '@leichtgewicht/ip-codec';

export interface ZoneMember {
  /** 10 hex digits. */
  id: string;
  /** The member's name in the controller ('' for none). */
  name: string;
  /** Its addresses on the network (plain IPs). */
  addresses: string[];
}

export interface ZoneSpec {
  /** 16 hex digits. */
  nwid: string;
  domain: string;
  /** Subnets of the network ("ip/bits"): reverse names inside them are ours to answer. */
  subnets: string[];
  members: ZoneMember[];
  /** Seconds; the lab uses 0 so that changes are seen at once. */
  ttl?: number;
}

export interface NameCollision {
  name: string;
  /** The member ids that want it; none of them gets it. */
  members: string[];
}

export interface Zone {
  nwid: string;
  /** Lower case, no trailing dot. */
  domain: string;
  ttl: number;
  /** Fully qualified lower-case name -> its addresses. */
  hosts: Map<string, { a: string[]; aaaa: string[] }>;
  /** Reverse name (in-addr.arpa / ip6.arpa) -> the names it points to. */
  ptr: Map<string, string[]>;
  subnets: BlockList;
  collisions: NameCollision[];
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN_CHARS = /^[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*$/;

/** A name in canonical form: lower case, no trailing dot. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Whether `domain` can be served: dot-separated labels of letters, digits, '-' and '_'. */
export function isValidDomain(domain: string): boolean {
  const d = canonicalName(domain);
  return d.length > 0 && d.length <= 253 - 14 && DOMAIN_CHARS.test(d);
}

/** Whether a member name can be a DNS label (letters, digits, inner hyphens, 1-63 chars). */
export function isValidLabel(name: string): boolean {
  return LABEL.test(name.toLowerCase());
}

/** The reverse-lookup name of an IP: d.c.b.a.in-addr.arpa or the 32 nibbles of ip6.arpa. */
export function reverseName(ip: string): string | undefined {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (!isIPv6(ip)) return undefined;
  const hex = Buffer.from(ipCodec.v6.encode(ip)).toString('hex');
  return `${hex.split('').reverse().join('.')}.ip6.arpa`;
}

/** The IP a reverse name stands for, or undefined when it names no whole address. */
export function addressOfReverseName(name: string): string | undefined {
  const n = canonicalName(name);
  if (n.endsWith('.in-addr.arpa')) {
    const parts = n.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
    const ip = parts.reverse().join('.');
    return isIPv4(ip) ? ip : undefined;
  }
  if (n.endsWith('.ip6.arpa')) {
    const nibbles = n.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((x) => /^[0-9a-f]$/.test(x))) return undefined;
    return ipCodec.v6.decode(Buffer.from(nibbles.reverse().join(''), 'hex'));
  }
  return undefined;
}

/** Builds a network's zone. Member names that are not labels, or that collide, get no record. */
export function buildZone(spec: ZoneSpec): Zone {
  const domain = canonicalName(spec.domain);
  const zone: Zone = {
    nwid: spec.nwid,
    domain,
    ttl: spec.ttl ?? 0,
    hosts: new Map(),
    ptr: new Map(),
    subnets: new BlockList(),
    collisions: [],
  };
  for (const cidr of spec.subnets) {
    const [ip, bits] = cidr.split('/');
    const prefix = Number(bits);
    if (ip === undefined || !Number.isInteger(prefix)) continue;
    if (isIPv4(ip)) zone.subnets.addSubnet(ip, prefix, 'ipv4');
    else if (isIPv6(ip)) zone.subnets.addSubnet(ip, prefix, 'ipv6');
  }
  // Who wants which name: zt-<id> always, the member name when it is a label.
  const wanted = new Map<string, ZoneMember[]>();
  const want = (label: string, m: ZoneMember) => {
    const list = wanted.get(label) ?? [];
    if (!list.includes(m)) list.push(m);
    wanted.set(label, list);
  };
  for (const m of spec.members) {
    if (m.addresses.length === 0) continue;
    want(`zt-${m.id.toLowerCase()}`, m);
    if (m.name !== '' && isValidLabel(m.name)) want(m.name.toLowerCase(), m);
  }
  const primary = new Map<ZoneMember, string>();
  for (const [label, members] of wanted) {
    const fqdn = `${label}.${domain}`;
    if (members.length > 1) {
      zone.collisions.push({ name: fqdn, members: members.map((m) => m.id) });
      continue;
    }
    const m = members[0];
    if (m === undefined) continue;
    zone.hosts.set(fqdn, {
      a: m.addresses.filter((a) => isIPv4(a)),
      aaaa: m.addresses.filter((a) => isIPv6(a)),
    });
    // PTR names the member's own name when it has one, else its id name.
    if (!label.startsWith('zt-') || !primary.has(m)) primary.set(m, fqdn);
  }
  for (const [m, fqdn] of primary) {
    for (const ip of m.addresses) {
      const r = reverseName(ip);
      if (r !== undefined) zone.ptr.set(r, [fqdn]);
    }
  }
  return zone;
}
