/**
 * UDP over ZeroTier, shaped like node:dgram's Socket: the same call forms, states, events
 * and error codes (docs/net-compat.md lists where it differs and why). Connecting is
 * done here, not in the stack: a connected socket sends to its peer and hears only it, as
 * a connected kernel socket does.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';

import { fromLwip, LwipErr, systemError } from '../errors.js';
import type { NativeEndpoint, NativeSocketEvent } from '../native.js';
import { invalidArgType, validateString } from '../validate.js';
import type { SocketChannel, SocketOwner } from './channel.js';
import {
  alreadyBound,
  badType,
  isBroadcast,
  isConnected,
  literalLookup,
  notConnected,
  notRunning,
  notSupported,
  optionError,
  readPort,
  readSendArgs,
  type SendCallback,
  type LookupFunction,
} from './dgram-args.js';
import type { SocketTraffic, TrafficMetrics, RateLimits } from './traffic.js';
import { GroupMemberships } from './udp-groups.js';
import {
  inNodeOrder,
  sourceSpecific,
  UdpOptions,
  type BindOptions,
  type Message,
  type RemoteInfo,
  type SocketType,
  type UdpSocketOptions,
} from './udp-options.js';

export type { BindOptions, Message, RemoteInfo, SocketType, UdpSocketOptions };

const enum Bind {
  Unbound,
  Binding,
  Bound,
}
const enum Link {
  Disconnected,
  Connecting,
  Connected,
}

// What an unconnected IPv4/IPv6 datagram may carry (lwIP refuses more, as the kernel does).
const maxPayload = { IPv4: 65507, IPv6: 65527 } as const;

export class UdpSocket extends EventEmitter implements SocketOwner {
  readonly type: SocketType;
  readonly #channel: SocketChannel;
  readonly #lookup: LookupFunction;
  readonly #ipv6Only: boolean;
  readonly #traffic: SocketTraffic;
  #id = 0;
  #local: NativeEndpoint | undefined;
  #remote: NativeEndpoint | undefined;
  #bind = Bind.Unbound;
  #link = Link.Disconnected;
  #closed = false;
  readonly #options: UdpOptions;
  /** Sends waiting for the bind or connect to finish, in order. */
  #queue: Array<() => void> = [];
  /** Datagrams (and their bytes) between send() and the stack. */
  #queuedBytes = 0;
  #queuedCount = 0;
  #refd = true;
  /** Whether this socket counts in the node's keep-alive (bound, ref'd, open). */
  #holding = false;
  /** The node closed (and every socket with it). */
  #nodeGone = false;
  readonly #groups: GroupMemberships;
  /** Datagrams dropped for a full receive buffer (see onSocketEvent). */
  #dropped = 0;
  #bindCallback: (() => void) | undefined;
  /** What bind() asked for, for its error. */
  #bindTarget: { address: string; port: number } | undefined;
  /** A connect waiting for the bind. */
  #connectStep: (() => void) | undefined;

  /** @internal: made by dgram.createSocket(). */
  constructor(channel: SocketChannel, options: UdpSocketOptions | SocketType) {
    super();
    const opts = typeof options === 'string' ? { type: options } : options;
    if (opts === null || typeof opts !== 'object') throw badType();
    if (opts.type !== 'udp4' && opts.type !== 'udp6') throw badType();
    if (opts.lookup !== undefined && typeof opts.lookup !== 'function') {
      throw invalidArgType('options.lookup', 'of type function', opts.lookup);
    }
    this.type = opts.type;
    this.#channel = channel;
    this.#lookup = opts.lookup ?? networkLookup(channel);
    this.#ipv6Only = !!opts.ipv6Only;
    this.#traffic = channel.traffic.socket('udp');
    this.#groups = new GroupMemberships(channel, this.type === 'udp4' ? 4 : 6);
    this.#options = new UdpOptions(opts);
    const signal = opts.signal;
    if (signal !== undefined) {
      if (signal.aborted) process.nextTick(() => this.#closeQuietly());
      else signal.addEventListener('abort', () => this.#closeQuietly(), { once: true });
    }
  }

  get #family(): 'IPv4' | 'IPv6' {
    return this.type === 'udp4' ? 'IPv4' : 'IPv6';
  }

  bind(
    port?: number | string | BindOptions | (() => void) | null,
    address?: string | (() => void),
    callback?: () => void,
  ): this {
    this.#healthCheck();
    if (this.#bind !== Bind.Unbound) throw alreadyBound();
    let cb = typeof address === 'function' ? address : callback;
    let host: unknown = typeof address === 'function' ? undefined : address;
    let p: unknown = port;
    if (typeof port === 'function') {
      cb = port;
      p = 0;
    } else if (port !== null && typeof port === 'object') {
      if (port.fd !== undefined) throw notSupported('bind({ fd }) (an OS socket)');
      p = port.port ?? 0;
      host = port.address;
    }
    const bindPort = readPort(p ?? 0, true);
    if (host !== undefined && host !== null && typeof host !== 'string') {
      throw invalidArgType('hostname', 'of type string', host);
    }
    if (cb) this.once('listening', cb);
    this.#bindCallback = cb;
    this.#bind = Bind.Binding;
    this.#updateHold();
    const name = typeof host === 'string' && host !== '' ? host : undefined;
    this.#resolve(name, (err, ip) => {
      if (this.#closed) return;
      if (err) {
        this.#bindFailed(err);
        return;
      }
      if (ip !== '' && isIP(ip) !== (this.type === 'udp4' ? 4 : 6)) {
        this.#bindFailed(systemError('EINVAL', { syscall: 'bind', address: ip }));
        return;
      }
      this.#id = this.#channel.allocate(this);
      // udp6 on "any" takes IPv4 too (as Node's dual-stack sockets do), unless ipv6Only.
      const nativeIp =
        ip !== '' ? ip : this.type === 'udp4' ? '0.0.0.0' : this.#ipv6Only ? '::' : '';
      this.#bindTarget = {
        address: ip !== '' ? ip : this.type === 'udp4' ? '0.0.0.0' : '::',
        port: bindPort,
      };
      this.#channel.native.udpBind(this.#id, nativeIp, bindPort);
    });
    return this;
  }

  connect(
    port: number | string,
    address?: string | (() => void),
    callback?: (err?: Error) => void,
  ): this {
    if (typeof address === 'function') {
      callback = address;
      address = undefined;
    }
    const remotePort = readPort(port, false);
    if (address !== undefined && typeof address !== 'string') {
      throw invalidArgType('address', 'of type string', address);
    }
    this.#healthCheck();
    if (this.#link !== Link.Disconnected) throw isConnected();
    this.#link = Link.Connecting;
    if (callback) this.once('connect', callback);
    if (this.#bind === Bind.Unbound) this.bind(0);
    const host = address || (this.type === 'udp4' ? '127.0.0.1' : '::1');
    this.#afterBind(() =>
      this.#resolve(host, (err, ip) => {
        if (this.#closed) return;
        if (!err && isIP(ip) !== (this.type === 'udp4' ? 4 : 6)) {
          err = systemError('EINVAL', { syscall: 'connect', address: ip, port: remotePort });
        }
        if (err) {
          this.#link = Link.Disconnected;
          // Node hands connect's failure to the callback when there is one, else 'error'.
          if (callback) {
            this.off('connect', callback);
            callback(err);
          } else this.emit('error', err);
          return;
        }
        this.#remote = { address: ip, family: this.#family, port: remotePort };
        this.#link = Link.Connected;
        this.emit('connect');
        this.#flush();
      }),
    );
    return this;
  }

  disconnect(): void {
    this.#healthCheck();
    if (this.#link !== Link.Connected) throw notConnected();
    this.#link = Link.Disconnected;
    this.#remote = undefined;
  }

  /**
   * send(msg[, offset, length][, port][, address][, callback]); on a connected socket
   * send(msg[, offset, length][, callback]). A callback gets (error) or (null, bytes).
   */
  send(msg: Message, port?: number | string, address?: string, callback?: SendCallback): void;
  send(msg: Message, port: number | string, callback?: SendCallback): void;
  send(
    msg: Message,
    offset: number,
    length: number,
    port?: number | string,
    address?: string,
    callback?: SendCallback,
  ): void;
  send(msg: Message, offset: number, length: number, callback?: SendCallback): void;
  send(msg: Message, callback?: SendCallback): void;
  send(msg: unknown, ...args: unknown[]): void {
    this.#sendAny(msg, args);
  }

  #sendAny(msg: unknown, args: unknown[]): void {
    // While connecting, the call is read again once connected, as Node does.
    if (this.#link === Link.Connecting && !this.#closed) {
      this.#queue.push(() => this.#sendAny(msg, args));
      return;
    }
    const connected = this.#link === Link.Connected;
    const { data, port, address, callback } = readSendArgs(connected, msg, args);
    const cb = callback;
    const remote = connected ? this.#remote : undefined;
    const toPort = remote !== undefined ? remote.port : readPort(port, false);
    this.#healthCheck();
    if (this.#bind === Bind.Unbound) this.bind(0);
    const host = remote !== undefined ? remote.address : address;
    this.#queuedBytes += data.length;
    this.#queuedCount++;
    this.#whenBound(() =>
      this.#resolve(host ?? (this.type === 'udp4' ? '127.0.0.1' : '::1'), (err, ip) => {
        if (this.#closed) return;
        if (err) {
          this.#unqueue(data.length);
          // A failed lookup is reported to the callback or as 'error', as Node does.
          if (cb) cb(err);
          else this.emit('error', err);
          return;
        }
        this.#transmit(data, ip, toPort, cb);
      }),
    );
  }

  /** The old six-argument form, kept by node:dgram. */
  sendto(
    msg: Message,
    offset: number,
    length: number,
    port: number,
    address: string,
    callback?: SendCallback,
  ): void {
    validateString(address, 'address');
    this.#sendAny(msg, [offset, length, port, address, callback]);
  }

  #transmit(data: Buffer, ip: string, port: number, cb: SendCallback | undefined): void {
    const fail = (code: string) => {
      this.#unqueue(data.length);
      // Without a callback Node drops a send's system error silently; so do we.
      if (cb) cb(systemError(code, { syscall: 'send', address: ip, port }));
    };
    let target = ip;
    if (this.type === 'udp6' && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip)) target = ip.slice(7);
    else if (isIP(ip) !== (this.type === 'udp4' ? 4 : 6)) return fail('EINVAL');
    const family = isIP(target) === 4 ? 'IPv4' : 'IPv6';
    if (data.length > maxPayload[family]) return fail('EMSGSIZE');
    if (!this.#options.broadcast && isBroadcast(target, this.#channel.subnets()))
      return fail('EACCES');
    this.#traffic.outbound(data.length, () => {
      this.#unqueue(data.length);
      if (this.#closed) return;
      this.#channel.native.udpSend(this.#id, target, port, data);
      if (cb) process.nextTick(cb, null, data.length);
    });
  }

  close(callback?: () => void): this {
    this.#healthCheck();
    if (callback) this.once('close', callback);
    this.#closeQuietly();
    return this;
  }

  #closeQuietly(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#groups.leaveAll(this.#nodeGone);
    this.#updateHold();
    this.#queuedBytes = 0;
    this.#queuedCount = 0;
    this.#traffic.close();
    if (this.#id !== 0 && !this.#nodeGone) {
      this.#channel.native.socketControl(this.#id, 'close');
      this.#channel.release(this.#id);
    }
    process.nextTick(() => this.emit('close'));
  }

  address(): NativeEndpoint {
    this.#healthCheck();
    if (this.#bind !== Bind.Bound || this.#local === undefined)
      throw optionError('getsockname', 'EBADF');
    return inNodeOrder(this.#local);
  }

  remoteAddress(): NativeEndpoint {
    this.#healthCheck();
    if (this.#link !== Link.Connected || this.#remote === undefined) throw notConnected();
    return inNodeOrder(this.#remote);
  }

  setBroadcast(flag: boolean): void {
    this.#requireBound('setBroadcast');
    this.#options.broadcast = !!flag;
  }

  /** Checked as Node does and returned; the ZeroTier stack sends with its own TTL. */
  setTTL(ttl: number): number {
    this.#healthCheck();
    return this.#options.ttl(ttl, 'setTTL', 1, this.#bind === Bind.Bound);
  }

  setMulticastTTL(ttl: number): number {
    this.#healthCheck();
    return this.#options.ttl(ttl, 'setMulticastTTL', 0, this.#bind === Bind.Bound);
  }

  setMulticastLoopback(flag: boolean): boolean {
    this.#requireBound('setMulticastLoopback');
    // Checked and returned; our own multicast never comes back to us (the engine does not
    // deliver our frames to ourselves), whatever the flag.
    return flag;
  }

  /**
   * Checked as Node does (one of the node's addresses, or the unspecified one); group
   * datagrams leave on the first network that has an address of the family.
   */
  setMulticastInterface(interfaceAddress: string): void {
    this.#healthCheck();
    validateString(interfaceAddress, 'interfaceAddress');
    this.#requireBound('setMulticastInterface');
    this.#groups.checkInterface(interfaceAddress, 'setMulticastInterface', 'EADDRNOTAVAIL');
  }

  /**
   * Joins a group on every network the node is on (when the network allows multicast):
   * the stack takes the group's datagrams, and the network's members learn we want them.
   */
  addMembership(multicastAddress: string, interfaceAddress?: string): void {
    this.#healthCheck();
    this.#groups.add(multicastAddress, interfaceAddress);
  }

  dropMembership(multicastAddress: string, interfaceAddress?: string): void {
    this.#healthCheck();
    this.#groups.drop(multicastAddress, interfaceAddress);
  }

  addSourceSpecificMembership(source: string, group: string, _iface?: string): void {
    this.#healthCheck();
    sourceSpecific(true, source, group);
  }

  dropSourceSpecificMembership(source: string, group: string, _iface?: string): void {
    this.#healthCheck();
    sourceSpecific(false, source, group);
  }

  getRecvBufferSize(): number {
    this.#healthCheck();
    return this.#options.bufferSize('recv', this.#bind === Bind.Bound);
  }
  getSendBufferSize(): number {
    this.#healthCheck();
    return this.#options.bufferSize('send', this.#bind === Bind.Bound);
  }
  setRecvBufferSize(size: number): void {
    this.#healthCheck();
    this.#options.setBufferSize('recv', size, this.#bind === Bind.Bound);
  }
  setSendBufferSize(size: number): void {
    this.#healthCheck();
    this.#options.setBufferSize('send', size, this.#bind === Bind.Bound);
  }

  /** Bytes waiting for a bind, a lookup or the rate limit. */
  getSendQueueSize(): number {
    return this.#queuedBytes;
  }
  getSendQueueCount(): number {
    return this.#queuedCount;
  }

  /** A bound socket keeps the process alive (with the node) unless unref'd, as in Node. */
  ref(): this {
    this.#refd = true;
    this.#updateHold();
    return this;
  }
  unref(): this {
    this.#refd = false;
    this.#updateHold();
    return this;
  }

  #updateHold(): void {
    const want = !this.#closed && this.#refd && this.#bind !== Bind.Unbound;
    if (want === this.#holding) return;
    this.#holding = want;
    this.#channel.hold(this, want);
  }

  /** Send and receive limits in bytes a second (undefined or Infinity: none). */
  setRateLimit(limits: RateLimits): this {
    this.#traffic.setLimits(limits);
    return this;
  }

  /** As TCP's, with `dropped`: datagrams over a receive limit that found the buffer full. */
  metrics(): TrafficMetrics & { dropped: number } {
    return { ...this.#traffic.metrics(), dropped: this.#dropped };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#closed) return;
    await new Promise<void>((resolve) => this.close(resolve));
  }

  /** @internal */
  onSocketEvent(e: NativeSocketEvent): void {
    if (e.kind === 'close') {
      // Only when the node stops: a UDP socket has no peer to close it.
      this.#nodeGone = true;
      this.#closeQuietly();
      return;
    }
    if (e.kind === 'bound') {
      if (e.err !== undefined && e.err !== LwipErr.OK) {
        this.#channel.release(this.#id);
        this.#id = 0;
        this.#connectStep = undefined;
        this.#bindFailed(fromLwip(e.err, { syscall: 'bind', ...this.#bindTarget }));
        return;
      }
      const local = e.local ?? { address: '', port: 0, family: this.#family };
      // An "any" bind reads as the family's unspecified address, as Node shows it.
      if (local.address === '' || local.address === '::' || local.address === '0.0.0.0') {
        local.address = this.type === 'udp4' ? '0.0.0.0' : '::';
        local.family = this.#family;
      }
      this.#local = local;
      this.#bind = Bind.Bound;
      this.emit('listening');
      const step = this.#connectStep;
      this.#connectStep = undefined;
      step?.();
      this.#flush();
    } else if (e.kind === 'message' && e.remote !== undefined) {
      // The engine leaves `data` out of an empty datagram's event.
      const data = e.data ?? Buffer.alloc(0);
      const from = this.#asSeen(e.remote);
      if (from === undefined) return;
      const r = this.#remote;
      if (
        this.#link === Link.Connected &&
        r &&
        (r.address !== from.address || r.port !== from.port)
      ) {
        return; // a connected socket hears only its peer
      }
      // A receive limit holds datagrams back in order, up to the receive buffer; past it
      // they are dropped, as a kernel drops datagrams for a full buffer (UDP has no way to
      // slow the sender).
      if (this.#traffic.inboundWaitingBytes + data.length > this.#options.buffers.recv) {
        this.#dropped++;
        return;
      }
      this.#traffic.inbound(data.length, () => {
        if (this.#closed) return;
        this.emit('message', data, {
          ...inNodeOrder(from),
          size: data.length,
        } satisfies RemoteInfo);
      });
    }
  }

  /** The sender as this socket's family shows it, or undefined if it must not hear it. */
  #asSeen(remote: NativeEndpoint): NativeEndpoint | undefined {
    if (this.type === 'udp4') return remote.family === 'IPv4' ? remote : undefined;
    if (remote.family === 'IPv6') return remote;
    if (this.#ipv6Only) return undefined;
    return { address: `::ffff:${remote.address}`, family: 'IPv6', port: remote.port };
  }

  #resolve(host: string | undefined, done: (err: Error | null, ip: string) => void): void {
    if (host === undefined || isIP(host) !== 0) {
      process.nextTick(done, null, host ?? '');
      return;
    }
    this.#lookup(host, this.type === 'udp4' ? 4 : 6, (err, ip) => done(err, ip));
  }

  #afterBind(go: () => void): void {
    if (this.#bind === Bind.Bound) go();
    else this.#connectStep = go;
  }

  #whenBound(go: () => void): void {
    if (this.#bind === Bind.Bound) go();
    else this.#queue.push(go);
  }

  #flush(): void {
    while (this.#bind === Bind.Bound && this.#link !== Link.Connecting) {
      const next = this.#queue.shift();
      if (next === undefined) return;
      next();
    }
  }

  /** Unbound again (a later bind may succeed); the failed bind's callback is dropped. */
  #bindFailed(err: Error): void {
    this.#bind = Bind.Unbound;
    this.#updateHold();
    this.emit('error', err);
    if (this.#bindCallback) this.off('listening', this.#bindCallback);
    this.#bindCallback = undefined;
  }

  #unqueue(bytes: number): void {
    this.#queuedBytes -= bytes;
    this.#queuedCount--;
  }

  #healthCheck(): void {
    if (this.#closed) throw notRunning();
  }

  #requireBound(syscall: string): void {
    this.#healthCheck();
    if (this.#bind !== Bind.Bound) throw optionError(syscall, 'EBADF');
  }
}

/**
 * The default lookup: IP literals, and names on the node's networks through their DNS
 * (the node sets channel.resolveHost).
 */
function networkLookup(channel: SocketChannel): LookupFunction {
  return (hostname, family, callback) => {
    const resolve = channel.resolveHost;
    if (resolve === undefined || isIP(hostname) !== 0) {
      literalLookup(hostname, family, callback);
      return;
    }
    resolve(hostname, family === 6 ? 6 : 4).then(
      (r) => callback(null, r.address, r.family),
      (err: Error) => callback(err, '', 0),
    );
  };
}
