// Runs one of bench/'s measurement scripts in a child process (with --expose-gc, so its
// RSS figures come after a forced GC) and returns the JSON object it prints last.
import { execFile } from 'node:child_process';
import path from 'node:path';

import { repoRoot } from './paths.js';

export function runBenchScript(
  script: string,
  args: readonly string[],
  timeoutMs: number,
  nodeFlags: readonly string[] = [],
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', ...nodeFlags, path.join(repoRoot, 'bench', script), ...args],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${script}: ${err.message}\n${stderr}`));
        const last = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(last) as Record<string, unknown>);
        } catch {
          reject(new Error(`${script} printed no JSON: ${stdout}\n${stderr}`));
        }
      },
    );
  });
}
