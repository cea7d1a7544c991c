// TCP conformance cases, in the spirit of Node's test/parallel/test-net-*.js (written
// here from the documented behaviour, not copied). Each case has a server role and a
// client role, run in two processes, once with node:net over loopback and once with our
// net over a lab network; the test asserts both runs recorded the same thing.
//
// A role gets ctx: { net, host, port, listenHost, record(event, ...args), listening(port) }
// and returns a promise that settles when its part is over. Record only what must be the
// same on both stacks: events, their order and arguments, error codes, bytes (joined, as
// TCP may split them differently).
'use strict';
const { createHash } = require('node:crypto');
const { once } = require('node:events');

const { wait, closed, serve, watch, echoServer } = require('./tcp-case-helpers.cjs');

module.exports = {
  // Events and their arguments for a plain round trip, port given as a numeric string.
  'echo-events': {
    server: (ctx) => echoServer(ctx),
    async client(ctx) {
      const s = ctx.net.createConnection(String(ctx.port), ctx.host, () => ctx.record('cb'));
      ctx.record('connecting', s.connecting, s.pending, s.readyState);
      s.on('connect', () =>
        ctx.record('connect', s.readyState, s.pending, s.remotePort === Number(ctx.port)),
      );
      s.on('ready', () => ctx.record('ready'));
      const done = watch(ctx, s, 'client');
      await once(s, 'connect');
      s.write('hello ');
      s.end('world');
      await done;
      ctx.record('after', s.bytesRead, s.bytesWritten, s.readyState, s.destroyed);
    },
  },

  // A zero-length write calls back, and later writes still flow (http's res.end() makes one).
  'zero-length-write': {
    server: (ctx) => echoServer(ctx),
    async client(ctx) {
      const s = ctx.net.connect({ port: ctx.port, host: ctx.host });
      const done = watch(ctx, s, 'client');
      await once(s, 'connect');
      await new Promise((r) => s.write('', () => r(ctx.record('empty-cb'))));
      await new Promise((r) => s.write(Buffer.alloc(0), () => r(ctx.record('empty-buffer-cb'))));
      s.write('after', () => ctx.record('after-cb'));
      s.end();
      await done;
    },
  },

  // new Socket() then connect(), as client libraries do with a socket they were given.
  'socket-then-connect': {
    server: (ctx) => echoServer(ctx),
    async client(ctx) {
      const s = new ctx.net.Socket();
      ctx.record('fresh', s.connecting, s.pending, s.readyState, s.remoteAddress ?? null);
      s.connect({ port: ctx.port, host: ctx.host }, () => ctx.record('cb'));
      ctx.record('after-connect-call', s.connecting, s.readyState);
      const done = watch(ctx, s, 'client');
      s.end('x');
      await done;
    },
  },

  // Half-open both ways: the client ends first and still reads the reply.
  'half-open': {
    server: (ctx) =>
      serve(ctx, { allowHalfOpen: true }, (s) => {
        let got = '';
        s.on('data', (d) => (got += d));
        s.on('end', async () => {
          ctx.record('server:end', got, s.readyState);
          await wait(50);
          s.write(`reply to ${got}`, () => ctx.record('server:write-cb'));
          s.end();
        });
        closed(s).then((hadError) => ctx.record('server:close', hadError));
      }),
    async client(ctx) {
      const s = ctx.net.createConnection({ port: ctx.port, host: ctx.host, allowHalfOpen: true });
      const done = watch(ctx, s, 'client');
      await once(s, 'connect');
      s.end('question');
      await once(s, 'finish');
      ctx.record('client:after-finish', s.readyState);
      await done;
    },
  },

  // close() stops accepting at once and emits 'close' after the last connection closed.
  'server-close-waits': {
    async server(ctx) {
      const server = ctx.net.createServer((s) => {
        server.close(() => ctx.record('server:close-cb'));
        ctx.record('server:listening-after-close', server.listening);
        server.getConnections((err, n) => ctx.record('connections', err, n));
        closed(s).then((hadError) => ctx.record('socket:close', hadError));
        setTimeout(() => s.end('bye'), 100);
      });
      server.on('close', () => ctx.record('server:close'));
      server.listen(0, ctx.listenHost);
      await once(server, 'listening');
      ctx.listening(server.address().port);
      await closed(server);
      await wait(20);
    },
    async client(ctx) {
      const s = ctx.net.createConnection(ctx.port, ctx.host);
      await watch(ctx, s, 'client');
    },
  },

  // maxConnections: the extra connection is dropped ('drop'), the first one lives on.
  'max-connections': {
    async server(ctx) {
      const server = ctx.net.createServer((s) => {
        ctx.record('connection');
        s.on('end', () => s.end());
        s.on('close', () => server.close());
      });
      server.maxConnections = 1;
      server.on('drop', (info) => ctx.record('drop', typeof info.remotePort));
      server.listen(0, ctx.listenHost);
      await once(server, 'listening');
      ctx.listening(server.address().port);
      await closed(server);
    },
    async client(ctx) {
      const first = ctx.net.createConnection(ctx.port, ctx.host);
      await once(first, 'connect');
      await wait(50);
      const second = ctx.net.createConnection(ctx.port, ctx.host);
      second.on('connect', () => ctx.record('second:connect'));
      await watch(ctx, second, 'second');
      first.end();
      await watch(ctx, first, 'first');
    },
  },

  // A peer's FIN closes a socket nobody reads (no 'data' or 'end' listener).
  'fin-noticed-unread': {
    server: (ctx) =>
      serve(ctx, {}, (s) => {
        closed(s).then((hadError) => ctx.record('server:close', hadError, s.readyState));
      }),
    async client(ctx) {
      const s = ctx.net.createConnection(ctx.port, ctx.host);
      await once(s, 'connect');
      s.end();
      await watch(ctx, s, 'client');
    },
  },

  // cork/uncork (writev), end(data, cb), setEncoding, destroySoon.
  'writes-and-encoding': {
    server: (ctx) => echoServer(ctx),
    async client(ctx) {
      const s = ctx.net.createConnection(ctx.port, ctx.host);
      s.setEncoding('utf8');
      // Recorded at the end: when the echo arrives relative to the write callbacks is
      // timing (ours call back once the engine took the bytes, a round trip later).
      let dataType;
      s.once('data', (d) => (dataType = typeof d));
      s.on('end', () => ctx.record('data-type', dataType));
      const done = watch(ctx, s, 'client');
      s.cork();
      s.write('a', () => ctx.record('cb-a'));
      s.write(Buffer.from('b'), () => ctx.record('cb-b'));
      s.write(new Uint8Array([0x63]), () => ctx.record('cb-c'));
      process.nextTick(() => s.uncork());
      s.end('é', () => ctx.record('end-cb'));
      await done;
      ctx.record('counts', s.bytesRead, s.bytesWritten);
    },
  },

  // pauseOnConnect: the accepted socket starts paused and gets its data on resume().
  'pause-on-connect': {
    server: (ctx) =>
      serve(ctx, { pauseOnConnect: true }, (s) => {
        ctx.record('paused', s.isPaused());
        let early = 0;
        s.on('data', (d) => (early += d.length));
        setTimeout(() => {
          ctx.record('before-resume', early);
          s.resume();
        }, 100);
        s.on('end', () => s.end());
        watch(ctx, s, 'server');
      }),
    async client(ctx) {
      const s = ctx.net.createConnection(ctx.port, ctx.host);
      const done = watch(ctx, s, 'client');
      s.end('queued');
      await done;
    },
  },

  // destroySoon(): ends, then destroys once the FIN went out. (The server only reads: an
  // echo could meet the closed client and be reset, on any stack, depending on timing.)
  'destroy-soon': {
    server: (ctx) =>
      serve(ctx, {}, (s) => {
        s.on('end', () => s.end());
        watch(ctx, s, 'server');
      }),
    async client(ctx) {
      const s = ctx.net.createConnection(ctx.port, ctx.host);
      await once(s, 'connect');
      s.write('bye');
      s.destroySoon();
      ctx.record('after-call', s.writable, s.destroyed);
      await watch(ctx, s, 'client');
    },
  },

  // Listen forms: (port, host, cb), options object; address() shape; listen twice throws.
  'listen-forms': {
    async server(ctx) {
      const a = ctx.net.createServer();
      a.listen({ port: 0, host: ctx.listenHost }, () => ctx.record('options-cb'));
      await once(a, 'listening');
      ctx.record('address-keys', Object.keys(a.address()).sort(), a.listening);
      try {
        a.listen(0);
      } catch (e) {
        ctx.record('twice', e.code);
      }
      await new Promise((r) => a.close(r));
      ctx.record('after-close', a.listening, a.address());
      const b = ctx.net.createServer(() => undefined);
      b.listen('0', ctx.listenHost, () => ctx.record('string-port-cb'));
      await once(b, 'listening');
      await b[Symbol.asyncDispose]();
      ctx.record('disposed', b.listening);
      ctx.listening(0);
    },
    async client(ctx) {
      ctx.record('nothing');
    },
  },

  // 2 MiB in 64 KiB writes honouring backpressure; the server's hash of what it got.
  'large-transfer': {
    server: (ctx) =>
      serve(ctx, {}, (s) => {
        const hash = createHash('sha256');
        let length = 0;
        s.on('data', (d) => {
          hash.update(d);
          length += d.length;
        });
        s.on('end', () => s.end(`${length} ${hash.digest('hex')}`));
        closed(s).then((hadError) => ctx.record('server:close', hadError));
      }),
    async client(ctx) {
      const s = ctx.net.createConnection(ctx.port, ctx.host);
      const done = watch(ctx, s, 'client');
      await once(s, 'connect');
      let seed = 1;
      const hash = createHash('sha256');
      for (let i = 0; i < 32; i++) {
        const chunk = Buffer.alloc(65536);
        for (let j = 0; j < chunk.length; j++)
          chunk[j] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
        hash.update(chunk);
        // Whether write() says "wait" depends on timing (Node's loopback writes often
        // finish at once): honour it, but do not record it.
        if (!s.write(chunk)) await once(s, 'drain');
      }
      ctx.record('written', s.bytesWritten);
      ctx.record('expected', `${32 * 65536} ${hash.digest('hex')}`);
      s.end();
      await done;
    },
  },

  // The server ends first; the half-open client still writes, and the server reads it.
  'server-ends-first': {
    server: (ctx) =>
      serve(ctx, { allowHalfOpen: true }, (s) => {
        s.end('hello, I am done');
        s.on('finish', () => ctx.record('server:finish', s.readyState));
        let got = '';
        s.on('data', (d) => (got += d));
        s.on('end', () => ctx.record('server:end', got, s.readyState));
        closed(s).then((hadError) => ctx.record('server:close', hadError));
      }),
    async client(ctx) {
      const s = new ctx.net.Socket({ allowHalfOpen: true });
      s.connect(ctx.port, ctx.host);
      s.on('end', () => {
        ctx.record('client:readyState', s.readyState);
        s.end('late reply');
      });
      await watch(ctx, s, 'client');
    },
  },

  // Socket and server options, and the setters' return values.
  'socket-options': {
    server: (ctx) =>
      serve(
        ctx,
        { noDelay: true, keepAlive: true, keepAliveInitialDelay: 3000, allowHalfOpen: false },
        (s) => {
          s.on('end', () => s.end());
          watch(ctx, s, 'server');
        },
      ).then((server) =>
        ctx.record(
          'server-options',
          server.noDelay,
          server.keepAlive,
          server.keepAliveInitialDelay,
        ),
      ),
    async client(ctx) {
      const s = new ctx.net.Socket({ allowHalfOpen: false });
      ctx.record('setters', s.setNoDelay() === s, s.setKeepAlive(true, 1000) === s);
      s.connect({ port: ctx.port, host: ctx.host, noDelay: true, keepAlive: true });
      await once(s, 'connect');
      ctx.record('after-connect', s.setNoDelay(false) === s, s.allowHalfOpen);
      s.end();
      await watch(ctx, s, 'client');
    },
  },
};
