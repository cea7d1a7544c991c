/**
 * One open TCP socket in the engine, as a Socket sees it (Node's `_handle`): the id the
 * engine knows it by and the calls that act on it. It exists from connect (or accept)
 * until the socket is closed on either side.
 */
import type { SocketChannel, SocketOwner } from './channel.js';
import type { KeepAliveTimes } from './liveness.js';

export class TcpHandle {
  constructor(
    readonly channel: SocketChannel,
    readonly id: number,
  ) {}

  /** A handle for a new outgoing connection, its events going to `owner`. */
  static connect(
    channel: SocketChannel,
    owner: SocketOwner,
    address: string,
    port: number,
    timeoutMs: number,
    localPort = 0,
  ): TcpHandle {
    const handle = new TcpHandle(channel, channel.allocate(owner));
    channel.native.tcpConnect(handle.id, address, port, timeoutMs, localPort);
    return handle;
  }

  write(data: Uint8Array): void {
    this.channel.native.socketWrite(this.id, data);
  }

  /** FIN after what was written; reading goes on. */
  shutdown(): void {
    this.channel.native.socketControl(this.id, 'shutdown');
  }

  noDelay(on: boolean): void {
    this.channel.native.socketControl(this.id, 'nodelay', on ? 1 : 0);
  }

  /** Probe timings (liveness.ts), or undefined to turn keep-alive off. */
  keepAlive(times: KeepAliveTimes | undefined): void {
    if (times === undefined) this.channel.native.socketControl(this.id, 'keepalive', 0);
    else {
      const { idleMs, intervalMs, count } = times;
      this.channel.native.socketControl(this.id, 'keepalive', idleMs, intervalMs, count);
    }
  }

  /** Fail with ETIMEDOUT once the peer is silent this long with bytes in flight. */
  deadPeerTimeout(ms: number): void {
    this.channel.native.socketControl(this.id, 'deadpeer', ms);
  }

  /** The reader took n bytes: the receive window reopens by n. */
  consumed(n: number): void {
    this.channel.native.socketControl(this.id, 'consumed', n);
  }

  /** Orderly close (FIN after queued bytes), or a reset; the engine forgets the id. */
  close(reset: boolean): void {
    this.channel.native.socketControl(this.id, reset ? 'abort' : 'close');
    this.release();
  }

  /** Stops routing the id's events (the engine already let go of it). */
  release(): void {
    this.channel.release(this.id);
  }
}
