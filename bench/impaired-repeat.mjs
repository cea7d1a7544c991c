#!/usr/bin/env node
// Runs bench/impaired-transfer.mjs several times (seeds 1..N, every other option passed
// through) and prints each run and the medians: at 10% loss one run of kernel BBR or of
// ours swings by a factor of five, so a ratio from one run says little.
//   sudo node bench/impaired-repeat.mjs --runs 5 -- --mib 8 --loss 0.1 --kernel-cc bbr
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: { runs: { type: 'string', default: '5' } },
  allowPositionals: true,
});
const transfer = path.join(path.dirname(fileURLToPath(import.meta.url)), 'impaired-transfer.mjs');
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new RangeError('--runs must be a whole number >= 1');
if (positionals.includes('--seed')) throw new Error('impaired-repeat picks the seeds (1..N)');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x) => Math.round(x * 1000) / 1000;

const results = [];
for (let seed = 1; seed <= runs; seed++) {
  const out = execFileSync(process.execPath, [transfer, ...positionals, '--seed', String(seed)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`run ${seed} printed no result:\n${out}`);
  const r = JSON.parse(line);
  const all = [r.ours, ...Object.values(r.kernel ?? {})].filter(Boolean);
  if (all.some((x) => !x.intact)) throw new Error(`run ${seed}: a transfer arrived damaged`);
  results.push(r);
  const kernel = Object.entries(r.kernel ?? {}).map(([cc, k]) => `${cc} ${k.MBs}`);
  const connected =
    r.ours?.connectSeconds !== undefined ? ` (connected in ${r.ours.connectSeconds} s)` : '';
  console.log(
    `run ${seed}: ours ${r.ours?.MBs ?? '-'} MB/s${connected}; kernel ${kernel.join(', ') || '-'}`,
  );
}

const summary = { runs, impairment: results[0].impairment, mib: results[0].mib, median: {} };
if (results[0].ours) summary.median.ours = round(median(results.map((r) => r.ours.MBs)));
for (const cc of Object.keys(results[0].kernel ?? {})) {
  summary.median[cc] = round(median(results.map((r) => r.kernel[cc].MBs)));
  if (summary.median.ours !== undefined) {
    summary.median[`ours/${cc}`] = round(summary.median.ours / summary.median[cc]);
    summary.median[`ours/${cc} per run`] = round(
      median(results.map((r) => r.ours.MBs / r.kernel[cc].MBs)),
    );
  }
}
for (const [k, v] of Object.entries(summary.median)) console.log(`median ${k}: ${v}`);
console.log(JSON.stringify(summary));
