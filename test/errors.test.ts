import net from 'node:net';
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';

import { LwipErr, fromEngine, fromErrno, fromLwip, systemError } from '../lib/index.js';

const errno = constants.errno as Record<string, number>;

// Every lwIP error, read in a data-path call and in connect, where resets and aborts
// mean a refused or timed-out connection.
const table: Array<[keyof typeof LwipErr, string, string]> = [
  ['MEM', 'write', 'ENOMEM'],
  ['BUF', 'write', 'ENOBUFS'],
  ['TIMEOUT', 'read', 'ETIMEDOUT'],
  ['RTE', 'connect', 'EHOSTUNREACH'],
  ['INPROGRESS', 'connect', 'EINPROGRESS'],
  ['VAL', 'bind', 'EINVAL'],
  ['WOULDBLOCK', 'write', 'EWOULDBLOCK'],
  ['USE', 'listen', 'EADDRINUSE'],
  ['ALREADY', 'connect', 'EALREADY'],
  ['ISCONN', 'connect', 'EISCONN'],
  ['CONN', 'write', 'ENOTCONN'],
  ['IF', 'write', 'EIO'],
  ['ABRT', 'read', 'ECONNABORTED'],
  ['ABRT', 'connect', 'ETIMEDOUT'],
  ['RST', 'read', 'ECONNRESET'],
  ['RST', 'connect', 'ECONNREFUSED'],
  ['CLSD', 'write', 'ENOTCONN'],
  ['CLSD', 'connect', 'ECONNREFUSED'],
  ['ARG', 'bind', 'EINVAL'],
];

describe('fromLwip', () => {
  it.each(table)('ERR_%s in %s is %s', (name, syscall, code) => {
    const e = fromLwip(LwipErr[name], { syscall, address: '10.147.17.5', port: 80 });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(code);
    expect(e.errno).toBe(-errno[code]!);
    expect(e.syscall).toBe(syscall);
    expect(e.address).toBe('10.147.17.5');
    expect(e.port).toBe(80);
    expect(e.message).toBe(`${syscall} ${code} 10.147.17.5:80`);
  });

  it('covers every lwIP error code', () => {
    const covered = new Set(table.map(([name]) => name));
    for (const name of Object.keys(LwipErr)) if (name !== 'OK') expect(covered).toContain(name);
  });

  it('refuses ERR_OK and maps unknown numbers to EIO', () => {
    expect(() => fromLwip(LwipErr.OK, { syscall: 'read' })).toThrow(RangeError);
    expect(fromLwip(-99, { syscall: 'read' }).code).toBe('EIO');
  });
});

describe('fromErrno', () => {
  it.each([
    [errno['ECONNREFUSED']!, 'ECONNREFUSED'],
    [-errno['ECONNREFUSED']!, 'ECONNREFUSED'],
    [errno['ENETUNREACH']!, 'ENETUNREACH'],
    [errno['EADDRNOTAVAIL']!, 'EADDRNOTAVAIL'],
    [99999, 'EIO'],
  ])('%i is %s', (n, code) => {
    const e = fromErrno(n, { syscall: 'connect', address: 'fd00::1', port: 443 });
    expect(e.code).toBe(code);
    expect(e.errno).toBe(-errno[code]!);
  });
});

describe('shape', () => {
  it('matches a real node:net system error field for field', async () => {
    // A loopback port that was just free: connecting to it is refused.
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const real = await new Promise<NodeJS.ErrnoException & { address?: string; port?: number }>(
      (resolve) => net.connect(port, '127.0.0.1').on('error', resolve),
    );
    const ours = systemError('ECONNREFUSED', { syscall: 'connect', address: '127.0.0.1', port });
    const fields = (e: typeof real) => ({
      code: e.code,
      errno: e.errno,
      syscall: e.syscall,
      address: e.address,
      port: e.port,
      message: e.message,
    });
    expect(fields(ours)).toEqual(fields(real));
  });

  it('omits address and port when not given', () => {
    const e = fromEngine({ domain: 'lwip', code: LwipErr.MEM }, { syscall: 'write' });
    expect(e.message).toBe('write ENOMEM');
    expect('address' in e).toBe(false);
    expect('port' in e).toBe(false);
    expect(fromEngine({ domain: 'errno', code: 113 }, { syscall: 'connect' }).code).toBe(
      'EHOSTUNREACH',
    );
  });
});
