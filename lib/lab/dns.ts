/**
 * The lab's names: for every network whose `dns` has a domain, a zone of its authorized
 * members (zone.ts), served on 127.0.0.1 (UDP and TCP, one port for all networks, for dig
 * and other host tools) and on the network itself by the DNS member (dns-member.ts, a child
 * process the lab authorizes on each such network). Zones follow the controller: they are
 * rebuilt after every API change and checked a few times a second for what the controller
 * does on its own (addresses assigned at a member's first request).
 */
import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import path from 'node:path';

import * as ipCodec from '@leichtgewicht/ip-codec';

import { DnsResponder, type ResponderCounters } from '../dns/responder.js';
import { serveDatagrams, serveStream } from '../dns/serve.js';
import {
  buildZone,
  isValidDomain,
  type NameCollision,
  type Zone,
  type ZoneSpec,
} from '../dns/zone.js';
import type { ZeroTierNode } from '../node.js';
import type { LabMessage, MemberMessage } from './dns-member.js';

// Addresses are assigned at a member's config request, which no API call announces.
const POLL_MS = 100;
const DNS_MEMBER_NAME = 'dns';
const MEMBER_RESTART_MS = 5000;

/** What `lab status --json` shows per network with DNS. */
export interface LabDnsEntry {
  domain: string;
  host: string;
  port: number;
  /** The servers members are told of (the DNS member's addresses on the network). */
  servers: string[];
  /** Names more than one member wants: none of them gets it. */
  collisions: NameCollision[];
}

interface StockNetwork {
  id: string;
  name?: string;
  dns?: unknown;
  routes?: Array<{ target: string; via: string | null }>;
  v6AssignMode?: { rfc4193?: boolean; '6plane'?: boolean };
}
interface StockMember {
  id: string;
  name?: string;
  authorized?: boolean;
  ipAssignments?: string[];
}
interface ControllerState {
  networks?: Array<{ network: StockNetwork; members?: StockMember[] }>;
}

/** The rfc4193 and 6plane addresses a member has on a network (protocol.md §5.5). */
function managedIpv6(nwid: string, member: string, mode: StockNetwork['v6AssignMode']): string[] {
  const out: string[] = [];
  const id = Buffer.from(nwid, 'hex');
  const addr = Buffer.from(member, 'hex');
  if (mode?.rfc4193) {
    out.push(ipCodec.v6.decode(Buffer.concat([Buffer.of(0xfd), id, Buffer.of(0x99, 0x93), addr])));
  }
  if (mode?.['6plane']) {
    const folded = Buffer.alloc(4);
    folded.writeUInt32BE((id.readUInt32BE(0) ^ id.readUInt32BE(4)) >>> 0);
    const tail = Buffer.of(0, 0, 0, 0, 0, 1);
    out.push(ipCodec.v6.decode(Buffer.concat([Buffer.of(0xfc), folded, addr, tail])));
  }
  return out;
}

function dnsOf(n: StockNetwork): { domain: string; servers: string[] } | undefined {
  const d = n.dns as { domain?: unknown; servers?: unknown } | undefined;
  if (d === undefined || d === null || Array.isArray(d) || typeof d.domain !== 'string')
    return undefined;
  const servers = Array.isArray(d.servers)
    ? d.servers.filter((s): s is string => typeof s === 'string')
    : [];
  return d.domain === '' ? undefined : { domain: d.domain, servers };
}

export class LabDns {
  readonly #node: ZeroTierNode;
  readonly #dir: string;
  readonly #planetPath: string;
  readonly #save: () => Promise<void>;
  readonly #onChange: (entries: Record<string, LabDnsEntry>) => void;
  readonly responder: DnsResponder;
  #zones: Zone[] = [];
  #specs = '';
  #entries = '';
  #udp: dgram.Socket | undefined;
  #tcp: net.Server | undefined;
  #port = 0;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #again = false;
  #member: ChildProcess | undefined;
  #memberAddress: string | undefined;
  #memberZonesSent = '';
  #memberStartedAt = 0;
  readonly #reported = new Set<string>();
  #closed = false;

