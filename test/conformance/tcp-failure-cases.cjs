// TCP conformance cases about failures and addressing: refused and reset connections,
// argument errors, lookups, several addresses, local ports, aborts, idle timeouts. See
// tcp-cases.cjs for how a case runs.
'use strict';
/* global AbortController */
const { once } = require('node:events');

const { wait, closed, serve, watch, echoServer } = require('./tcp-case-helpers.cjs');

module.exports = {
  // 'close' says whether an error closed the socket; a reset is ECONNRESET on the other side.
  'close-had-error': {
    server: (ctx) =>
      serve(ctx, {}, (s) => {
        s.on('error', (e) => ctx.record('server:error', e));
        closed(s).then((hadError) => ctx.record('server:close', hadError));
      }),
    async client(ctx) {
      const s = ctx.net.createConnection(ctx.port, ctx.host);
      await once(s, 'connect');
      await wait(50);
      s.resetAndDestroy();
      ctx.record('client:close', await closed(s));
    },
  },

  // A refused connect: 'error' ECONNREFUSED (syscall connect), then 'close' with true.
  refused: {
    async server(ctx) {
      const server = ctx.net.createServer();
      server.listen(0, ctx.listenHost);
      await once(server, 'listening');
      const { port } = server.address();
      server.close();
      await closed(server);
      ctx.listening(port);
    },
    async client(ctx) {
      const s = ctx.net.createConnection(ctx.port, ctx.host);
      s.on('connect', () => ctx.record('connect'));
      await watch(ctx, s, 'client');
      ctx.record('after', s.destroyed, s.readyState);
    },
  },

  // Argument checks throw Node's errors, synchronously.
  'argument-errors': {
    async server(ctx) {
      ctx.listening(0);
    },
    async client(ctx) {
      const attempt = (label, f) => {
        try {
          f();
          ctx.record(label, 'no throw');
        } catch (e) {
          ctx.record(label, e.code, e.name);
        }
      };
      attempt('port-text', () => ctx.net.createConnection({ port: 'abc', host: ctx.host }));
      attempt('port-big', () => ctx.net.createConnection(70000, ctx.host));
      attempt('port-negative', () => ctx.net.connect(-1, ctx.host));
      attempt('port-object', () => ctx.net.connect({ port: {}, host: ctx.host }));
      attempt('no-port', () => ctx.net.createConnection({ host: ctx.host }));
      attempt('bad-local-address', () =>
        ctx.net.createConnection({ port: 1, host: ctx.host, localAddress: 'nope' }),
      );
      attempt('bad-lookup', () =>
        ctx.net.createConnection({ port: 1, host: 'somewhere.invalid', lookup: 5 }),
      );
      attempt('timeout-negative', () => new ctx.net.Socket().setTimeout(-1));
      attempt('timeout-text', () => new ctx.net.Socket().setTimeout('1'));
      attempt('listen-bad-port', () => ctx.net.createServer().listen(65536));
      attempt('listen-bad-options', () => ctx.net.createServer().listen({ host: ctx.host }));
      const server = ctx.net.createServer();
      await new Promise((r) => server.close((e) => r(ctx.record('close-not-running', e))));
      ctx.record('isIP', ctx.net.isIP('10.0.0.1'), ctx.net.isIPv6('::1'), ctx.net.isIPv4('x'));
    },
  },

  // A lookup function: called with the host, 'lookup' emitted with Node's arguments.
  lookup: {
    server: (ctx) => echoServer(ctx),
    async client(ctx) {
      const lookup = (hostname, options, cb) => {
        ctx.record('lookup-called', hostname, options.all === true);
        if (options.all) cb(null, [{ address: ctx.host, family: 4 }]);
        else cb(null, ctx.host, 4);
      };
      const s = ctx.net.createConnection({ port: ctx.port, host: 'echo.test', lookup });
      s.on('lookup', (err, address, family, host) =>
        ctx.record('lookup', err, address === ctx.host, family, host),
      );
      s.on('connect', () => ctx.record('connect'));
      const done = watch(ctx, s, 'client');
      s.end('via lookup');
      await done;
      const failing = ctx.net.createConnection({
        port: ctx.port,
        host: 'nowhere.test',
        lookup: (h, o, cb) => {
          const e = new Error(`getaddrinfo ENOTFOUND ${h}`);
          e.code = 'ENOTFOUND';
          e.syscall = 'getaddrinfo';
          cb(e);
        },
      });
      failing.on('lookup', (err, address, family, host) =>
        ctx.record('failed-lookup', err, address, family, host),
      );
      await watch(ctx, failing, 'failing');
    },
  },

  // Idle timeout: 'timeout' fires once idle; the timeout option of createConnection.
  timeout: {
    server: (ctx) => echoServer(ctx),
    async client(ctx) {
      const s = ctx.net.createConnection({ port: ctx.port, host: ctx.host, timeout: 150 });
      ctx.record('timeout-prop', s.timeout);
      s.on('timeout', () => {
        ctx.record('timeout', s.readyState);
        s.setTimeout(0);
        ctx.record('timeout-prop', s.timeout);
        s.end();
      });
      await watch(ctx, s, 'client');
    },
  },

  // An aborted signal destroys a connecting socket with AbortError.
  'abort-signal': {
    server: (ctx) => echoServer(ctx),
    async client(ctx) {
      const ac = new AbortController();
      const s = ctx.net.createConnection({ port: ctx.port, host: ctx.host, signal: ac.signal });
      ac.abort();
      await watch(ctx, s, 'client');
      // The server still gets one connection: close it.
      const closer = ctx.net.createConnection(ctx.port, ctx.host);
      closer.end();
      await watch(ctx, closer, 'closer');
    },
  },

  // A reset noticed by a server that never reads: 'error' ECONNRESET, then 'close' true.
  'reset-unread': {
    server: (ctx) =>
      serve(ctx, {}, (s) => {
        s.on('error', (e) => ctx.record('server:error', e));
        closed(s).then((hadError) => ctx.record('server:close', hadError));
      }),
    async client(ctx) {
      const s = ctx.net.createConnection(ctx.port, ctx.host);
      await once(s, 'connect');
      s.write('never read');
      await wait(50);
      s.resetAndDestroy();
      ctx.record('client:close', await closed(s));
    },
  },

  // A lookup giving two addresses: the first refuses, the second answers ('connectionAttempt'
  // and 'connectionAttemptFailed' on the way); then two that both refuse (AggregateError).
  'address-failover': {
    server: (ctx) => echoServer(ctx),
    async client(ctx) {
      // An address that refuses at once: another loopback address for node:net, loopback
      // for ours (not on any network: the stack refuses it).
      const refusing = ctx.impl === 'node' ? '127.0.0.2' : '127.0.0.1';
      const refusingToo = ctx.impl === 'node' ? '127.0.0.3' : '127.0.0.2';
      const label = (a) => (a === refusing ? 'refusing' : a === ctx.host ? 'server' : a);
      const lookupOf = (addresses) => (host, options, cb) =>
        cb(
          null,
          addresses.map((address) => ({ address, family: 4 })),
        );
      const s = ctx.net.createConnection({
        port: ctx.port,
        host: 'two.test',
        lookup: lookupOf([refusing, ctx.host]),
      });
      s.on('connectionAttempt', (a, port, family) => ctx.record('attempt', label(a), family));
      s.on('connectionAttemptFailed', (a, port, family, e) =>
        ctx.record('attempt-failed', label(a), e),
      );
      s.on('connect', () => ctx.record('connect', s.remotePort === ctx.port));
      const done = watch(ctx, s, 'client');
      // After 'connect': node:net 20 loses writes made while it tries several addresses.
      await once(s, 'connect');
      s.end('second try');
      await done;
      const both = ctx.net.createConnection({
        port: ctx.port,
        host: 'none.test',
        lookup: lookupOf([refusing, refusing, refusingToo]), // each address tried once
      });
      both.on('error', (e) => ctx.record('both-error', e.name, e.code, e.errors?.length));
      ctx.record('both-close', await closed(both));
    },
  },

  // localPort: the server sees it as the remote port; a second socket on it is EADDRINUSE.
  'local-port': {
    server: (ctx) =>
      serve(ctx, {}, (s) => {
        ctx.record('server:remote-port-is-local', s.remotePort === 47123);
        s.on('end', () => s.end());
        watch(ctx, s, 'server');
      }),
    async client(ctx) {
      const s = ctx.net.createConnection({ port: ctx.port, host: ctx.host, localPort: 47123 });
      await once(s, 'connect');
      ctx.record('local-port', s.localPort);
      const again = ctx.net.createConnection({ port: ctx.port, host: ctx.host, localPort: 47123 });
      again.on('error', (e) => ctx.record('again-error', e, e.port === ctx.port));
      ctx.record('again-close', await closed(again));
      s.end();
      await watch(ctx, s, 'client');
    },
  },
};
