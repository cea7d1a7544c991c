// Token-bucket limits and metrics (lib/sockets/traffic.ts) on a simulated clock: rates
// held over seconds, order kept, limits changed while bytes wait, the node's limit shared
// by its sockets, and the counts metrics() reports.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { NodeTraffic, type SocketTraffic } from '../lib/sockets/traffic.js';

/** Writes `chunk`-byte pieces back to back (the next once the last passed) for `ms`. */
function saturate(s: SocketTraffic, chunk: number, ms: number, passed: number[]): void {
  const end = performance.now() + ms;
  const next = () => {
    if (performance.now() >= end) return;
    s.outbound(chunk, () => {
      passed.push(chunk);
      queueMicrotask(next);
    });
  };
  next();
}

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('rate limits', () => {
  it('hold a socket to 2 MB/s over 5 s, whatever the chunk size', async () => {
    for (const chunk of [1500, 64 * 1024, 512 * 1024]) {
      const node = new NodeTraffic();
      const s = node.socket('tcp');
      s.setLimits({ send: 2_000_000 });
      const passed: number[] = [];
      saturate(s, chunk, 5000, passed);
      await vi.advanceTimersByTimeAsync(5000);
      const rate = sum(passed) / 5;
      expect(rate, `chunks of ${chunk}`).toBeGreaterThan(2_000_000 * 0.97);
      expect(rate, `chunks of ${chunk}`).toBeLessThan(2_000_000 * 1.03 + chunk / 5);
      s.close();
    }
  });

  it('keep order, and see a change while bytes wait', async () => {
    const node = new NodeTraffic();
    const s = node.socket('udp');
    s.setLimits({ receive: 1000 });
    const order: number[] = [];
    for (let i = 0; i < 20; i++) s.inbound(100, () => order.push(i));
    await vi.advanceTimersByTimeAsync(1000);
    const afterOne = order.length;
    expect(afterOne).toBeGreaterThanOrEqual(9);
    expect(afterOne).toBeLessThanOrEqual(12);
    expect(s.waiting).toBe(20 - afterOne);
    s.setLimits({ receive: null }); // removed: everything waiting goes now
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(s.waiting).toBe(0);
    // Without a limit nothing waits, even for a moment.
    let ran = false;
    s.inbound(1_000_000, () => (ran = true));
    expect(ran).toBe(true);
  });

  it('share the node limit between sockets, on top of their own', async () => {
    const node = new NodeTraffic();
    node.setLimits({ send: 1_000_000 });
    const a = node.socket('tcp');
    const b = node.socket('tcp');
    b.setLimits({ send: 200_000 });
    const pa: number[] = [];
    const pb: number[] = [];
    saturate(a, 16 * 1024, 5000, pa);
    saturate(b, 16 * 1024, 5000, pb);
    await vi.advanceTimersByTimeAsync(5000);
    const total = (sum(pa) + sum(pb)) / 5;
    expect(total).toBeGreaterThan(1_000_000 * 0.95);
    expect(total).toBeLessThan(1_000_000 * 1.05);
    expect(sum(pb) / 5).toBeLessThan(200_000 * 1.05);
    const m = node.metrics();
    expect(m.bytesOut).toBe(sum(pa) + sum(pb));
    expect(m.limits).toEqual({ send: 1_000_000, receive: Infinity });
    expect(m.sockets).toEqual({ tcp: 2, udp: 0 });
    expect(m.rateOut).toBeGreaterThan(1_000_000 * 0.9);
    expect(m.rateOut).toBeLessThan(1_000_000 * 1.1);
    expect(b.metrics()).toMatchObject({ bytesOut: sum(pb), bytesIn: 0 });
    expect(b.metrics().limits.send).toBe(200_000);
    a.close();
    b.close();
    expect(node.metrics().sockets).toEqual({ tcp: 0, udp: 0 });
    // Totals outlive the sockets; the current rate fades within a second.
    await vi.advanceTimersByTimeAsync(1100);
    expect(node.metrics().bytesOut).toBe(sum(pa) + sum(pb));
    expect(node.metrics().rateOut).toBe(0);
  });

  it('count connections opened, accepted and failed by code', () => {
    const node = new NodeTraffic();
    const s = node.socket('tcp');
    s.connected();
    s.accepted();
    s.accepted();
    s.failed('ECONNREFUSED');
    s.failed('ETIMEDOUT');
    s.failed('ECONNREFUSED');
    expect(node.metrics().connections).toEqual({
      opened: 1,
      accepted: 2,
      failed: { ECONNREFUSED: 2, ETIMEDOUT: 1 },
    });
  });

  it('refuse limits that are not positive numbers', () => {
    const s = new NodeTraffic().socket('tcp');
    expect(() => s.setLimits({ send: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => s.setLimits({ receive: '1' as unknown as number })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => s.setLimits(null as unknown as object)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });
});
