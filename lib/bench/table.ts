/** The report as a table for people (the JSON carries the same figures, and more). */
import type { FigureName } from './figures.js';
import type { BenchReport, ConnectionFigures } from './report.js';
import type { Spread } from './stats.js';

type Row = [string, string, string, string];

const show = (v: number | null, unit = ''): string => (v === null ? 'failed' : `${v}${unit}`);
const range = (s: Spread | null): string =>
  s === null || s.runs.length < 2 ? '' : ` [${s.min}-${s.max}]`;

function connections(c: ConnectionFigures): string {
  if (c.opened === null) return 'failed';
  const kib = c.kibPerConnection === null ? '' : `, ${c.kibPerConnection} KiB each`;
  const errors = Object.entries(c.errors)
    .map(([code, n]) => `${n} ${code}`)
    .join(', ');
  const silent = c.echoed !== null && c.echoed < c.opened ? `, only ${c.echoed} echoed` : '';
  return `${c.opened}/${c.attempted} in ${c.openMs} ms${kib}${silent}${errors ? ` (failed: ${errors})` : ''}`;
}

export function formatTable(r: BenchReport): string {
  const m = r.machine;
  const has = (f: FigureName) => r.only.includes(f);
  const mib = `${r.sizes.transferBytes / 1024 / 1024} MiB`;
  const rows: Row[] = [['', 'ZeroTier', 'node:net (loopback)', 'ours/net']];
  const hashNote = (ok: { ours: boolean | null; net: boolean | null }) =>
    ok.ours === false || ok.net === false ? ', SHA-256 MISMATCH' : ', SHA-256 ok';
  if (has('throughput')) {
    const f = r.throughputMBps;
    rows.push([
      `one-way TCP, ${mib}${hashNote(f.sha256Ok)} (MB/s)`,
      show(f.ours) + range(r.spread.throughputMBps.ours),
      show(f.net) + range(r.spread.throughputMBps.net),
      show(f.ratio),
    ]);
  }
  if (has('duplex')) {
    const f = r.duplexMBps;
    rows.push([
      `duplex TCP, ${mib} each way${hashNote(f.sha256Ok)} (MB/s)`,
      show(f.ours) + range(r.spread.duplexMBps.ours),
      show(f.net) + range(r.spread.duplexMBps.net),
      show(f.ratio),
    ]);
  }
  if (has('rtt')) {
    const f = r.rttUs;
    rows.push([
      `TCP round trip, 64 B, noDelay, median (us)`,
      show(f.ours) + range(r.spread.rttUs.ours),
      show(f.net) + range(r.spread.rttUs.net),
      show(f.ratio),
    ]);
    rows.push([`  p99 of ${r.sizes.rttRounds} (us)`, show(f.oursP99), show(f.netP99), '']);
  }
  if (has('udp')) {
    const f = r.udpRttUs;
    const lost = (n: number | null) => (n ? ` (${n} lost)` : '');
    rows.push([
      `UDP round trip, 64 B, median (us)`,
      show(f.ours) + range(r.spread.udpRttUs.ours) + lost(f.lost.ours),
      show(f.net) + range(r.spread.udpRttUs.net) + lost(f.lost.net),
      show(f.ratio),
    ]);
  }
  if (has('start')) {
    rows.push([
      'start to first echoed byte (ms)',
      show(r.startToFirstByteMs) +
        range(r.spread.startToFirstByteMs) +
        (r.startToFirstByteFromExecMs === null
          ? ''
          : `; ${r.startToFirstByteFromExecMs} from exec`),
      '',
      '',
    ]);
  }
  if (has('connections')) {
    rows.push([
      `${r.sizes.connections} concurrent connections`,
      connections(r.connections),
      connections(r.connections.net),
      '',
    ]);
  }
  if (has('idle')) {
    const f = r.idle;
    rows.push([
      `idle joined node, ${r.sizes.idleSeconds} s`,
      f.rssAddedMB === null
        ? 'failed'
        : `+${f.rssAddedMB} MB RSS (${f.loadingMB} loading the package), ` +
          `${f.cpuPercent}% CPU` +
          range(r.spread.idleCpuPercent),
      '',
      '',
    ]);
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  const lines = rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const load = (l: number[]) => l.join(' ');
  const header =
    `zerotier-sockets bench: ${r.runs} run${r.runs === 1 ? '' : 's'} (median [min-max]); ` +
    `${m.cpus} x ${m.cpuModel}, Node ${m.node}, ${m.platform}; ` +
    `load ${load(m.loadAverage.start)} -> ${load(m.loadAverage.end)}`;
  const failures = r.failures.map(
    (f) =>
      `  ${f.figure} over ${f.transport === 'zerotier' ? 'ZeroTier' : 'node:net'}, run ${f.run}: ${f.error}`,
  );
  return [
    header,
    '',
    ...lines,
    ...(failures.length ? ['', `failures (${failures.length}):`, ...failures] : []),
    '',
  ].join('\n');
}
