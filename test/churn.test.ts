// Connection churn, the quick variant (issue 11, item 3): 3,000 sequential connect / send /
// echo / close cycles to a peer in another process, through bench/churn.mjs. No cycle may
// fail, nothing may stay open or held once every socket is closed, and the RSS may grow by
// less than 5 MiB after the warm-up. The full 50,000 are in churn.slow.test.ts.
import { describe, expect, it } from 'vitest';

import { runBenchScript } from './helpers/bench-run.js';
import { underAsan } from './helpers/sanitizers.js';

// V8's young generation at its full size from the start: left to grow, it steps up once by
// up to 32 MiB of RSS mid-run (heapTotal grows, heapUsed does not), which is V8 sizing its
// heap, not memory the node keeps.
const youngGeneration = ['--min-semi-space-size=16'];

describe('connection churn', () => {
  it('3,000 sequential cycles: no error, nothing left open, bounded RSS', async () => {
    const r = await runBenchScript(
      'churn.mjs',
      ['--cycles', '3000', '--warmup', '1500'],
      110_000,
      youngGeneration,
    );
    expect(r['errorCodes']).toEqual({});
    expect(r['errors']).toBe(0);
    expect(r['peerAccepted']).toBe(3000);
    expect(r['socketsAtEnd']).toMatchObject({ open: 0, held: 0, tcpActive: 0 });
    // Every client close leaves its port in TIME_WAIT for 10 s, not longer than the run.
    expect((r['socketsAtEnd'] as { tcpTimeWait: number }).tcpTimeWait).toBeLessThanOrEqual(3000);
    // Not under ASan: its quarantine holds freed memory back on purpose (tens of MiB).
    if (!underAsan) expect(r['rssGrowthMiB']).toBeLessThan(5);
    // Generous: a loaded 2-core machine stalls for a second at times, not for minutes.
    expect(r['slowestCycleMs']).toBeLessThan(5000);
  }, 120_000);
});
