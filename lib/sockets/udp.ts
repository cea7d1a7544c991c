/** UDP over ZeroTier, shaped like node:dgram's Socket. */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';

import { fromLwip, LwipErr } from '../errors.js';
import type { NativeEndpoint, NativeSocketEvent } from '../native.js';
import { toBytesOrString, validateInteger } from '../validate.js';
import type { SocketChannel, SocketOwner } from './channel.js';

export interface RemoteInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
}

export class UdpSocket extends EventEmitter implements SocketOwner {
  readonly #channel: SocketChannel;
  readonly #id: number;
  #local: NativeEndpoint | undefined;
  #bound = false;
  #closed = false;
  #queued: Array<() => void> = [];

  /** @internal */
  constructor(channel: SocketChannel) {
    super();
    this.#channel = channel;
    this.#id = channel.allocate(this);
  }

  bind(port = 0, address?: string | (() => void), cb?: () => void): this {
    if (typeof address === 'function') cb = address;
    const host = typeof address === 'string' ? address : '';
    validateInteger(port, 'port', 0, 65535);
    if (cb) this.once('listening', cb);
    this.#channel.native.udpBind(this.#id, host === '0.0.0.0' || host === '::' ? '' : host, port);
    this.#bound = true;
    return this;
  }

  address(): NativeEndpoint {
    if (this.#local === undefined) {
      const e = new Error('getsockname EBADF');
      (e as Error & { code: string }).code = 'ERR_SOCKET_DGRAM_NOT_RUNNING';
      throw e;
    }
    return this.#local;
  }

  send(
    msg: Uint8Array | string,
    port: number,
    address: string,
    cb?: (err: Error | null) => void,
  ): void {
    const data = toBytesOrString(msg, 'msg');
    validateInteger(port, 'port', 1, 65535);
    const resolveHost = this.#channel.resolveHost;
    if (typeof address === 'string' && address !== '' && isIP(address) === 0 && resolveHost) {
      // A host name: resolved on the network's DNS, then sent (a failure goes to cb or 'error').
      resolveHost(address, 0).then(
        (r) => this.send(data, port, r.address, cb),
        (err: Error) => (cb ? cb(err) : this.emit('error', err)),
      );
      return;
    }
    if (isIP(address) === 0) throw new TypeError(`address must be an IP address, not ${address}`);
    if (this.#closed)
      throw Object.assign(new Error('Not running'), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
    const go = () => {
      this.#channel.native.udpSend(this.#id, address, port, data);
      if (cb) queueMicrotask(() => cb(null));
    };
    // Like dgram, sending from an unbound socket binds it to a random port first.
    if (!this.#bound) this.bind(0);
    if (this.#local === undefined) this.#queued.push(go);
    else go();
  }

  close(cb?: () => void): this {
    if (this.#closed) return this;
    this.#closed = true;
    this.#channel.native.socketControl(this.#id, 'close');
    this.#channel.release(this.#id);
    if (cb) this.once('close', cb);
    queueMicrotask(() => this.emit('close'));
    return this;
  }

  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  /** @internal */
  onSocketEvent(e: NativeSocketEvent): void {
    if (e.kind === 'bound') {
      if (e.err !== undefined && e.err !== LwipErr.OK) {
        this.emit('error', fromLwip(e.err, { syscall: 'bind' }));
        return;
      }
      this.#local = e.local;
      this.emit('listening');
      for (const go of this.#queued.splice(0)) go();
    } else if (e.kind === 'message' && e.data !== undefined && e.remote !== undefined) {
      const info: RemoteInfo = { ...e.remote, size: e.data.length };
      this.emit('message', e.data, info);
    }
  }
}
