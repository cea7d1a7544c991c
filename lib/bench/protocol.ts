/**
 * What the benchmark's parent and its worker processes say to each other (over the
 * fork() IPC channel): how a worker is configured, the commands it runs, what it reports.
 */

/** A socket stack under test: ours over a lab network, or the kernel's on loopback. */
export type TransportName = 'zerotier' | 'net';

/** A node on the lab network: where its identity lives and what it joins. */
export interface LabNodeConfig {
  planet: string;
  storage: string;
  nwid: string;
}

/** Where a bench server listens (on the lab network, or on 127.0.0.1). */
export interface ServerTarget {
  host: string;
  /** TCP: echoes everything (duplex, round trips, connections). */
  echoPort: number;
  /** TCP: reads a length and a SHA-256, hashes that many bytes, answers OK or not. */
  sinkPort: number;
  /** UDP: echoes every datagram. */
  udpPort: number;
}

/** The fixed ports of the bench server on the lab network (its own address space). */
export const LAB_PORTS = { echoPort: 7000, udpPort: 7001, sinkPort: 7002 } as const;

export type WorkerConfig =
  | { role: 'server'; transport: TransportName; lab?: LabNodeConfig }
  | { role: 'client'; transport: TransportName; lab?: LabNodeConfig }
  | { role: 'first-byte'; lab: LabNodeConfig; target: ServerTarget; timeoutMs: number }
  | {
      role: 'connections';
      transport: TransportName;
      lab?: LabNodeConfig;
      target: ServerTarget;
      count: number;
      timeoutMs: number;
    }
  | { role: 'idle'; lab: LabNodeConfig; seconds: number; settleMs: number; timeoutMs: number };

/** The environment variable carrying a worker's WorkerConfig as JSON. */
export const WORKER_CONFIG_ENV = 'ZTS_BENCH_WORKER';

/** Commands a client worker runs; each answers with one reply carrying the same id. */
export type ClientCommand =
  | { id: number; cmd: 'throughput'; target: ServerTarget; bytes: number; timeoutMs: number }
  | { id: number; cmd: 'duplex'; target: ServerTarget; bytes: number; timeoutMs: number }
  | { id: number; cmd: 'rtt'; target: ServerTarget; rounds: number; timeoutMs: number }
  | { id: number; cmd: 'udpRtt'; target: ServerTarget; rounds: number; timeoutMs: number };

export interface TransferResult {
  bytes: number;
  seconds: number;
  /** Megabytes (10^6 bytes) per second; duplex counts both directions. */
  mbps: number;
  /** The receiver's SHA-256 of what arrived equals the sender's of what it sent. */
  sha256Ok: boolean;
}

export interface RoundTripResult {
  rounds: number;
  medianUs: number;
  p99Us: number;
  /** Datagrams (UDP) that got no answer in time; always 0 for TCP. */
  lost: number;
}

export interface FirstByteResult {
  /** From NodeService.acquire() to the first byte echoed by a peer on the network. */
  acquireToFirstByteMs: number;
  /** From the start of the process (performance.timeOrigin) to the same byte. */
  processToFirstByteMs: number;
}

export interface ConnectionsResult {
  attempted: number;
  opened: number;
  /** Opened connections that then echoed a byte (all of them, unless something broke). */
  echoed: number;
  /** From the first connect() to the last one that opened. */
  openMs: number;
  /** RSS added by the open connections, per opened connection, in KiB. */
  kibPerConnection: number | null;
  /** How many failed, by error code. */
  errors: Record<string, number>;
}

export interface IdleResult {
  bareRssMB: number;
  /** With the package and its addon loaded, before the node starts. */
  loadedRssMB: number;
  joinedRssMB: number;
  /** RSS (MiB) a joined, idle node adds to a bare Node process. */
  rssAddedMB: number;
  /** CPU time (user + system) over the idle interval, in % of one core. */
  cpuPercent: number;
  seconds: number;
}

export interface ErrorReport {
  message: string;
  code?: string;
}

/** Everything a worker sends to its parent. */
export type WorkerMessage =
  | { type: 'started'; address: string }
  | { type: 'ready'; target: ServerTarget }
  | { type: 'reply'; id: number; result?: unknown; error?: ErrorReport }
  | { type: 'result'; result: unknown }
  | { type: 'fatal'; error: ErrorReport };
