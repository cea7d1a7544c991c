/**
 * Names on a node's networks: a name inside a joined network's DNS domain is asked of that
 * network's servers over ZeroTier (UDP and TCP sockets of the node's own stack). Names in
 * no network's domain are not asked anywhere: the host's resolver could send them to the
 * internet, and its answers are not reachable over ZeroTier anyway.
 */
import { BlockList, isIP } from 'node:net';

import type { NetworkInfo } from '../network.js';
import type { ZeroTierNode } from '../node.js';
import type { SocketChannel } from '../sockets/channel.js';
import { Socket } from '../sockets/tcp.js';
import { UdpSocket } from '../sockets/udp.js';
import { DnsResolver, dnsError, type DnsTransport, type ResolverOptions } from './resolver.js';
import { canonicalName, reverseName } from './zone.js';

const DNS_PORT = 53;
const MAX_TCP_MESSAGE = 65535;

/** Queries over the node's own UDP and TCP sockets. */
export function zeroTierTransport(node: ZeroTierNode): DnsTransport {
  return nodeTransport(node.sockets, node);
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

function nodeTransport(channel: SocketChannel, node: ZeroTierNode): DnsTransport {
  return {
    udp(server, query, accept, timeoutMs) {
      return new Promise<Buffer>((resolve, reject) => {
        const socket = new UdpSocket(channel, isIP(server) === 6 ? 'udp6' : 'udp4');
        const timer = setTimeout(() => finish(new Error('timeout')), timeoutMs);
        const finish = (err: Error | undefined, reply?: Buffer) => {
          clearTimeout(timer);
          socket.close();
          if (err !== undefined || reply === undefined) reject(err ?? new Error('no reply'));
          else resolve(reply);
        };
        socket.on('error', (e: Error) => finish(e));
        socket.on('message', (msg: Buffer, rinfo: { address: string; port: number }) => {
          if (rinfo.address === server && rinfo.port === DNS_PORT && accept(msg)) {
            finish(undefined, msg);
          }
        });
        socket.send(query, DNS_PORT, server);
      });
    },
    tcp(server, query, timeoutMs) {
      return new Promise<Buffer>((resolve, reject) => {
        const socket = new Socket({ node }).connect({ host: server, port: DNS_PORT, timeoutMs });
        const timer = setTimeout(() => finish(new Error('timeout')), timeoutMs);
        let got = Buffer.alloc(0);
        const finish = (err: Error | undefined, reply?: Buffer) => {
          clearTimeout(timer);
          socket.destroy();
          if (err !== undefined || reply === undefined) reject(err ?? new Error('no reply'));
          else resolve(reply);
        };
        socket.on('error', (e: Error) => finish(e));
        socket.on('end', () => finish(new Error('closed before the answer')));
        socket.on('connect', () => {
          const framed = Buffer.alloc(2 + query.length);
          framed.writeUInt16BE(query.length, 0);
          query.copy(framed, 2);
          socket.write(framed);
        });
        socket.on('data', (chunk: Buffer) => {
          got = Buffer.concat([got, chunk]);
          if (got.length < 2) return;
          const len = got.readUInt16BE(0);
          if (len > MAX_TCP_MESSAGE) finish(new Error('oversized'));
          else if (got.length >= 2 + len) finish(undefined, got.subarray(2, 2 + len));
        });
      });
    },
  };
}

/** The joined network whose DNS domain holds `name` (the longest domain wins). */
export function networkForName(
  infos: readonly NetworkInfo[],
  name: string,
): { domain: string; servers: string[] } | undefined {
  const n = canonicalName(name);
  let best: { domain: string; servers: string[] } | undefined;
  for (const info of infos) {
    if (info.status !== 'OK' || info.dns === undefined) continue;
    const domain = canonicalName(info.dns.domain);
    if (domain === '' || (n !== domain && !n.endsWith(`.${domain}`))) continue;
    if (best === undefined || domain.length > best.domain.length) {
      best = { domain, servers: info.dns.servers };
    }
  }
  return best;
}

/** A node's resolver for names on its networks. */
export class NetworkNames {
  readonly resolver: DnsResolver;

  constructor(
    private readonly host: ZeroTierNode,
    options: ResolverOptions & { transport?: DnsTransport } = {},
  ) {
    this.resolver = new DnsResolver(options.transport ?? zeroTierTransport(host), options);
  }

  /**
   * The addresses of `hostname` (family 0: IPv4 first, then IPv6). Rejects like
   * dns.lookup: ENOTFOUND (also for names in no network's domain, which are not sent
   * anywhere), ETIMEOUT, ESERVFAIL, EREFUSED.
   */
  async resolve(hostname: string, family: 0 | 4 | 6 = 0): Promise<ResolvedAddress[]> {
    const literal = isIP(hostname);
    if (literal !== 0) {
      if (family !== 0 && family !== literal) throw dnsError('ENOTFOUND', 'getaddrinfo', hostname);
      return [{ address: hostname, family: literal as 4 | 6 }];
    }
    const net = networkForName(await this.host.networkInfos(), hostname);
    if (net === undefined) throw dnsError('ENOTFOUND', 'getaddrinfo', hostname);
    const types =
      family === 4
        ? (['A'] as const)
        : family === 6
          ? (['AAAA'] as const)
          : (['A', 'AAAA'] as const);
    const results = await Promise.allSettled(
      types.map((t) => this.resolver.query(hostname, t, net.servers)),
    );
    const out: ResolvedAddress[] = [];
    let firstError: (Error & { code?: string }) | undefined;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        for (const address of r.value.values)
          out.push({ address, family: types[i] === 'A' ? 4 : 6 });
      } else {
        firstError ??= r.reason as Error & { code?: string };
      }
    });
    if (out.length > 0) return out;
    // No address of any family: NXDOMAIN and NODATA both mean "not found" to a lookup.
    const code = firstError?.code;
    const lookupCode = code === undefined || code === 'ENODATA' ? 'ENOTFOUND' : code;
    throw dnsError(lookupCode as 'ENOTFOUND', 'getaddrinfo', hostname);
  }

  /** The names of `ip` (PTR), asked of the network whose routes hold it. */
  async reverse(ip: string): Promise<string[]> {
    const name = reverseName(ip);
    if (name === undefined) throw dnsError('ENOTFOUND', 'getHostByAddr', ip);
    const type = isIP(ip) === 4 ? 'ipv4' : 'ipv6';
    for (const info of await this.host.networkInfos()) {
      if (info.status !== 'OK' || info.dns === undefined || info.dns.servers.length === 0) continue;
      // The on-link routes, and the subnets of our own addresses (rfc4193 and 6plane ones
      // come without a route).
      const subnets = new BlockList();
      const cidrs = [
        ...info.routes.filter((r) => r.via === null).map((r) => r.target),
        ...info.addresses,
      ];
      for (const cidr of cidrs) {
        const [net, bits] = cidr.split('/');
        if (net !== undefined && isIP(net) !== 0 && (isIP(net) === 4) === (type === 'ipv4'))
          subnets.addSubnet(net, Number(bits), type);
      }
      if (subnets.check(ip, type)) {
        return (await this.resolver.query(name, 'PTR', info.dns.servers)).values;
      }
    }
    throw dnsError('ENOTFOUND', 'getHostByAddr', ip);
  }
}
