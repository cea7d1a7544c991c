// Connection churn, in full (issue 11, item 3): 50,000 sequential connect / send / echo /
// close cycles to one peer (bench/churn.mjs). More than the ephemeral range (32,768 ports)
// in a row: ports in TIME_WAIT (10 s) come back in time. RSS growth after a warm-up past the
// point where TIME_WAIT is full (15,000 cycles) must stay under 5 MiB.
import { describe, expect, it } from 'vitest';

import { runBenchScript } from './helpers/bench-run.js';

// V8's young generation at its full size from the start: left to grow, it steps up once by
// up to 32 MiB of RSS mid-run (heapTotal grows, heapUsed does not), which is V8 sizing its
// heap, not memory the node keeps.
const youngGeneration = ['--min-semi-space-size=16'];

describe('connection churn, 50,000 cycles', () => {
  it('no error, no stall, bounded RSS', async () => {
    const r = await runBenchScript(
      'churn.mjs',
      ['--cycles', '50000', '--warmup', '15000'],
      900_000,
      youngGeneration,
    );
    expect(r['errorCodes']).toEqual({});
    expect(r['peerAccepted']).toBe(50000);
    expect(r['socketsAtEnd']).toMatchObject({ open: 0, held: 0, tcpActive: 0 });
    expect(r['rssGrowthMiB']).toBeLessThan(5);
    expect(r['slowestCycleMs']).toBeLessThan(5000);
  }, 960_000);
});
