/**
 * What a node reports, and how it is told to start: the public types of ZeroTierNode
 * (lib/node.ts), and the NAT classification of its external addresses.
 */
import type { Identity } from './identity.js';

export interface NodeOptions {
  /** Folder for identity.secret / identity.public (and an optional `planet`). */
  storagePath?: string;
  /** An identity in memory instead of a storage folder; it must have its private key. */
  identity?: Identity;
  /** A custom planet: its bytes or a file path. Default: `planet` in the storage folder, else Earth. */
  planet?: Uint8Array | string;
  /** UDP port; 0 or absent for a random free one. */
  port?: number;
  /** Lab mode: loopback paths are accepted (for an offline lab on one machine). Needs a custom planet. */
  lab?: boolean;
  /** Act as a root: relay and introduce peers (what the lab's root does). */
  root?: boolean;
  /** Local addresses to bind (default all). bindV6 '' disables IPv6. */
  bindV4?: string;
  bindV6?: string;
  /** Controller role, for the lab: saved state to start from ('' for none). */
  controllerState?: string;
  /**
   * An identity.secret file (made there on first start when missing); wins over the
   * storage folder's identity. Also from --zerotier-identity, $ZEROTIER_IDENTITY or the
   * config file.
   */
  identityPath?: string;
  /**
   * The network acquireDefault() joins, and that sockets join when the app holds no
   * lease on it. Also from --zerotier-default-network, $ZEROTIER_DEFAULT_NETWORK or the
   * config file.
   */
  defaultNetwork?: string;
  /** A JSON config file with a "zerotier" section (default: $ZEROTIER_CONFIG). */
  configPath?: string;
  /**
   * TCP sockets' dead-peer timeout in ms (default 60 s, at most 1 hour): a connection
   * whose peer stays silent this long while bytes to it are in flight fails with
   * ETIMEDOUT. Sockets may set their own (Socket#setDeadPeerTimeout).
   */
  deadPeerTimeout?: number;
}

export interface NodeCounters {
  datagramsIn: number;
  datagramsOut: number;
  packetsIn: number;
  packetsOut: number;
  relayed: number;
  /** Dropped packets by reason (bad_mac, malformed, not_for_us, ...). */
  dropped: Record<string, number>;
  /** A census of the node's sockets, to see that closed ones leave nothing behind. */
  sockets: SocketCensus;
  /** How full the protocol core's tables are (each is capped or expires). */
  tables: {
    peers: number;
    pendingIdentities: number;
    rejectedIdentities: number;
    queuedReceives: number;
    /** Frames from peers whose credentials have not arrived yet (held up to 5 s). */
    heldFrames: number;
    queuedSends: number;
    whois: number;
    expectedReplies: number;
    fragmentsInFlight: number;
  };
}

export interface SocketCensus {
  /** Sockets the engine knows by an id JS holds (TCP, listeners, UDP). */
  open: number;
  /** Sockets the engine's table holds, closed ones still sending their queue included. */
  held: number;
  /** lwIP's TCP control blocks: listening, connecting or connected, in TIME_WAIT. */
  tcpListening: number;
  tcpActive: number;
  tcpTimeWait: number;
}

export interface PathInfo {
  address: string;
  lastReceive: number;
  latency: number;
  alive: boolean;
}

export interface PeerInfo {
  address: string;
  root: boolean;
  latency: number;
  version: string;
  protocol: number;
  lastReceive: number;
  paths: PathInfo[];
}

/**
 * 'none': a reporter sees one of this host's own addresses and our port; 'consistent':
 * every reporter sees the same endpoint (a cone NAT, direct paths likely); 'symmetric':
 * reporters see different ports (direct paths unlikely); 'unknown': too few reports.
 */
export type NatType = 'none' | 'consistent' | 'symmetric' | 'unknown';

export interface ExternalAddresses {
  /** What each reporting root or peer (by ZeroTier address) sees us as, "ip/port". */
  reports: Array<{ reporter: string; address: string }>;
  nat: NatType;
}

export interface EchoResult {
  /** Round trip in ms. */
  rtt: number;
  payload: Buffer;
}

export function classifyNat(
  reports: Array<{ address: string }>,
  localPort: number,
  localIps: ReadonlySet<string>,
): NatType {
  if (reports.length === 0) return 'unknown';
  const split = reports.map((r) => {
    const slash = r.address.lastIndexOf('/');
    return { ip: r.address.slice(0, slash), port: Number(r.address.slice(slash + 1)) };
  });
  if (new Set(split.map((s) => s.port)).size > 1) return 'symmetric';
  if (split.every((s) => localIps.has(s.ip) && s.port === localPort)) return 'none';
  if (new Set(split.map((s) => `${s.ip}/${s.port}`)).size === 1 && reports.length >= 2) {
    return 'consistent';
  }
  return 'unknown';
}
