/**
 * A UDP socket's connected peer (dgram's connect). Connecting is done here, not in the
 * stack: a connected socket sends to its peer and hears only it, as a connected kernel
 * socket does.
 */
import { systemError } from '../errors.js';
import type { NativeEndpoint } from '../native.js';
import { isConnected, notConnected } from './dgram-args.js';
import type { UdpFamily } from './udp-family.js';
import { inNodeOrder } from './udp-options.js';

const enum Link {
  Disconnected,
  Connecting,
  Connected,
}

export class UdpPeer {
  #link = Link.Disconnected;
  #remote: NativeEndpoint | undefined;

  constructor(readonly family: UdpFamily) {}

  /**
   * connect() began: the peer is looked up once the socket is bound. A socket connected or
   * connecting already throws ERR_SOCKET_DGRAM_IS_CONNECTED.
   */
  begin(): void {
    if (this.#link !== Link.Disconnected) throw isConnected();
    this.#link = Link.Connecting;
  }

  /**
   * The peer looked up: connected to `ip` and `port`, or the connect's error (the lookup's,
   * or EINVAL for an address not of the socket's family) and disconnected again.
   */
  resolved(err: Error | null, ip: string, port: number): Error | null {
    if (!err && !this.family.has(ip)) {
      err = systemError('EINVAL', { syscall: 'connect', address: ip, port });
    }
    if (err) {
      this.#link = Link.Disconnected;
      return err;
    }
    this.#remote = { address: ip, family: this.family.name, port };
    this.#link = Link.Connected;
    return null;
  }

  /** disconnect(): ERR_SOCKET_DGRAM_NOT_CONNECTED unless connected. */
  disconnect(): void {
    if (this.#link !== Link.Connected) throw notConnected();
    this.#link = Link.Disconnected;
    this.#remote = undefined;
  }

  get connecting(): boolean {
    return this.#link === Link.Connecting;
  }

  /** The peer while connected. */
  get remote(): NativeEndpoint | undefined {
    return this.#link === Link.Connected ? this.#remote : undefined;
  }

  /** remoteAddress(): the peer, in Node's key order. */
  address(): NativeEndpoint {
    if (this.#link !== Link.Connected || this.#remote === undefined) throw notConnected();
    return inNodeOrder(this.#remote);
  }

  /** Whether a datagram from `from` may be heard: a connected socket hears only its peer. */
  hears(from: NativeEndpoint): boolean {
    const r = this.#remote;
    return !(
      this.#link === Link.Connected &&
      r &&
      (r.address !== from.address || r.port !== from.port)
    );
  }
}
