import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** The lowest port the kernel picks for sockets bound to 0 and for outgoing connections. */
function ephemeralLow(): number {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    if (Number.isInteger(low)) return low;
  } catch {
    // not Linux: the range IANA names, which macOS and Windows use
  }
  return 49152;
}

function udpFree(port: number): Promise<boolean> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

function tcpFree(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      server.close(() => resolve(true)),
    );
  });
}

/**
 * A port on 127.0.0.1 that was free a moment ago for both UDP and TCP: a lab's root takes
 * the number over UDP and its API over TCP. It comes from below the kernel's ephemeral
 * range, since a port the kernel picked can be handed to another process's outgoing
 * connection between this check and the caller's bind (a lab once failed so, its API port
 * taken). The search starts at a random port, so parallel callers rarely meet; they still
 * can: retry on EADDRINUSE. `range` ([low, high)) is for tests.
 */
export async function freeLoopbackPort(range?: [number, number]): Promise<number> {
  const [low, high] = range ?? [10_000, Math.min(ephemeralLow(), 65_536)];
  const size = high - low;
  const start = Math.floor(Math.random() * size);
  for (let i = 0; i < Math.min(size, 200); i++) {
    const port = low + ((start + i) % size);
    if ((await udpFree(port)) && (await tcpFree(port))) return port;
  }
  if (range) throw new Error(`no port in [${low}, ${high}) is free over UDP and TCP`);
  // No room below the range (or all of it taken): let the kernel pick, and check TCP too.
  for (;;) {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (await tcpFree(port)) return port;
  }
}
