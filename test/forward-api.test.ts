// forward() and parseForwardRule() without a network: rule syntax, and a port in use
// rejecting the whole call with nothing left listening.
import { once } from 'node:events';
import nodeNet from 'node:net';
import { describe, expect, it } from 'vitest';

import { forward, parseForwardRule } from '../lib/index.js';

async function listening(port = 0): Promise<nodeNet.Server> {
  const s = nodeNet.createServer().listen(port, '127.0.0.1');
  await once(s, 'listening');
  return s;
}
const portOf = (s: nodeNet.Server) => (s.address() as nodeNet.AddressInfo).port;

describe('forward()', () => {
  it('reads rules both ways, IPv6 included', () => {
    expect(parseForwardRule('127.0.0.1:8080=10.1.2.3:80')).toEqual({
      text: '127.0.0.1:8080=10.1.2.3:80',
      fromZeroTier: false,
      listenHost: '127.0.0.1',
      listenPort: 8080,
      targetHost: '10.1.2.3',
      targetPort: 80,
    });
    expect(parseForwardRule('zt:5432=[::1]:5433')).toMatchObject({
      fromZeroTier: true,
      listenHost: '',
      listenPort: 5432,
      targetHost: '::1',
      targetPort: 5433,
    });
    expect(parseForwardRule('zt:10.1.2.3:22=127.0.0.1:22')).toMatchObject({
      fromZeroTier: true,
      listenHost: '10.1.2.3',
      listenPort: 22,
    });
    for (const bad of [
      '8080',
      '127.0.0.1:8080=',
      'zt:70000=127.0.0.1:1',
      'host:1=127.0.0.1:2',
      'zt:1=a:2',
    ]) {
      expect(() => parseForwardRule(bad), bad).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
      );
    }
  });

  it('rejects when a port is in use, leaving nothing listening', async () => {
    const busy = await listening();
    const free = await listening();
    const freePort = portOf(free);
    await new Promise((r) => free.close(r));
    try {
      const attempt = forward([
        `127.0.0.1:${freePort}=10.1.2.3:80`,
        `127.0.0.1:${portOf(busy)}=10.1.2.3:81`,
      ]);
      await expect(attempt).rejects.toMatchObject({
        code: 'EADDRINUSE',
        message: expect.stringContaining(`127.0.0.1:${portOf(busy)} is already in use`),
      });
      // The first rule's listener was closed again: its port is free.
      const again = await listening(freePort);
      await new Promise((r) => again.close(r));
    } finally {
      busy.close();
    }
  });

  it('listens for every rule and closes them all', async () => {
    const forwarder = await forward(['127.0.0.1:0=10.1.2.3:80', '127.0.0.1:0=10.1.2.3:81']);
    const ports = forwarder.ports;
    expect(ports).toHaveLength(2);
    expect(ports.every((p) => p > 0)).toBe(true);
    await forwarder.close();
    expect(forwarder.ports).toEqual([]);
  });
});
