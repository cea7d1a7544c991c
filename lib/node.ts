/**
 * NodeService: the process's one ZeroTier node, shared and reference counted. It starts
 * on the first acquire() and stops when the last NodeRef is released.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';

import { Identity } from './identity.js';
import { type NativeNode, type NativeNodeEvent, type NativeSocketEvent } from './native.js';
import { NetworkNames } from './dns/network-lookup.js';
import { SocketChannel } from './sockets/channel.js';
import type { NodeTrafficMetrics, RateLimits } from './sockets/traffic.js';
import {
  cacheFile,
  NetworkLease,
  normalizeNetworkId,
  readCachedConfig,
  removeCachedConfig,
  writeCachedConfig,
  type NetworkDns,
  type NetworkHost,
  type NetworkInfo,
  type NetworkStatus,
} from './network.js';
import { invalidArgType, validateInteger, validateString } from './validate.js';
import {
  classifyNat,
  type EchoResult,
  type ExternalAddresses,
  type NodeCounters,
  type PeerInfo,
} from './node-types.js';

interface Status {
  address: string;
  online: boolean;
  planetId: number;
  planetTimestamp: number;
  externalAddresses: Array<{ reporter: string; address: string }>;
}

export function nodeError(code: string, message: string): Error {
  const e = new Error(message);
  (e as Error & { code: string }).code = code;
  return e;
}

/**
 * The running node. Events: 'online', 'offline', 'peer', 'path', 'path-lost',
 * 'external-address', 'planet', 'peer-error', 'user-message', 'network-status',
 * 'network-config', 'network-left', 'closed'.
 */
export class ZeroTierNode extends EventEmitter implements NetworkHost {
  readonly identity: Identity;
  readonly storagePath: string | undefined;
  readonly #native: NativeNode;
  readonly #leases = new Map<string, number>();
  #subnets: string[] = [];
  #online = false;
  #closed = false;
  readonly #echoes = new Map<
    string,
    { resolve: (r: EchoResult | null) => void; timer: NodeJS.Timeout }
  >();

  readonly #dns = new Map<string, NetworkDns>();

  /** @internal: where this node's sockets are registered. */
  readonly sockets: SocketChannel;
  /** Names on this node's networks, through their DNS servers (see `lookup`). */
  readonly names: NetworkNames;

  /** The network acquireDefault() and the socket APIs use, if one is configured. */
  readonly defaultNetwork: string | undefined;

  constructor(
    identity: Identity,
    native: NativeNode,
    storagePath?: string,
    defaultNetwork?: string,
  ) {
    super();
    this.identity = identity;
    this.#native = native;
    this.storagePath = storagePath;
    this.defaultNetwork = defaultNetwork;
    this.sockets = new SocketChannel(native);
    this.names = new NetworkNames(this);
    // Sockets given a host name resolve it here (IPv4 first).
    this.sockets.resolveHost = async (host, family) => {
      const [first] = await this.names.resolve(host, family);
      if (first === undefined) throw new Error(`${host}: no address`); // resolve() never does this
      return first;
    };
    this.sockets.subnets = () => this.#subnets;
  }

  /** How many leases the app holds on a network (0 when it has not joined). */
  leases(networkId: string): number {
    return this.#leases.get(normalizeNetworkId(networkId)) ?? 0;
  }

  /**
   * Send and receive limits for the whole node, in bytes a second (null or Infinity:
   * none); they apply with each socket's own. Honoured by backpressure, never by
   * dropping; they may change at any time.
   */
  setRateLimit(limits: RateLimits): this {
    this.sockets.traffic.setLimits(limits);
    return this;
  }

  /** A snapshot of the node's traffic: bytes, current rates, limits, connections. */
  metrics(): NodeTrafficMetrics {
    return this.sockets.traffic.metrics();
  }

