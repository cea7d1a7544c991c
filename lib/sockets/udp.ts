/**
 * UDP over ZeroTier, shaped like node:dgram's Socket: the same call forms, states, events
 * and error codes (docs/net-compat.md lists where it differs and why). Connecting is
 * done here (udp-peer.ts), not in the stack: a connected socket sends to its peer and
 * hears only it, as a connected kernel socket does.
 */
import { EventEmitter } from 'node:events';

import { systemError } from '../errors.js';
import type { NativeEndpoint, NativeSocketEvent } from '../native.js';
import { validateString } from '../validate.js';
import type { SocketChannel, SocketOwner } from './channel.js';
import {
  alreadyBound,
  hostResolver,
  isBroadcast,
  networkLookup,
  notRunning,
  optionError,
  readBindArgs,
  readConnectArgs,
  readPort,
  readSendArgs,
  type HostResolver,
  type SendCallback,
} from './dgram-args.js';
import type { SocketTraffic, TrafficMetrics, RateLimits } from './traffic.js';
import { UdpBinding } from './udp-binding.js';
import { UdpFamily } from './udp-family.js';
import { GroupMemberships } from './udp-groups.js';
import {
  inNodeOrder,
  readSocketOptions,
  sourceSpecific,
  UdpOptions,
  type BindOptions,
  type Message,
  type RemoteInfo,
  type SocketType,
  type UdpSocketOptions,
} from './udp-options.js';
import { UdpPeer } from './udp-peer.js';
import { SendQueue } from './udp-send-queue.js';

export type { BindOptions, Message, RemoteInfo, SocketType, UdpSocketOptions };

export class UdpSocket extends EventEmitter implements SocketOwner {
  readonly type: SocketType;
  readonly #channel: SocketChannel;
  /** Hosts to IPs: options.lookup, or the node's network DNS. */
  readonly #resolve: HostResolver;
  /** The addresses it binds, sends to and hears (udp-family.ts). */
  readonly #family: UdpFamily;
  readonly #traffic: SocketTraffic;
  /** Unbound, binding or bound, and the engine's id (udp-binding.ts). */
  readonly #binding: UdpBinding;
  /** The connected peer, if any (udp-peer.ts). */
  readonly #peer: UdpPeer;
  #closed = false;
  readonly #options: UdpOptions;
  /** Sends waiting for the bind or connect to finish, and datagrams not yet sent. */
  readonly #sends = new SendQueue();
  #refd = true;
  /** Whether this socket counts in the node's keep-alive (bound, ref'd, open). */
  #holding = false;
  /** The node closed (and every socket with it). */
  #nodeGone = false;
  readonly #groups: GroupMemberships;
  /** Datagrams dropped for a full receive buffer (see onSocketEvent). */
  #dropped = 0;
  #bindCallback: (() => void) | undefined;

