import { defineConfig } from 'vitest/config';

// The quick suite. Slow, fuzz and leak runs have their own configs and npm scripts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.slow.test.ts', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Native code and child processes: forks isolate a crash to one test file.
    pool: 'forks',
    // Each file's helpers' cleanups (test/helpers/teardown.ts).
    setupFiles: ['./test/helpers/teardown-setup.ts'],
  },
});
