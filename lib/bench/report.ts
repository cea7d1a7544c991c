/**
 * The run's samples as figures: one JSON object (medians, ratios, spreads, the machine)
 * and a table for people. Both come from the same object, so they never disagree.
 */
import type { BenchSamples, Failure, FigureName, MachineInfo } from './figures.js';
import type { ConnectionsResult, TransferResult } from './protocol.js';
import { median, ratio, round, roundFigure, spreadOf, type Spread } from './stats.js';

type Figure = number | null;
type PairSpread = { ours: Spread | null; net: Spread | null };

export interface BenchReport {
  machine: MachineInfo;
  runs: number;
  only: FigureName[];
  sizes: BenchSamples['sizes'];
  throughputMBps: { ours: Figure; net: Figure; ratio: Figure; sha256Ok: HashChecks };
  duplexMBps: { ours: Figure; net: Figure; ratio: Figure; sha256Ok: HashChecks };
  rttUs: { ours: Figure; net: Figure; ratio: Figure; oursP99: Figure; netP99: Figure };
  udpRttUs: {
    ours: Figure;
    net: Figure;
    ratio: Figure;
    oursP99: Figure;
    netP99: Figure;
    lost: { ours: Figure; net: Figure };
  };
  startToFirstByteMs: Figure;
  /** The same byte, counted from the start of the process (Node's own start included). */
  startToFirstByteFromExecMs: Figure;
  connections: ConnectionFigures & { net: ConnectionFigures };
  /** rssAddedMB: what a joined node adds; loadingMB: the part of it loading the package takes. */
  idle: { rssAddedMB: Figure; loadingMB: Figure; cpuPercent: Figure; seconds: Figure };
  spread: {
    throughputMBps: PairSpread;
    duplexMBps: PairSpread;
    rttUs: PairSpread;
    udpRttUs: PairSpread;
    startToFirstByteMs: Spread | null;
    connectionsOpenMs: PairSpread;
    kibPerConnection: PairSpread;
    idleRssAddedMB: Spread | null;
    idleCpuPercent: Spread | null;
  };
  failures: Failure[];
}

/** Per stack: true when every finished run's bytes hashed the same on the receiver. */
export interface HashChecks {
  ours: boolean | null;
  net: boolean | null;
}

export interface ConnectionFigures {
  attempted: number;
  opened: Figure;
  echoed: Figure;
  openMs: Figure;
  kibPerConnection: Figure;
  errors: Record<string, number>;
}

const med = (xs: number[]): Figure => (xs.length ? round(median(xs)) : null);

function roundSpread(s: Spread | null): Spread | null {
  if (s === null) return null;
  return {
    median: roundFigure(s.median),
    min: roundFigure(s.min),
    max: roundFigure(s.max),
    runs: s.runs.map((v) => roundFigure(v)),
  };
}
const spread = (xs: number[]) => roundSpread(spreadOf(xs));

function hashChecks(samples: BenchSamples, figure: 'throughput' | 'duplex'): HashChecks {
  const checked = (rs: TransferResult[], transport: 'zerotier' | 'net') => {
    const mismatched = samples.failures.some(
      (f) => f.figure === figure && f.transport === transport && f.error.includes('SHA-256'),
    );
    if (mismatched) return false;
    return rs.length > 0 ? rs.every((r) => r.sha256Ok) : null;
  };
  return {
    ours: checked(samples[figure].zerotier, 'zerotier'),
    net: checked(samples[figure].net, 'net'),
  };
}

function connectionFigures(rs: ConnectionsResult[], attempted: number): ConnectionFigures {
  const errors: Record<string, number> = {};
  for (const r of rs)
    for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    attempted,
    opened: med(rs.map((r) => r.opened)),
    echoed: med(rs.map((r) => r.echoed)),
    openMs: med(rs.map((r) => r.openMs)),
    kibPerConnection: med(
      rs.flatMap((r) => (r.kibPerConnection === null ? [] : [r.kibPerConnection])),
    ),
    errors,
  };
}

export function buildReport(s: BenchSamples): BenchReport {
  const tput = (f: 'throughput' | 'duplex', t: 'zerotier' | 'net') =>
    s[f][t].filter((r) => r.sha256Ok).map((r) => r.mbps);
  const rtt = (f: 'rtt' | 'udp', t: 'zerotier' | 'net') => s[f][t].map((r) => r.medianUs);
  const p99 = (f: 'rtt' | 'udp', t: 'zerotier' | 'net') => s[f][t].map((r) => r.p99Us);
  const pair = (pick: (t: 'zerotier' | 'net') => number[]) => {
    const ours = med(pick('zerotier'));
    const net = med(pick('net'));
    return { ours, net, ratio: round(ratio(ours, net)) };
  };
  const pairSpread = (pick: (t: 'zerotier' | 'net') => number[]): PairSpread => ({
    ours: spread(pick('zerotier')),
    net: spread(pick('net')),
  });
  const lost = (t: 'zerotier' | 'net') => med(s.udp[t].map((r) => r.lost));
  const kib = (t: 'zerotier' | 'net') =>
    s.connections[t].flatMap((r) => (r.kibPerConnection === null ? [] : [r.kibPerConnection]));
  return {
    machine: {
      ...s.machine,
      loadAverage: {
        start: s.machine.loadAverage.start.map((v) => roundFigure(v)),
        end: s.machine.loadAverage.end.map((v) => roundFigure(v)),
      },
    },
    runs: s.runs,
    only: s.only,
    sizes: s.sizes,
    throughputMBps: {
      ...pair((t) => tput('throughput', t)),
      sha256Ok: hashChecks(s, 'throughput'),
    },
    duplexMBps: { ...pair((t) => tput('duplex', t)), sha256Ok: hashChecks(s, 'duplex') },
    rttUs: {
      ...pair((t) => rtt('rtt', t)),
      oursP99: med(p99('rtt', 'zerotier')),
      netP99: med(p99('rtt', 'net')),
    },
    udpRttUs: {
      ...pair((t) => rtt('udp', t)),
      oursP99: med(p99('udp', 'zerotier')),
      netP99: med(p99('udp', 'net')),
      lost: { ours: lost('zerotier'), net: lost('net') },
    },
    startToFirstByteMs: med(s.start.map((r) => r.acquireToFirstByteMs)),
    startToFirstByteFromExecMs: med(s.start.map((r) => r.processToFirstByteMs)),
    connections: {
      ...connectionFigures(s.connections.zerotier, s.sizes.connections),
      net: connectionFigures(s.connections.net, s.sizes.connections),
    },
    idle: {
      rssAddedMB: med(s.idle.map((r) => r.rssAddedMB)),
      loadingMB: med(s.idle.map((r) => r.loadedRssMB - r.bareRssMB)),
      cpuPercent: med(s.idle.map((r) => r.cpuPercent)),
      seconds: med(s.idle.map((r) => r.seconds)),
    },
    spread: {
      throughputMBps: pairSpread((t) => tput('throughput', t)),
      duplexMBps: pairSpread((t) => tput('duplex', t)),
      rttUs: pairSpread((t) => rtt('rtt', t)),
      udpRttUs: pairSpread((t) => rtt('udp', t)),
      startToFirstByteMs: spread(s.start.map((r) => r.acquireToFirstByteMs)),
      connectionsOpenMs: pairSpread((t) => s.connections[t].map((r) => r.openMs)),
      kibPerConnection: pairSpread(kib),
      idleRssAddedMB: spread(s.idle.map((r) => r.rssAddedMB)),
      idleCpuPercent: spread(s.idle.map((r) => r.cpuPercent)),
    },
    failures: s.failures,
  };
}
