// Helpers shared by the TCP conformance case files.
'use strict';
const { once } = require('node:events');

const wait = (ms) => new Promise((r) => setTimeout(r, ms));
const closed = (emitter) => new Promise((r) => emitter.once('close', r));

/** A server that runs `onConnection` for each socket and closes after `count` of them. */
async function serve(ctx, options, onConnection, count = 1) {
  const server = ctx.net.createServer(options ?? {});
  let seen = 0;
  server.on('connection', (socket) => {
    seen++;
    onConnection(socket, seen);
    if (seen === count) server.close();
  });
  server.listen(0, ctx.listenHost);
  await once(server, 'listening');
  ctx.listening(server.address().port);
  await closed(server);
  return server;
}

/** Records a socket's stream events with their arguments; data joined until 'end'. */
function watch(ctx, socket, tag) {
  let text = '';
  socket.on('data', (d) => (text += d.toString('latin1')));
  socket.on('end', () => ctx.record(`${tag}:end`, text));
  socket.on('error', (e) => ctx.record(`${tag}:error`, e));
  socket.on('finish', () => ctx.record(`${tag}:finish`));
  return closed(socket).then((hadError) => ctx.record(`${tag}:close`, hadError));
}

function echoServer(ctx, options) {
  return serve(ctx, options, (s) => {
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end());
    watch(ctx, s, 'server');
  });
}

module.exports = { wait, closed, serve, watch, echoServer };
