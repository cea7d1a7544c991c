// Under `npm run test:asan`, libasan is preloaded into node (the addon needs it first in the
// process; scripts/asan-tests.mjs). What tests must do differently there.

/** True when this process runs with libasan preloaded. */
export const underAsan = process.env['LD_PRELOAD']?.includes('libasan') ?? false;

/**
 * The environment for a child program: other programs do not get libasan (curl hangs with
 * it, PostgreSQL never comes up); node and the shells that run node keep it.
 */
export function withoutSanitizerPreload(
  command: string,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const keeps = [process.execPath, 'sh', 'bash', '/bin/sh', '/bin/bash'];
  if (keeps.includes(command) || !env['LD_PRELOAD']?.includes('libasan')) return env;
  const { LD_PRELOAD: _preload, ...rest } = env;
  return rest;
}