  /** @internal: made by dgram.createSocket(). */
  constructor(channel: SocketChannel, options: UdpSocketOptions | SocketType) {
    super();
    const opts = readSocketOptions(options);
    this.type = opts.type;
    this.#channel = channel;
    this.#family = new UdpFamily(this.type, !!opts.ipv6Only);
    this.#resolve = hostResolver(opts.lookup ?? networkLookup(channel), this.#family.version);
    this.#binding = new UdpBinding(channel, this.#family);
    this.#peer = new UdpPeer(this.#family);
    this.#traffic = channel.traffic.socket('udp');
    this.#groups = new GroupMemberships(channel, this.#family.version);
    this.#options = new UdpOptions(opts);
    const signal = opts.signal;
    if (signal !== undefined) {
      if (signal.aborted) process.nextTick(() => this.#closeQuietly());
      else signal.addEventListener('abort', () => this.#closeQuietly(), { once: true });
    }
  }

  bind(
    port?: number | string | BindOptions | (() => void) | null,
    address?: string | (() => void),
    callback?: () => void,
  ): this {
    this.#healthCheck();
    if (!this.#binding.unbound) throw alreadyBound();
    const { port: bindPort, address: name, callback: cb } = readBindArgs(port, address, callback);
    if (cb) this.once('listening', cb);
    this.#bindCallback = cb;
    this.#binding.begin();
    this.#updateHold();
    this.#resolve(name, (err, ip) => {
      if (this.#closed) return;
      if (err) {
        this.#bindFailed(err);
        return;
      }
      if (ip !== '' && !this.#family.has(ip)) {
        this.#bindFailed(systemError('EINVAL', { syscall: 'bind', address: ip }));
        return;
      }
      this.#binding.open(this, ip, bindPort);
    });
    return this;
  }

  connect(
    port: number | string,
    address?: string | (() => void),
    callback?: (err?: Error) => void,
  ): this {
    const args = readConnectArgs(port, address, callback);
    const { port: remotePort, callback: cb } = args;
    this.#healthCheck();
    this.#peer.begin();
    if (cb) this.once('connect', cb);
    if (this.#binding.unbound) this.bind(0);
    const host = args.address || this.#family.loopback;
    this.#binding.afterBind(() =>
      this.#resolve(host, (lookupErr, ip) => {
        if (this.#closed) return;
        const err = this.#peer.resolved(lookupErr, ip, remotePort);
        if (err) {
          // Node hands connect's failure to the callback when there is one, else 'error'.
          if (cb) {
            this.off('connect', cb);
            cb(err);
          } else this.emit('error', err);
          return;
        }
        this.emit('connect');
        this.#flush();
      }),
    );
    return this;
  }

  disconnect(): void {
    this.#healthCheck();
    this.#peer.disconnect();
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
    if (this.#peer.connecting && !this.#closed) {
      this.#sends.wait(() => this.#sendAny(msg, args));
      return;
    }
    const remote = this.#peer.remote;
    const { data, port, address, callback: cb } = readSendArgs(remote !== undefined, msg, args);
    const toPort = remote !== undefined ? remote.port : readPort(port, false);
    this.#healthCheck();
    if (this.#binding.unbound) this.bind(0);
    const host = remote !== undefined ? remote.address : address;
    this.#sends.add(data.length);
    this.#whenBound(() =>
      this.#resolve(host ?? this.#family.loopback, (err, ip) => {
        if (this.#closed) return;
        if (err) {
          this.#sends.remove(data.length);
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
      this.#sends.remove(data.length);
      // Without a callback Node drops a send's system error silently; so do we.
      if (cb) cb(systemError(code, { syscall: 'send', address: ip, port }));
    };
    const target = this.#family.destination(ip);
    if (target === undefined) return fail('EINVAL');
    if (!this.#family.fits(target, data.length)) return fail('EMSGSIZE');
    if (!this.#options.broadcast && isBroadcast(target, this.#channel.subnets()))
      return fail('EACCES');
    this.#traffic.outbound(data.length, () => {
      this.#sends.remove(data.length);
      if (this.#closed) return;
      this.#channel.native.udpSend(this.#binding.id, target, port, data);
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
    this.#sends.clear();
    this.#groups.leaveAll(this.#nodeGone);
    this.#updateHold();
    this.#traffic.close();
    this.#binding.close(this.#nodeGone);
    process.nextTick(() => this.emit('close'));
  }

  address(): NativeEndpoint {
    this.#healthCheck();
    return this.#binding.address();
  }

  remoteAddress(): NativeEndpoint {
    this.#healthCheck();
    return this.#peer.address();
  }

  setBroadcast(flag: boolean): void {
    this.#requireBound('setBroadcast');
    this.#options.broadcast = !!flag;
  }

  /** Checked as Node does and returned; the ZeroTier stack sends with its own TTL. */
  setTTL(ttl: number): number {
    this.#healthCheck();
    return this.#options.ttl(ttl, 'setTTL', 1, this.#binding.bound);
  }

  setMulticastTTL(ttl: number): number {
    this.#healthCheck();
    return this.#options.ttl(ttl, 'setMulticastTTL', 0, this.#binding.bound);
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
    return this.#options.bufferSize('recv', this.#binding.bound);
  }
  getSendBufferSize(): number {
    this.#healthCheck();
    return this.#options.bufferSize('send', this.#binding.bound);
  }
  setRecvBufferSize(size: number): void {
    this.#healthCheck();
    this.#options.setBufferSize('recv', size, this.#binding.bound);
  }
  setSendBufferSize(size: number): void {
    this.#healthCheck();
    this.#options.setBufferSize('send', size, this.#binding.bound);
  }

  /** Bytes waiting for a bind, a lookup or the rate limit. */
  getSendQueueSize(): number {
    return this.#sends.bytes;
  }
  getSendQueueCount(): number {
    return this.#sends.count;
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
    const want = !this.#closed && this.#refd && !this.#binding.unbound;
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
      const err = this.#binding.answered(e);
      if (err !== undefined) {
        this.#bindFailed(err);
        return;
      }
      this.emit('listening');
      this.#binding.connectWaiting();
      this.#flush();
    } else if (e.kind === 'message' && e.remote !== undefined) {
      // The engine leaves `data` out of an empty datagram's event.
      const data = e.data ?? Buffer.alloc(0);
      const from = this.#family.asSeen(e.remote);
      if (from === undefined || !this.#peer.hears(from)) return;
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

  #whenBound(go: () => void): void {
    if (this.#binding.bound) go();
    else this.#sends.wait(go);
  }

  #flush(): void {
    this.#sends.flush(() => this.#binding.bound && !this.#peer.connecting);
  }

  /** Unbound again (a later bind may succeed); the failed bind's callback is dropped. */
  #bindFailed(err: Error): void {
    this.#binding.failed();
    this.#updateHold();
    this.emit('error', err);
    if (this.#bindCallback) this.off('listening', this.#bindCallback);
    this.#bindCallback = undefined;
  }

  #healthCheck(): void {
    if (this.#closed) throw notRunning();
  }

  #requireBound(syscall: string): void {
    this.#healthCheck();
    if (!this.#binding.bound) throw optionError(syscall, 'EBADF');
  }
}
