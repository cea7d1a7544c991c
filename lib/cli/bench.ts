/**
 * `zerotier-sockets bench`: TCP and UDP over ZeroTier against node:net on kernel loopback,
 * on this machine (a lab and worker processes; traffic only on loopback). A table, or one
 * JSON object with --json; progress on stderr either way.
 */
import { parseArgs } from 'node:util';

import { FIGURES, runBench, sizesFor, type FigureName } from '../bench/harness.js';
import { buildReport } from '../bench/report.js';
import { formatTable } from '../bench/table.js';
import { CliError, type CliIo } from './io.js';

export const benchUsage = `Usage: zerotier-sockets bench [--runs N] [--quick] [--only <names>] [--json]

  --runs N        runs of each figure (default 3; 1 with --quick); medians and spread
  --quick         small sizes (4 MiB, 100 round trips, 50 connections, 1 s idle): a smoke test
  --only <names>  comma-separated, of: ${FIGURES.join(', ')}
  --json          print one JSON object instead of the table

Starts a lab (root + controller) and node processes on this machine, and the same
measurements over node:net on 127.0.0.1. Progress goes to stderr.
`;

function parseOnly(values: string[] | undefined): FigureName[] {
  if (values === undefined) return [...FIGURES];
  const names = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  for (const n of names) {
    if (!(FIGURES as readonly string[]).includes(n)) {
      throw new CliError(`--only: unknown figure "${n}" (one of: ${FIGURES.join(', ')})`);
    }
  }
  if (names.length === 0) throw new CliError('--only names no figure');
  // In the harness's order, once each.
  return FIGURES.filter((f) => names.includes(f));
}

/** A progress line: rewritten in place on a terminal, one line per step otherwise. */
function progressWriter(io: CliIo): (line: string) => void {
  if (process.stderr.isTTY) {
    const width = Math.max(20, (process.stderr.columns ?? 100) - 1);
    return (line) => io.err(`\r\x1b[K${line.slice(0, width)}`);
  }
  return (line) => io.err(`${line}\n`);
}

export async function runBenchCommand(args: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        runs: { type: 'string' },
        quick: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n${benchUsage}`);
  }
  if (values.help) {
    io.out(benchUsage);
    return 0;
  }
  const runs = values.runs === undefined ? (values.quick ? 1 : 3) : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
    throw new CliError(`--runs must be an integer from 1 to 100, not ${values.runs}`);
  }
  const only = parseOnly(values.only);
  const progress = progressWriter(io);
  const samples = await runBench({ runs, sizes: sizesFor(values.quick), only, progress });
  if (process.stderr.isTTY) io.err('\r\x1b[K');
  const report = buildReport(samples);
  io.out(values.json ? `${JSON.stringify(report)}\n` : formatTable(report));
  return 0;
}
