// The dgram conformance cases: each drives a dgram implementation against the peer of
// dgram-peer.cjs and returns what an app could observe (dgram-trace.ts). The test runs
// every case against node:dgram over loopback and against ours over a lab network and
// compares.
import { isIP } from 'node:net';

import {
  attempt,
  describeError,
  done,
  messages,
  sendWithCallback,
  settle,
  until,
  watch,
  type DgramEnv,
  type DgramSocket,
  type Trace,
} from './dgram-trace.js';

export type { DgramEnv };

export const cases: Record<string, (env: DgramEnv) => Promise<Trace>> = {
  async 'createSocket forms and bad types'(env) {
    const trace: Trace = [];
    for (const type of ['udp5', {}, { type: 'tcp' }, null]) {
      trace.push(attempt(env, () => env.dgram.createSocket(type)));
    }
    const heard: string[] = [];
    const s = env.dgram.createSocket({ type: 'udp4' }, (m: unknown) => heard.push(String(m)));
    trace.push((s as unknown as { type: string }).type);
    const Ctor = (env.dgram as unknown as { Socket: new (t: string) => DgramSocket }).Socket;
    const made = new Ctor('udp6');
    trace.push([
      made instanceof Ctor,
      s instanceof Ctor,
      (made as unknown as { type: string }).type,
    ]);
    made.close();
    s.send('listener', env.echoPort, env.peer);
    await until(s, 'message');
    trace.push(heard);
    s.close();
    return done(trace);
  },

  async 'members before bind'(env) {
    const trace: Trace = [];
    const s = env.dgram.createSocket('udp4');
    watch(s, trace, env);
    trace.push(attempt(env, () => s.address()));
    trace.push(attempt(env, () => s.remoteAddress()));
    trace.push(attempt(env, () => s.setBroadcast(true)));
    trace.push(attempt(env, () => s.setTTL(5)));
    trace.push(attempt(env, () => s.setTTL('5')));
    trace.push(attempt(env, () => s.getRecvBufferSize()));
    trace.push(attempt(env, () => s.disconnect()));
    trace.push(attempt(env, () => s.ref() === s && s.unref() === s));
    s.close();
    await until(s, 'close');
    return done(trace);
  },

  async 'bind forms'(env) {
    const trace: Trace = [];
    const forms: Array<(s: DgramSocket, cb: () => void) => void> = [
      (s, cb) => s.bind(cb),
      (s, cb) => s.bind(0, cb),
      (s, cb) => s.bind('0', cb),
      (s, cb) => s.bind({ port: 0 }, cb),
      (s, cb) => s.bind({}, cb),
      (s, cb) => s.bind(0, undefined, cb),
      (s, cb) => (s.bind(), s.once('listening', cb)),
    ];
    for (const form of forms) {
      const s = env.dgram.createSocket('udp4');
      watch(s, trace, env);
      await new Promise<void>((resolve) =>
        form(s, () => {
          trace.push('callback');
          resolve();
        }),
      );
      const a = s.address();
      trace.push([Object.keys(a), a.address, a.family, a.port > 0]);
      trace.push(attempt(env, () => s.bind(0)));
      s.close();
      await until(s, 'close');
    }
    const s = env.dgram.createSocket('udp4');
    trace.push(attempt(env, () => s.bind(0, 5)));
    s.close();
    return done(trace);
  },

  async 'a port in use'(env) {
    const trace: Trace = [];
    const first = env.dgram.createSocket('udp4');
    await new Promise((r) => first.bind(0, r));
    const port = first.address().port;
    const second = env.dgram.createSocket('udp4');
    second.on('listening', () => trace.push('listening'));
    second.bind(port, () => trace.push('bound twice'));
    const [e] = (await until(second, 'error')) as [Error & Record<string, unknown>];
    trace.push([e.name, e.code, e.errno, e.syscall, e.address, e.port === port]);
    trace.push(e.message === `bind EADDRINUSE 0.0.0.0:${port}`);
    // Unbound again: it may bind elsewhere.
    await new Promise((r) => second.bind(0, r));
    trace.push(second.address().port !== port);
    first.close();
    second.close();
    await until(second, 'close');
    return done(trace);
  },

  async 'send forms reach the peer with the bytes meant'(env) {
    const trace: Trace = [];
    const s = env.dgram.createSocket('udp4');
    watch(s, trace, env);
    const { peer, echoPort } = env;
    // Before bind: the first send binds (one 'listening').
    trace.push(await sendWithCallback(s, 'plain', echoPort, peer));
    trace.push(await sendWithCallback(s, Buffer.from('xxbufferxx'), 2, 6, echoPort, peer));
    trace.push(await sendWithCallback(s, 'xstringx', 1, 6, echoPort, peer));
    trace.push(
      await sendWithCallback(s, ['li', Buffer.from('st'), new Uint8Array([33])], echoPort, peer),
    );
    trace.push(await sendWithCallback(s, 'portstring', String(echoPort), peer));
    trace.push(
      await sendWithCallback(
        s,
        new DataView(new TextEncoder().encode('view').buffer),
        echoPort,
        peer,
      ),
    );
    trace.push(await sendWithCallback(s, new Uint16Array([0x6968]), echoPort, peer));
    trace.push(await sendWithCallback(s, [], echoPort, peer));
    const got = messages(s, 2);
    s.send('nocallback', echoPort, peer);
    s.send(Buffer.from('_six_'), 1, 3, echoPort, peer);
    await got;
    await settle(100);
    s.close();
    await until(s, 'close');
    return done(trace);
  },

  async 'send argument errors'(env) {
    const trace: Trace = [];
    const s = env.dgram.createSocket('udp4');
    watch(s, trace, env);
    const { peer, echoPort } = env;
    const bad: unknown[][] = [
      ['x'],
      ['x', 0, peer],
      ['x', 65536, peer],
      ['x', '12x', peer],
      ['x', -1, peer],
      ['x', 1.5, peer],
      [5, echoPort, peer],
      [{}, echoPort, peer],
      [['ok', 5], echoPort, peer],
      [['ok'], 0, 1, echoPort, peer],
      [Buffer.alloc(4), 5, 1, echoPort, peer],
      [Buffer.alloc(4), 2, 5, echoPort, peer],
      ['x', echoPort, 5],
    ];
    for (const args of bad) trace.push(attempt(env, () => s.send(...args)));
    await settle();
    s.close();
    trace.push(attempt(env, () => s.send('x', echoPort, peer)));
    trace.push(attempt(env, () => s.close()));
    trace.push(attempt(env, () => s.address()));
    trace.push(attempt(env, () => s.bind()));
    await until(s, 'close');
    return done(trace);
  },

  async 'send failures reach the callback, or nobody'(env) {
    const trace: Trace = [];
    const s = env.dgram.createSocket('udp4');
    watch(s, trace, env);
    await new Promise((r) => s.bind(0, r));
    trace.push(await sendWithCallback(s, Buffer.alloc(65508), env.echoPort, env.peer));
    const big = await new Promise((resolve) =>
      s.send(Buffer.alloc(65508), env.echoPort, env.peer, (e: unknown) =>
        resolve(describeError(e, env)),
      ),
    );
    trace.push(big);
    trace.push(
      await new Promise((resolve) =>
        s.send('b', 9, '255.255.255.255', (e: unknown) => resolve(describeError(e, env))),
      ),
    );
    trace.push(
      await new Promise((resolve) =>
        s.send('six', 9, '::1', (e: unknown) => resolve(describeError(e, env))),
      ),
    );
    // Without a callback the same failures are silent: no 'error' event.
    s.send(Buffer.alloc(65508), env.echoPort, env.peer);
    s.send('b', 9, '255.255.255.255');
    await settle(100);
    // The socket still works afterwards.
    s.send('still', env.echoPort, env.peer);
    await until(s, 'message');
    s.close();
    await until(s, 'close');
    return done(trace);
  },

  async 'a lookup function names hosts, and its failures are reported'(env) {
    const trace: Trace = [];
    const lookup = (
      host: string,
      _opts: unknown,
      cb: (e: Error | null, a: string, f: number) => void,
    ) => {
      if (isIP(host) !== 0) return process.nextTick(cb, null, host, isIP(host));
      if (host === 'peer.test') return process.nextTick(cb, null, env.peer, 4);
      const e = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
        code: 'ENOTFOUND',
        syscall: 'getaddrinfo',
        hostname: host,
      });
      process.nextTick(cb, e, '', 0);
    };
    const s = env.dgram.createSocket({ type: 'udp4', lookup });
    watch(s, trace, env);
    const named = until(s, 'message');
    trace.push(await sendWithCallback(s, 'named', env.echoPort, 'peer.test'));
    await named;
    trace.push(
      await new Promise((resolve) =>
        s.send('x', env.echoPort, 'nowhere.test', (e: unknown) => resolve(describeError(e, env))),
      ),
    );
    s.send('x', env.echoPort, 'nowhere.test'); // no callback: an 'error' event
    await until(s, 'error');
    s.close();
    await until(s, 'close');
    const c = env.dgram.createSocket({ type: 'udp4', lookup });
    watch(c, trace, env, 'c.');
    c.connect(env.echoPort, 'peer.test', () =>
      trace.push(['connected', c.remoteAddress().port === env.echoPort]),
    );
    await until(c, 'connect');
    c.close();
    await until(c, 'close');
    return done(trace);
  },

  async 'connect, send to the peer only, disconnect'(env) {
    const trace: Trace = [];
    const s = env.dgram.createSocket('udp4');
    watch(s, trace, env);
    trace.push(attempt(env, () => s.connect()));
    trace.push(attempt(env, () => s.connect(0, env.peer)));
    trace.push(attempt(env, () => s.connect(env.echoPort, 5)));
    const called = new Promise<unknown[]>((r) =>
      s.connect(String(env.echoPort), env.peer, (...a: unknown[]) => r(a)),
    );
    trace.push(attempt(env, () => s.connect(env.echoPort, env.peer)));
    trace.push(attempt(env, () => s.remoteAddress()));
    trace.push(['connect callback args', await called]);
    const r = s.remoteAddress();
    trace.push([Object.keys(r), r.address === env.peer, r.family, r.port === env.echoPort]);
    const echoes = messages(s, 2);
    trace.push(await sendWithCallback(s, 'connected'));
    trace.push(await sendWithCallback(s, Buffer.from('--cut--'), 2, 3));
    await echoes;
    // Node reads a port after the message as a (non-function) callback: the datagram goes
    // to the connected peer.
    const echo = until(s, 'message');
    trace.push(attempt(env, () => s.send('y', env.echoPort, env.peer)));
    await echo;
    trace.push(attempt(env, () => s.send('x', 0, 1, env.echoPort)));
    trace.push(attempt(env, () => s.connect(env.echoPort, env.peer)));
    trace.push(attempt(env, () => s.disconnect()));
    trace.push(attempt(env, () => s.remoteAddress()));
    trace.push(attempt(env, () => s.disconnect()));
    trace.push(attempt(env, () => s.send('x')));
    const last = until(s, 'message');
    trace.push(await sendWithCallback(s, 'after', env.echoPort, env.peer));
    await last;
    s.close();
    await until(s, 'close');
    return done(trace);
  },

  async 'a connected socket hears only its peer'(env) {
    const trace: Trace = [];
    const connected = env.dgram.createSocket('udp4');
    watch(connected, trace, env, 'connected.');
    await new Promise((r) => connected.connect(env.echoPort, env.peer, r));
    const asker = env.dgram.createSocket('udp4');
    watch(asker, trace, env, 'asker.');
    // The peer's control socket sends "unwanted" to the connected socket, then "poked".
    asker.send(`poke ${connected.address().port}`, env.controlPort, env.peer);
    await until(asker, 'message');
    await settle(100);
    connected.send('wanted');
    await until(connected, 'message');
    connected.close();
    asker.close();
    await settle();
    return done(trace);
  },

  async 'connect failures go to the callback'(env) {
    const trace: Trace = [];
    const s = env.dgram.createSocket('udp4');
    watch(s, trace, env);
    trace.push(
      await new Promise((resolve) =>
        s.connect(9, '::1', (e: unknown) => resolve(describeError(e, env))),
      ),
    );
    trace.push(attempt(env, () => s.remoteAddress()));
    s.close();
    await until(s, 'close');
    return done(trace);
  },

  async 'socket options once bound'(env) {
    const trace: Trace = [];
    const s = env.dgram.createSocket('udp4');
    await new Promise((r) => s.bind(0, r));
    trace.push(attempt(env, () => s.setTTL(64)));
    trace.push(attempt(env, () => s.setTTL(0)));
    trace.push(attempt(env, () => s.setTTL(256)));
    trace.push(attempt(env, () => s.setTTL('a')));
    trace.push(attempt(env, () => s.setMulticastTTL(300)));
    trace.push(attempt(env, () => s.setMulticastTTL(0)));
    trace.push(attempt(env, () => s.setBroadcast(true)));
    trace.push(attempt(env, () => s.addMembership()));
    trace.push(attempt(env, () => s.addMembership('10.1.2.3')));
    trace.push(attempt(env, () => s.addMembership(5)));
    trace.push(attempt(env, () => s.dropMembership('239.1.2.3')));
    trace.push(attempt(env, () => s.getSendQueueCount()));
    trace.push(attempt(env, () => typeof s.getRecvBufferSize()));
    s.close();
    await until(s, 'close');
    return done(trace);
  },

  async 'group membership bookkeeping'(env) {
    const trace: Trace = [];
    // Before bind, joining works (Node's socket is then bound in libuv, so a later bind()
    // fails with EINVAL there: not a case to copy).
    const early = env.dgram.createSocket('udp4');
    trace.push(attempt(env, () => early.addMembership('239.1.2.8')));
    early.close();
    const s = env.dgram.createSocket('udp4');
    watch(s, trace, env);
    await new Promise((r) => s.bind(0, r));
    trace.push(attempt(env, () => s.addMembership('239.1.2.9')));
    trace.push(attempt(env, () => s.addMembership('239.1.2.9')));
    trace.push(attempt(env, () => s.addMembership('239.1.2.10', 'nonsense')));
    trace.push(attempt(env, () => s.addMembership('ff02::1')));
    trace.push(attempt(env, () => s.dropMembership('239.1.2.9')));
    trace.push(attempt(env, () => s.dropMembership('239.1.2.9')));
    trace.push(attempt(env, () => s.dropMembership()));
    trace.push(attempt(env, () => s.setMulticastInterface('0.0.0.0')));
    trace.push(attempt(env, () => s.setMulticastInterface('nonsense')));
    trace.push(attempt(env, () => s.setMulticastInterface(5)));
    trace.push(attempt(env, () => s.setMulticastLoopback(false)));
    s.close();
    await until(s, 'close');
    trace.push(attempt(env, () => s.addMembership('239.1.2.9')));
    return done(trace);
  },

  async 'close: callback, events, and after'(env) {
    const trace: Trace = [];
    const s = env.dgram.createSocket('udp4');
    watch(s, trace, env);
    await new Promise((r) => s.bind(0, r));
    const args = await new Promise((r) => s.close((...a: unknown[]) => r(a)));
    trace.push(['close callback args', args]);
    trace.push(attempt(env, () => s.close()));
    trace.push(attempt(env, () => s.remoteAddress()));
    await settle();
    const aborted = new AbortController();
    const t = env.dgram.createSocket({ type: 'udp4', signal: aborted.signal });
    watch(t, trace, env, 'signal.');
    await new Promise((r) => t.bind(0, r));
    aborted.abort();
    await until(t, 'close');
    const u = env.dgram.createSocket('udp4');
    watch(u, trace, env, 'disposed.');
    await new Promise((r) => u.bind(0, r));
    await u[Symbol.asyncDispose]();
    trace.push(attempt(env, () => u.address()));
    return done(trace);
  },

  async 'a udp6 socket reaches IPv4 peers through mapped addresses'(env) {
    const trace: Trace = [];
    const s = env.dgram.createSocket('udp6');
    watch(s, trace, env);
    await new Promise((r) => s.bind(0, r));
    const a = s.address();
    trace.push([a.address, a.family]);
    const mapped = until(s, 'message');
    trace.push(await sendWithCallback(s, 'mapped', env.echoPort, `::ffff:${env.peer}`));
    await mapped;
    trace.push(
      await new Promise((resolve) =>
        s.send('four', env.echoPort, env.peer, (e: unknown) => resolve(describeError(e, env))),
      ),
    );
    s.close();
    await until(s, 'close');
    // ipv6Only: no IPv4 at all.
    const only = env.dgram.createSocket({ type: 'udp6', ipv6Only: true });
    await new Promise((r) => only.bind(0, r));
    trace.push(only.address().address);
    only.close();
    return done(trace);
  },

  async 'rinfo of a message'(env) {
    const trace: Trace = [];
    const s = env.dgram.createSocket('udp4');
    watch(s, trace, env);
    s.send(Buffer.from('12345'), env.echoPort, env.peer);
    await until(s, 'message');
    s.close();
    await until(s, 'close');
    return done(trace);
  },
};
