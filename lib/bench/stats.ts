/** Summaries of repeated measurements: the median of the runs and their spread. */

/** The value at quantile q (0..1) of the samples, nearest-rank; NaN when there are none. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** The median (the lower middle value for an even count, so it is always a sample). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Every run's figure, in the order measured. */
  runs: number[];
}

/** The runs' median and spread, or null when no run produced a figure. */
export function spreadOf(runs: readonly number[]): Spread | null {
  if (runs.length === 0) return null;
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs: [...runs] };
}

/** Rounds for people and for JSON: 3 significant digits, at most 3 decimals. */
export function roundFigure(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const digits = Math.max(0, Math.min(3, 2 - Math.floor(Math.log10(Math.abs(value)))));
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** roundFigure(), with null for a missing or non-finite figure. */
export function round(value: number | null | undefined): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  return roundFigure(value);
}

/** a / b, or null when either is missing. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return a / b;
}
