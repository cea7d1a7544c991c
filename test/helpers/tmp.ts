import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

import { afterFile } from './teardown.js';

function makeTemp(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A fresh temporary folder, removed when the current test finishes. */
export function tempDir(prefix = 'zts-'): string {
  const dir = makeTemp(prefix);
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A temporary folder for a whole file's tests (call in beforeAll), removed after them. */
export function suiteTempDir(prefix = 'zts-'): string {
  const dir = makeTemp(prefix);
  afterFile(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
