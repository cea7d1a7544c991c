// Teardown for what a file's tests start, wherever it was started. vitest ignores an
// afterAll() registered while a beforeAll() runs, which is where suites start their labs
// and peers; so helpers hand their cleanups to afterFile(), and the setup file
// (teardown-setup.ts, run by vitest before each test file) registers one afterAll per
// file that runs them, last first.

const pending: Array<() => unknown> = [];

/** Runs `fn` after all of the current file's tests (also when called inside beforeAll). */
export function afterFile(fn: () => unknown): void {
  pending.push(fn);
}

/** Runs what afterFile() collected, last first. */
export async function runFileTeardown(): Promise<void> {
  for (let fn = pending.pop(); fn !== undefined; fn = pending.pop()) await fn();
}
