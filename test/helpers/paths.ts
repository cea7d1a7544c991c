import { existsSync } from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');

/** The shared, read-only folder of golden vectors and stock data beside the checkout. */
export const sharedDir = path.resolve(
  process.env['ZTS_SHARED_DIR'] ?? path.join(repoRoot, '..', 'shared'),
);
export const vectorsDir = path.join(sharedDir, 'vectors');
export const stockDir = path.join(vectorsDir, 'stock');

export function stockFile(...parts: string[]): string {
  const p = path.join(stockDir, ...parts);
  if (!existsSync(p)) throw new Error(`missing shared vector file ${p} (set ZTS_SHARED_DIR)`);
  return p;
}

/** The built CLI entry point (dist/ is built by `npm test`'s setup step). */
export const cliPath = path.join(repoRoot, 'dist', 'cli', 'main.js');
