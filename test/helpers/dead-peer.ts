// For the dead-peer tests: a sink peer in a child process (stream-peer.cjs) that can be
// SIGKILLed and started again on the same storage (same address, same IP), and a writer
// that keeps a socket's send path full until the socket fails.
import path from 'node:path';

import type { LabHandle } from '../../lib/index.js';
import type { Socket } from '../../lib/sockets/tcp.js';
import { LinePeer } from './lab-network.js';

const script = path.join(__dirname, 'stream-peer.cjs');

export interface SinkPeer {
  peer: LinePeer;
  ip: string;
}

/** Starts (or restarts, on the same storage) a peer with a sink server on `port`. */
export async function startSinkPeer(
  lab: LabHandle,
  nwid: string,
  storage: string,
  port: number,
): Promise<SinkPeer> {
  const peer = new LinePeer(script, [lab.info.planetPath, storage, nwid]);
  const started = await peer.waitFor((l) => l.event === 'started');
  await lab.authorize(nwid, String(started['address']));
  const ip = String((await peer.waitFor((l) => l.event === 'ready', 60_000))['host']);
  peer.send({ sink: port });
  await peer.waitFor((l) => l.event === 'listening' && l['port'] === port, 10_000);
  return { peer, ip };
}

/** Kills the peer's process the hard way and waits until it is gone. */
export async function killPeer(peer: LinePeer): Promise<void> {
  if (peer.child.exitCode !== null || peer.child.signalCode !== null) return;
  const gone = new Promise((r) => peer.child.once('exit', r));
  peer.child.kill('SIGKILL');
  await gone;
}

/** Writes to `socket` whenever it drains; resolves with its error and when it came. */
export function writeUntilError(
  socket: Socket,
): Promise<{ error: NodeJS.ErrnoException; at: number }> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  return new Promise((resolve) => {
    socket.once('error', (error: NodeJS.ErrnoException) => resolve({ error, at: Date.now() }));
    const pump = () => {
      while (!socket.destroyed && socket.write(chunk));
    };
    socket.on('drain', pump);
    if (socket.connecting) socket.once('connect', pump);
    else pump();
  });
}
