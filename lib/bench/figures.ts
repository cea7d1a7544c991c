/**
 * What the benchmark measures and at what size: the figures' names, the sizes of a full
 * and a quick run, the deadlines, and the shape of the samples a run collects.
 */
import os from 'node:os';

import { addon } from '../native.js';
import type {
  ConnectionsResult,
  FirstByteResult,
  IdleResult,
  RoundTripResult,
  TransferResult,
  TransportName,
} from './protocol.js';

/** The figures, in the order they are measured. */
export const FIGURES = [
  'throughput',
  'duplex',
  'rtt',
  'udp',
  'start',
  'connections',
  'idle',
] as const;
export type FigureName = (typeof FIGURES)[number];

/** Figures measured over both stacks (the others are ZeroTier only). */
export const COMPARED: readonly FigureName[] = [
  'throughput',
  'duplex',
  'rtt',
  'udp',
  'connections',
];

export interface BenchSizes {
  transferBytes: number;
  rttRounds: number;
  udpRounds: number;
  connections: number;
  idleSeconds: number;
}

export function sizesFor(quick: boolean): BenchSizes {
  return quick
    ? {
        transferBytes: 4 * 1024 * 1024,
        rttRounds: 100,
        udpRounds: 100,
        connections: 50,
        idleSeconds: 1,
      }
    : {
        transferBytes: 64 * 1024 * 1024,
        rttRounds: 1000,
        udpRounds: 1000,
        connections: 1000,
        idleSeconds: 10,
      };
}

export interface Deadlines {
  transferMs: number;
  rttMs: number;
  udpMs: number;
  startMs: number;
  connectionsMs: number;
  idleMs: number;
}

/** Generous against today's speeds, so that a slow build fails a figure, not the run. */
export function deadlinesFor(sizes: BenchSizes): Deadlines {
  return {
    // 10 s plus the transfer at 2 MB/s.
    transferMs: 10_000 + Math.round(sizes.transferBytes / 2000),
    rttMs: 10_000 + sizes.rttRounds * 30,
    udpMs: 10_000 + sizes.udpRounds * 30,
    startMs: 30_000,
    connectionsMs: 60_000,
    idleMs: 60_000 + sizes.idleSeconds * 1000,
  };
}

export interface Failure {
  figure: FigureName;
  transport: TransportName;
  run: number;
  error: string;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  kernel: string;
  totalMemoryMB: number;
  loadAverage: { start: number[]; end: number[] };
  /** The versions of the libraries built into the addon. */
  libraries: Record<string, string>;
}

export type ByTransport<T> = Record<TransportName, T[]>;

/** Every run's raw result; report.ts turns them into figures. */
export interface BenchSamples {
  machine: MachineInfo;
  runs: number;
  sizes: BenchSizes;
  only: FigureName[];
  throughput: ByTransport<TransferResult>;
  duplex: ByTransport<TransferResult>;
  rtt: ByTransport<RoundTripResult>;
  udp: ByTransport<RoundTripResult>;
  start: FirstByteResult[];
  connections: ByTransport<ConnectionsResult>;
  idle: IdleResult[];
  failures: Failure[];
}

const byTransport = <T>(): ByTransport<T> => ({ zerotier: [], net: [] });

export function emptySamples(runs: number, sizes: BenchSizes, only: FigureName[]): BenchSamples {
  return {
    machine: machineInfo(),
    runs,
    sizes,
    only,
    throughput: byTransport(),
    duplex: byTransport(),
    rtt: byTransport(),
    udp: byTransport(),
    start: [],
    connections: byTransport(),
    idle: [],
    failures: [],
  };
}

function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  let libraries: Record<string, string> = {};
  try {
    libraries = Object.fromEntries(
      Object.entries(addon.versions()).map(([name, version]) => [name, String(version)]),
    );
  } catch {
    // The versions are a nicety; the figures do not depend on them.
  }
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    totalMemoryMB: Math.round(os.totalmem() / 1024 / 1024),
    loadAverage: { start: os.loadavg(), end: [] },
    libraries,
  };
}
