// Hostile input over real UDP on loopback (issue 11, item 5), end to end: a node in a lab
// gets OKs for packet ids it never sent, a replayed ECHO, every truncation of another,
// FRAMEs from a non-member of its private network, HELLOs claiming a known peer's address
// with another key, then 3 s of HELLOs from made-up identities, fragment floods and random
// datagrams of every size (bench/hostile-flood.mjs and bench/lib/hostile-sender.mjs).
// Each kind is dropped and counted by its reason, nothing reaches the node's sockets, its
// tables stay within their caps, and a TCP round trip to it still works during the flood
// (the 3x figure is measured by `npm run bench:hostile`; here the bound is generous).
// The same inputs also go through the in-memory wire (native Hostile.*).
import { describe, expect, it } from 'vitest';

import { runBenchScript } from './helpers/bench-run.js';

interface Figures {
  sent: Record<string, number>;
  dropsRisen: Record<string, number>;
  tablesAfter: Record<string, number>;
  targetAccepted: number;
  quiet: { medianMs: number };
  flooded: { medianMs: number; count: number };
}

describe('hostile datagrams over UDP', () => {
  it('are dropped and counted by reason while a legitimate peer keeps its round trip', async () => {
    const r = (await runBenchScript(
      'hostile-flood.mjs',
      ['--seconds', '3', '--quiet', '100'],
      220_000,
    )) as unknown as Figures;
    const d = r.dropsRisen;
    // Sent by a valid, admitted identity: each one counted (loopback loses nothing at this pace).
    expect(d['unexpected_reply']).toBe(r.sent['unexpected-ok']);
    expect(d['replayed']).toBe(r.sent['replayed']);
    expect(d['not_a_member']).toBe(r.sent['non-member-frames']);
    expect(d['identity_collision']).toBe(r.sent['impostor-hello']);
    // The truncations: too short for a header, or failing the MAC.
    expect(d['bad_mac']).toBeGreaterThanOrEqual(r.sent['truncated']! - 28);
    expect(d['too_short']).toBeGreaterThanOrEqual(28);
    // Floods: made-up identities refused (rate-limited, or failing the proof of work).
    const helloRefused =
      (d['new_identity_rate_limited'] ?? 0) +
      (d['unknown_hello_rate_limited'] ?? 0) +
      (d['identity_checks_busy'] ?? 0) +
      (d['invalid_identity'] ?? 0);
    expect(helloRefused).toBeGreaterThan(r.sent['hello-flood']! * 0.9);
    expect(d['new_identity_rate_limited']).toBeGreaterThan(0);
    expect((d['fragment_evicted'] ?? 0) + (d['fragment_timeout'] ?? 0)).toBeGreaterThan(0);
    expect(d['not_for_us']).toBeGreaterThan(r.sent['random-datagrams']! * 0.5);
    // Nothing reached the target's sockets, and its tables are within their caps.
    expect(r.targetAccepted).toBe(0);
    expect(r.tablesAfter['peers']).toBeLessThanOrEqual(3); // the root, this node, the member
    expect(r.tablesAfter['pendingIdentities']).toBeLessThanOrEqual(64);
    expect(r.tablesAfter['fragmentsInFlight']).toBeLessThanOrEqual(32);
    expect(r.tablesAfter['queuedReceives']).toBe(0);
    // Round trips went on during the flood; a loaded CI machine gets a generous bound.
    expect(r.flooded.count).toBeGreaterThanOrEqual(20);
    expect(r.flooded.medianMs).toBeLessThan(Math.max(10 * r.quiet.medianMs, 50));
  }, 240_000);
});
