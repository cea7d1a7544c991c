/**
 * A TCP socket's flow control between the app and the engine, both ways. Sending: a write
 * is done for the app once the engine holds its bytes, as Node's is once the kernel does,
 * until too many are unconfirmed (or a send limit holds them back) and its callback waits.
 * Receiving: the engine's receive window reopens only as the reader consumes.
 */
import { socketClosed } from './net-errors.js';
import type { TcpHandle } from './tcp-handle.js';
import type { SocketTraffic } from './traffic.js';

/**
 * Unconfirmed bytes a socket may have with the engine before write callbacks wait. The
 * engine reports taken bytes in steps of at most its own report size (socket-bridge.cpp,
 * 256 KiB), which must stay below this.
 */
const MAX_IN_FLIGHT = 4 * 1024 * 1024;
/** Received bytes the app took before the engine is told (below: they add up first). */
const CONSUME_BATCH = 64 * 1024;

type WriteCallback = (err?: Error | null) => void;

/** The sending side: bytes on their way to the engine, and the write callback they hold. */
export class SendWindow {
  /** Bytes passed on so far (Socket#bytesWritten adds those still queued). */
  bytesWritten = 0;
  /** A write's callback held until the engine has taken enough (see MAX_IN_FLIGHT). */
  #pendingWrite: WriteCallback | undefined;
  /** Bytes handed to the engine that it has not yet reported taken ('wrote'). */
  #inFlight = 0;
  /** Written bytes a send limit still holds back from the engine. */
  #heldByLimit = 0;

  /** `handle`: the socket's connection at the time a piece goes to the engine. */
  constructor(private readonly handle: () => TcpHandle | undefined) {}

  /**
   * Hands a write's chunks to the engine, through the send limit if there is one: it
   * passes them on in pieces, over time. `cb` is the write's callback.
   */
  send(chunks: Buffer[], traffic: SocketTraffic | undefined, cb: WriteCallback): void {
    let total = 0;
    for (const c of chunks) total += c.length;
    // A zero-length write has nothing for the engine to report: it is done at once.
    if (total === 0) {
      cb();
      return;
    }
    this.bytesWritten += total;
    this.#inFlight += total;
    this.#heldByLimit += total;
    // One engine write for corked chunks, as writev is one system call in Node: the engine
    // takes them together, before any answer to the first can arrive.
    const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
    const send = (piece: Buffer) => {
      this.#heldByLimit -= piece.length;
      this.handle()?.write(piece);
      this.#releaseWrite();
    };
    if (traffic) traffic.write(data, send);
    else send(data);
    // Done, as far as the app is concerned, once the engine holds it, as Node's is once the
    // kernel does; past MAX_IN_FLIGHT unconfirmed bytes the callback waits for the engine.
    if (this.#heldByLimit === 0 && this.#inFlight <= MAX_IN_FLIGHT) process.nextTick(cb);
    else this.#pendingWrite = cb;
  }

  /** The engine took n bytes ('wrote'). */
  taken(n: number): void {
    this.#inFlight = Math.max(0, this.#inFlight - n);
    this.#releaseWrite();
  }

  /** The socket is destroyed: a held write callback gets its error (or ERR_SOCKET_CLOSED). */
  abort(err: Error | null | undefined): void {
    const pending = this.#pendingWrite;
    this.#pendingWrite = undefined;
    pending?.(err ?? socketClosed());
  }

  /** The held write callback runs once no limit holds its bytes and the engine caught up. */
  #releaseWrite(): void {
    const cb = this.#pendingWrite;
    if (cb === undefined || this.#heldByLimit > 0 || this.#inFlight > MAX_IN_FLIGHT) return;
    this.#pendingWrite = undefined;
    cb();
  }
}

/** The receiving side: what the reader took, given back to the engine as receive window. */
export class ReceiveWindow {
  bytesRead = 0;
  #unconsumed = 0;
  /** push() said stop: the next read reopens the window for everything held. */
  #backpressured = false;

  /** `handle`: the socket's connection at the time the window is given back. */
  constructor(private readonly handle: () => TcpHandle | undefined) {}

  /** Bytes from the engine, given to the reader through `push` (the stream's). */
  received(data: Buffer, push: (data: Buffer) => boolean): void {
    this.bytesRead += data.length;
    this.#unconsumed += data.length;
    if (push(data)) this.#consume(false);
    else this.#backpressured = true;
  }

  /** The reader wants more (_read). */
  read(): void {
    const force = this.#backpressured;
    this.#backpressured = false;
    this.#consume(force);
  }

  /**
   * Gives the engine back receive window for what the app took. Small amounts wait until
   * they add up (each report is a trip to the engine thread, and a few KiB of a 2 MiB
   * window hold nobody up); after backpressure everything goes at once.
   */
  #consume(force: boolean): void {
    const handle = this.handle();
    if (this.#unconsumed === 0 || !handle) return;
    if (!force && this.#unconsumed < CONSUME_BATCH) return;
    handle.consumed(this.#unconsumed);
    this.#unconsumed = 0;
  }
}