  // Our subnets, kept for the sockets' broadcast checks (which cannot wait for a query).
  #refreshSubnets(): void {
    this.networkInfos()
      .then((infos) => (this.#subnets = infos.flatMap((n) => n.addresses)))
      .catch(() => undefined);
  }

  /**
   * Joins a network and returns a lease on it; the network is left when the last lease is
   * released. A config cached by an earlier run applies at once.
   */
  async join(networkId: string): Promise<NetworkLease> {
    this.#requireOpen();
    const id = normalizeNetworkId(networkId);
    const count = this.#leases.get(id) ?? 0;
    this.#leases.set(id, count + 1);
    if (count === 0) {
      const cached = await readCachedConfig(this.storagePath, id);
      if (!this.nativeJoin(id, cached)) {
        const left = (this.#leases.get(id) ?? 1) - 1;
        if (left > 0) this.#leases.set(id, left);
        else this.#leases.delete(id);
        // Refused rather than replaced: the file is left as it is, for the user to look at.
        throw nodeError(
          'ERR_ZT_CORRUPT_NETWORK_CONFIG',
          `${cacheFile(this.storagePath ?? '', id)}: not a cached config of network ${id} ` +
            `for node ${this.address}; refusing to join (the file is left as it is; delete ` +
            `it to fetch the config again)`,
        );
      }
    }
    return new NetworkLease(id, this, async () => {
      const left = (this.#leases.get(id) ?? 1) - 1;
      if (left > 0) {
        this.#leases.set(id, left);
        return;
      }
      this.#leases.delete(id);
      if (!this.#closed) {
        this.nativeLeave(id);
        await removeCachedConfig(this.storagePath, id);
      }
    });
  }

  /** The joined networks with their status, addresses and routes. */
  async networks(): Promise<NetworkInfo[]> {
    this.#requireOpen();
    return this.networkInfos();
  }

  /**
   * The controller's API (lab nodes only): one operation with the stock JSON shapes.
   * @internal
   */
  async controllerCall(
    op: string,
    nwid = '',
    member = '',
    body = '',
  ): Promise<{ status: number; body: unknown }> {
    this.#requireOpen();
    return JSON.parse(await this.#native.controllerCall(op, nwid, member, body)) as {
      status: number;
      body: unknown;
    };
  }

  /** @internal */
  nativeJoin(id: string, cached?: Uint8Array): boolean {
    return this.#native.join(id, cached);
  }

  /** @internal */
  nativeLeave(id: string): void {
    this.#native.leave(id);
  }

  /** @internal */
  async networkInfos(): Promise<NetworkInfo[]> {
    if (this.#closed) return [];
    const infos = JSON.parse(await this.#native.query('networks')) as NetworkInfo[];
    this.#dns.clear();
    for (const info of infos) if (info.dns !== undefined) this.#dns.set(info.id, info.dns);
    return infos;
  }

  /** @internal: the DNS setting of a joined network, as of its latest config. */
  dnsOf(id: string): NetworkDns | undefined {
    return this.#dns.get(id);
  }

  /** This node's ZeroTier address (10 hex digits). */
  get address(): string {
    return this.#native.address;
  }

  /** The UDP port the node listens on. */
  get port(): number {
    return this.#native.port;
  }

  /**
   * ref() (the default) keeps the process alive while the node runs; after unref() only
   * open sockets and servers that are ref'd do, as handles do in Node.
   */
  ref(): this {
    if (!this.#closed) this.sockets.holdNode(true);
    return this;
  }

  unref(): this {
    if (!this.#closed) this.sockets.holdNode(false);
    return this;
  }

  /** Whether a root has answered recently. */
  get online(): boolean {
    return this.#online;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when the node is online; rejects with ETIMEDOUT after `timeoutMs`. */
  waitOnline(timeoutMs = 30_000): Promise<void> {
    if (this.#online) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('online', onOnline);
        reject(
          nodeError('ETIMEDOUT', `node ${this.address} did not come online in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onOnline = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('online', onOnline);
    });
  }

  /**
   * Sends ECHO to a ZeroTier node and resolves with the round trip, or `null` when no
   * answer comes within `timeoutMs`.
   */
  echo(address: string, options: { timeoutMs?: number } = {}): Promise<EchoResult | null> {
    this.#requireOpen();
    validateString(address, 'address');
    if (!/^[0-9a-fA-F]{10}$/.test(address)) {
      throw invalidArgType('address', 'a 10-digit hex ZeroTier address', address);
    }
    const timeoutMs = options.timeoutMs ?? 5000;
    validateInteger(timeoutMs, 'options.timeoutMs', 1, 2 ** 31 - 1);
    const token = randomBytes(8);
    const key = `${address.toLowerCase()}:${token.toString('hex')}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#echoes.delete(key);
        resolve(null);
      }, timeoutMs);
      this.#echoes.set(key, { resolve, timer });
      this.#native.echo(address.toLowerCase(), token);
    });
  }

  async counters(): Promise<NodeCounters> {
    this.#requireOpen();
    return JSON.parse(await this.#native.query('counters')) as NodeCounters;
  }

  async peers(): Promise<PeerInfo[]> {
    this.#requireOpen();
    return JSON.parse(await this.#native.query('peers')) as PeerInfo[];
  }

  /** Where roots and peers see us (from their OK(HELLO)s), with a NAT classification. */
  async externalAddresses(): Promise<ExternalAddresses> {
    this.#requireOpen();
    const status = JSON.parse(await this.#native.query('status')) as Status;
    const localIps = new Set(
      Object.values(networkInterfaces())
        .flat()
        .flatMap((i) => (i ? [i.address] : [])),
    );
    return {
      reports: status.externalAddresses,
      nat: classifyNat(status.externalAddresses, this.port, localIps),
    };
  }

  /** @internal */
  _onEvents(events: Array<NativeNodeEvent | NativeSocketEvent>): void {
    for (const e of events) {
      if (e.type === 'socket') {
        try {
          this.sockets.dispatch(e);
        } catch (err) {
          // A listener's exception must not cost the rest of the batch; it still surfaces.
          queueMicrotask(() => {
            throw err;
          });
        }
        continue;
      }
      switch (e.type) {
        case 'online':
          this.#online = true;
          this.emit('online');
          break;
        case 'offline':
          this.#online = false;
          this.emit('offline');
          break;
        case 'echo': {
          const key = `${e.address}:${e.data?.toString('hex') ?? ''}`;
          const waiting = this.#echoes.get(key);
          if (waiting) {
            clearTimeout(waiting.timer);
            this.#echoes.delete(key);
            waiting.resolve({ rtt: e.value, payload: e.data ?? Buffer.alloc(0) });
          }
          break;
        }
        case 'peer':
          this.emit('peer', { address: e.address });
          break;
        case 'path':
          this.emit('path', { address: e.address, path: e.path, latency: e.value });
          break;
        case 'path-lost':
          this.emit('path-lost', { address: e.address, path: e.path });
          break;
        case 'external-address':
          this.emit('external-address', { reporter: e.address, address: e.path });
          break;
        case 'planet':
          this.emit('planet', e.data);
          break;
        case 'error':
          this.emit('peer-error', { address: e.address, code: e.value, data: e.data });
          break;
        case 'user-message':
          this.emit('user-message', { address: e.address, type: e.value, data: e.data });
          break;
        case 'network-status':
          this.emit('network-status', { network: e.network, status: e.status as NetworkStatus });
          break;
        case 'network-config':
          if (this.storagePath !== undefined && e.network !== undefined && e.data !== undefined) {
            // Best effort: a failed cache write costs only a slower rejoin after a restart.
            writeCachedConfig(this.storagePath, e.network, e.data).catch(() => undefined);
          }
          // Keeps lease.dns current without waiting for anyone to ask.
          this.networkInfos().catch(() => undefined);
          this.#refreshSubnets();
          this.emit('network-config', { network: e.network });
          break;
        case 'network-left':
          this.#refreshSubnets();
          this.emit('network-left', { network: e.network });
          break;
      }
    }
  }

  /** @internal */
  _close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.sockets.closeAll();
    this.#native.close();
    for (const { resolve, timer } of this.#echoes.values()) {
      clearTimeout(timer);
      resolve(null);
    }
    this.#echoes.clear();
    this.#online = false;
    this.emit('closed');
  }

  #requireOpen(): void {
    if (this.#closed) throw nodeError('ERR_ZT_NODE_CLOSED', 'the node is closed');
  }
}

export { NodeRef, NodeService, runningNode, type DefaultNetwork } from './node-service.js';
export * from './node-types.js';
