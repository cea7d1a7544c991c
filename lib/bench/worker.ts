/**
 * Entry of a benchmark worker process (forked by the harness, configured through the
 * ZTS_BENCH_WORKER variable). It notes the process's RSS before loading anything of
 * ours, so that the idle figure can say what a joined node adds to a bare Node process.
 */
const bareRss = process.memoryUsage.rss();

import('./roles.js')
  .then((roles) => roles.runWorker(bareRss))
  .catch((e: Error & { code?: string }) => {
    process.send?.({ type: 'fatal', error: { message: e.message, code: e.code } });
    process.exitCode = 1;
    process.disconnect?.();
  });
