import { defineConfig } from 'vitest/config';

// The slow tests (`npm run test:slow`): long measurements kept out of the quick suite.
export default defineConfig({
  test: {
    include: ['test/**/*.slow.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Each file's helpers' cleanups (test/helpers/teardown.ts).
    setupFiles: ['./test/helpers/teardown-setup.ts'],
  },
});
