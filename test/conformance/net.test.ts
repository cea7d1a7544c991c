// node:net conformance: every case in tcp-cases.cjs and tcp-failure-cases.cjs runs on node:net over loopback and on
// our net over a lab network, in two processes and again in one; both must record the same
// events, arguments, error codes and bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { suiteTempDir } from '../helpers/tmp.js';
import { ConformanceEnv } from './harness.js';

/* eslint-disable @typescript-eslint/no-require-imports */
const cases = [
  ...Object.keys(require('./tcp-cases.cjs') as Record<string, unknown>),
  ...Object.keys(require('./tcp-failure-cases.cjs') as Record<string, unknown>),
];
/* eslint-enable @typescript-eslint/no-require-imports */

describe('net conformance (node:net on loopback vs ours on a lab network)', () => {
  let env: ConformanceEnv;
  beforeAll(async () => {
    env = await ConformanceEnv.start(suiteTempDir('zts-conf-'));
  }, 90_000);
  afterAll(async () => env?.close());

  it.each(cases)('%s', { timeout: 40_000 }, async (name) => {
    const reference = await env.run('node', `tcp/${name}`);
    // The reference run must have done something, or the comparison proves nothing.
    expect(reference.server.length + reference.client.length).toBeGreaterThan(0);
    const ours = await env.run('zt', `tcp/${name}`);
    expect(ours).toEqual(reference);
  });

  // Server and client in one process: node:net over its own loopback, ours to its own
  // ZeroTier address (lwIP loops those packets back inside the process).
  it.each(cases)('%s, in one process', { timeout: 40_000 }, async (name) => {
    const reference = await env.run('node-same', `tcp/${name}`);
    expect(reference.server.length + reference.client.length).toBeGreaterThan(0);
    const ours = await env.run('zt-same', `tcp/${name}`);
    expect(ours).toEqual(reference);
  });
});