  constructor(options: {
    node: ZeroTierNode;
    dir: string;
    planetPath: string;
    save: () => Promise<void>;
    onChange: (entries: Record<string, LabDnsEntry>) => void;
  }) {
    this.#node = options.node;
    this.#dir = options.dir;
    this.#planetPath = options.planetPath;
    this.#save = options.save;
    this.#onChange = options.onChange;
    this.responder = new DnsResponder(() => this.#zones);
  }

  /** Binds 127.0.0.1:port (0: a free port, the same for UDP and TCP) and starts following. */
  async start(port: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const udp = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, '127.0.0.1', () => resolve());
      });
      const bound = udp.address().port;
      const tcp = net.createServer((s) => serveStream(s, this.responder));
      const ok = await new Promise<boolean>((resolve) => {
        tcp.once('error', () => resolve(false));
        tcp.listen(bound, '127.0.0.1', () => resolve(true));
      });
      if (ok) {
        serveDatagrams(udp, this.responder);
        this.#udp = udp;
        this.#tcp = tcp;
        this.#port = bound;
        break;
      }
      udp.close();
      if (port !== 0 || attempt >= 10)
        throw new Error(`DNS: TCP port ${bound} on 127.0.0.1 is taken`);
    }
    await this.refresh();
    // Only networks with DNS need watching between API calls (which refresh at once).
    this.#timer = setInterval(() => {
      if (this.#zones.length > 0 || this.#member !== undefined) void this.refresh();
    }, POLL_MS);
  }

  get port(): number {
    return this.#port;
  }

  /** Rebuilds the zones from the controller now (calls made meanwhile run once after). */
  refresh(): Promise<void> {
    if (this.#refreshing !== undefined) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        await this.#rebuild().catch((e: unknown) => {
          if (!this.#closed) process.stderr.write(`lab dns: ${(e as Error).message}\n`);
        });
      } while (this.#again && !this.#closed);
    })().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #rebuild(): Promise<void> {
    if (this.#closed || this.#node.closed) return;
    const r = await this.#node.controllerCall('state');
    if (r.status !== 200) return;
    const state = r.body as ControllerState;
    const specs: ZoneSpec[] = [];
    const servers = new Map<string, string[]>();
    for (const { network: n, members = [] } of state.networks ?? []) {
      const dns = dnsOf(n);
      if (dns === undefined) continue;
      if (!isValidDomain(dns.domain)) {
        this.#reportOnce(`network ${n.id}: "${dns.domain}" is not a domain name: not served`);
        continue;
      }
      servers.set(n.id, dns.servers);
      specs.push({
        nwid: n.id,
        domain: dns.domain,
        subnets: (n.routes ?? []).filter((rt) => rt.via === null).map((rt) => rt.target),
        members: members
          .filter((m) => m.authorized === true)
          .map((m) => ({
            id: m.id,
            name: m.name ?? '',
            addresses: [...(m.ipAssignments ?? []), ...managedIpv6(n.id, m.id, n.v6AssignMode)],
          })),
      });
    }
    const specsText = JSON.stringify(specs);
    if (specsText !== this.#specs) {
      this.#specs = specsText;
      this.#zones = specs.map((s) => buildZone(s));
      for (const z of this.#zones) {
        for (const c of z.collisions) {
          process.stderr.write(
            `lab dns: ${c.name} is wanted by ${c.members.join(', ')}: not served\n`,
          );
        }
      }
    }
    const entries: Record<string, LabDnsEntry> = {};
    for (const z of this.#zones) {
      entries[z.nwid] = {
        domain: z.domain,
        host: '127.0.0.1',
        port: this.#port,
        servers: servers.get(z.nwid) ?? [],
        collisions: z.collisions,
      };
    }
    const entriesText = JSON.stringify(entries);
    if (entriesText !== this.#entries) {
      this.#entries = entriesText;
      this.#onChange(entries);
    }
    await this.#followMember(specs, state);
  }

  /** Logs a problem once per lab run (the zones are rebuilt several times a second). */
  #reportOnce(text: string): void {
    if (this.#reported.has(text)) return;
    this.#reported.add(text);
    process.stderr.write(`lab dns: ${text}\n`);
  }

  /** Starts the DNS member when a network needs it, authorizes it, sends it the zones. */
  async #followMember(specs: ZoneSpec[], state: ControllerState): Promise<void> {
    if (specs.length === 0 && this.#member === undefined) return;
    const address = this.#memberAddress ?? (await this.#startMember());
    if (address === undefined) return;
    let changed = false;
    for (const spec of specs) {
      const entry = state.networks?.find((e) => e.network.id === spec.nwid);
      const me = entry?.members?.find((m) => m.id === address);
      if (me?.authorized === true) continue;
      const r = await this.#node.controllerCall(
        'member-post',
        spec.nwid,
        address,
        JSON.stringify({ authorized: true, name: me?.name ?? DNS_MEMBER_NAME }),
      );
      changed ||= r.status === 200;
    }
    if (changed) await this.#save();
    const text = JSON.stringify(specs);
    if (text !== this.#memberZonesSent && this.#member?.connected) {
      this.#memberZonesSent = text;
      this.#member.send({ type: 'zones', zones: specs } satisfies LabMessage);
    }
  }

  #startMember(): Promise<string | undefined> {
    if (this.#member !== undefined || this.#closed) return Promise.resolve(undefined);
    // A member that keeps failing is started again at most every few seconds, not per poll.
    if (Date.now() - this.#memberStartedAt < MEMBER_RESTART_MS) return Promise.resolve(undefined);
    this.#memberStartedAt = Date.now();
    const script = path.join(__dirname, 'dns-member.js');
    const child = fork(script, [path.join(this.#dir, 'dns-member'), this.#planetPath], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#member = child;
    child.on('exit', (code, signal) => {
      if (!this.#closed)
        process.stderr.write(`lab dns: the DNS member exited (${code ?? signal})\n`);
      if (this.#member === child) {
        this.#member = undefined;
        this.#memberAddress = undefined;
        this.#memberZonesSent = '';
      }
    });
    child.on('message', (msg: MemberMessage) => void this.#onMemberMessage(msg));
    return new Promise((resolve) => {
      const onHello = (msg: MemberMessage) => {
        if (msg.type !== 'hello') return;
        child.off('message', onHello);
        this.#memberAddress = msg.address;
        resolve(msg.address);
      };
      child.on('message', onHello);
      child.once('exit', () => resolve(undefined));
    });
  }

  async #onMemberMessage(msg: MemberMessage): Promise<void> {
    if (msg.type === 'error') {
      process.stderr.write(`lab dns: serving ${msg.nwid}: ${msg.message}\n`);
      this.#memberZonesSent = ''; // resent on the next refresh, so the member tries again
      return;
    }
    if (msg.type !== 'serving' || this.#closed) return;
    // A network whose DNS names no servers gets the member's addresses, so members learn
    // where to ask; servers set through the API are left alone.
    const r = await this.#node.controllerCall('network-get', msg.nwid);
    if (r.status !== 200) return;
    const dns = dnsOf(r.body as StockNetwork);
    if (dns === undefined || dns.servers.length > 0 || msg.addresses.length === 0) return;
    const update = { dns: { domain: dns.domain, servers: msg.addresses.slice(0, 4) } };
    const posted = await this.#node.controllerCall(
      'network-post',
      msg.nwid,
      '',
      JSON.stringify(update),
    );
    if (posted.status === 200) {
      await this.#save();
      await this.refresh();
    }
  }

  /**
   * What the servers counted: the 127.0.0.1 one, and the DNS member's per network (empty
   * when it does not run or does not answer within a second).
   */
  async counters(): Promise<{
    local: ResponderCounters;
    networks: Record<string, ResponderCounters>;
  }> {
    const child = this.#member;
    let networks: Record<string, ResponderCounters> = {};
    if (child?.connected) {
      networks = await new Promise((resolve) => {
        const timer = setTimeout(() => done({}), 1000);
        const onMessage = (msg: MemberMessage) => msg.type === 'counters' && done(msg.counters);
        const done = (c: Record<string, ResponderCounters>) => {
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(c);
        };
        child.on('message', onMessage);
        child.send({ type: 'counters' } satisfies LabMessage);
      });
    }
    return { local: this.responder.counters, networks };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#refreshing;
    const child = this.#member;
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const stuck = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(stuck);
    }
    this.#udp?.close();
    await new Promise<void>((r) => (this.#tcp ? this.#tcp.close(() => r()) : r()));
  }
}
