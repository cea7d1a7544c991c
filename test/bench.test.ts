// `zerotier-sockets bench`: a quick run prints exactly one JSON object of the documented
// shape on stdout (progress goes to stderr), with the transferred bytes verified by
// SHA-256 on the receiver. Timings are machine-dependent and not checked here.
import { describe, expect, it } from 'vitest';

import { quantile, median, spreadOf } from '../lib/bench/stats.js';
import { runNode } from './helpers/child.js';
import { cliPath } from './helpers/paths.js';

const num = expect.any(Number);

async function bench(args: string[]) {
  const r = await runNode([cliPath, 'bench', ...args], { timeoutMs: 170_000 });
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines, r.stdout).toHaveLength(1);
  return { report: JSON.parse(lines[0]!) as Record<string, unknown>, stderr: r.stderr };
}

describe('zerotier-sockets bench', () => {
  it('--quick --json measures every figure over both stacks', { timeout: 180_000 }, async () => {
    const { report, stderr } = await bench(['--quick', '--json']);
    const hashed = { ours: true, net: true };
    expect(report).toMatchObject({
      machine: { cpus: num, node: process.version, loadAverage: { start: expect.any(Array) } },
      runs: 1,
      throughputMBps: { ours: num, net: num, ratio: num, sha256Ok: hashed },
      duplexMBps: { ours: num, net: num, ratio: num, sha256Ok: hashed },
      rttUs: { ours: num, net: num, ratio: num, oursP99: num },
      udpRttUs: { ours: num, net: num, ratio: num },
      startToFirstByteMs: num,
      connections: {
        attempted: 50,
        opened: 50,
        echoed: 50,
        kibPerConnection: num,
        net: { opened: 50, echoed: 50 },
      },
      idle: { rssAddedMB: num, cpuPercent: num },
    });
    expect(report['failures']).toEqual([]);
    // Progress, one line per step, on stderr.
    expect(stderr).toMatch(/\[1\/12\] run 1\/1 one-way TCP 4 MiB over ZeroTier: [\d.]+ MB\/s/);
    expect(stderr).toMatch(/\[12\/12\] run 1\/1 idle joined node/);
  });

  it(
    '--only and --runs: the named figures, each run kept in the spread',
    { timeout: 120_000 },
    async () => {
      const { report } = await bench(['--quick', '--json', '--only', 'throughput', '--runs', '2']);
      expect(report['only']).toEqual(['throughput']);
      expect(report['throughputMBps']).toMatchObject({
        ours: num,
        net: num,
        sha256Ok: { ours: true, net: true },
      });
      const spread = report['spread'] as { throughputMBps: { ours: { runs: number[] } } };
      expect(spread.throughputMBps.ours.runs).toHaveLength(2);
      // Figures not asked for are null, not left out: the object keeps its shape.
      expect(report['rttUs']).toMatchObject({ ours: null, net: null, ratio: null });
      expect(report['startToFirstByteMs']).toBeNull();
      expect(report['idle']).toMatchObject({ rssAddedMB: null, cpuPercent: null });
    },
  );

  it('refuses bad options with a one-line error and exit code 1', async () => {
    const runs = await runNode([cliPath, 'bench', '--runs', '0']);
    expect(runs.code).toBe(1);
    expect(runs.stderr).toMatch(/--runs must be an integer from 1 to 100/);
    const only = await runNode([cliPath, 'bench', '--only', 'rtt,warp']);
    expect(only.code).toBe(1);
    expect(only.stderr).toMatch(/unknown figure "warp"/);
  });
});

describe('bench statistics', () => {
  it('takes nearest-rank quantiles and a median that is a sample', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted order
    expect(quantile(xs, 0.99)).toBe(99);
    expect(quantile(xs, 1)).toBe(100);
    expect(quantile(xs, 0)).toBe(1);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2);
    expect(median([])).toBeNaN();
    expect(spreadOf([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, runs: [5, 1, 3] });
    expect(spreadOf([])).toBeNull();
  });
});
