/**
 * NodeService: the process's one ZeroTier node, shared and reference counted. It starts
 * on the first acquire() and stops when the last NodeRef is released.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import path from 'node:path';

import { Identity } from './identity.js';
import { addon, type NativeNode, type NativeNodeEvent, type NativeSocketEvent } from './native.js';
import { NetworkNames } from './dns/network-lookup.js';
import { SocketChannel } from './sockets/channel.js';
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
import { parsePlanet } from './planet.js';
import { loadOrCreateIdentity, lockStorage, readStoredPlanet } from './storage.js';
import { invalidArgType, validateInteger, validateString } from './validate.js';

export interface NodeOptions {
  /** Folder for identity.secret / identity.public (and an optional `planet`). */
  storagePath?: string;
  /** An identity in memory instead of a storage folder; it must have its private key. */
  identity?: Identity;
  /** A custom planet: its bytes or a file path. Default: `planet` in the storage folder, else Earth. */
  planet?: Uint8Array | string;
  /** UDP port; 0 or absent for a random free one. */
  port?: number;
  /** Lab mode: loopback paths are accepted (for an offline lab on one machine). Needs a custom planet. */
  lab?: boolean;
  /** Act as a root: relay and introduce peers (what the lab's root does). */
  root?: boolean;
  /** Local addresses to bind (default all). bindV6 '' disables IPv6. */
  bindV4?: string;
  bindV6?: string;
  /** Controller role, for the lab: saved state to start from ('' for none). */
  controllerState?: string;
}

export interface NodeCounters {
  datagramsIn: number;
  datagramsOut: number;
  packetsIn: number;
  packetsOut: number;
  relayed: number;
  /** Dropped packets by reason (bad_mac, malformed, not_for_us, ...). */
  dropped: Record<string, number>;
}

export interface PathInfo {
  address: string;
  lastReceive: number;
  latency: number;
  alive: boolean;
}

export interface PeerInfo {
  address: string;
  root: boolean;
  latency: number;
  version: string;
  protocol: number;
  lastReceive: number;
  paths: PathInfo[];
}

/**
 * 'none': a reporter sees one of this host's own addresses and our port; 'consistent':
 * every reporter sees the same endpoint (a cone NAT, direct paths likely); 'symmetric':
 * reporters see different ports (direct paths unlikely); 'unknown': too few reports.
 */
export type NatType = 'none' | 'consistent' | 'symmetric' | 'unknown';

export interface ExternalAddresses {
  /** What each reporting root or peer (by ZeroTier address) sees us as, "ip/port". */
  reports: Array<{ reporter: string; address: string }>;
  nat: NatType;
}

export interface EchoResult {
  /** Round trip in ms. */
  rtt: number;
  payload: Buffer;
}

interface Status {
  address: string;
  online: boolean;
  planetId: number;
  planetTimestamp: number;
  externalAddresses: Array<{ reporter: string; address: string }>;
}

function nodeError(code: string, message: string): Error {
  const e = new Error(message);
  (e as Error & { code: string }).code = code;
  return e;
}

export function classifyNat(
  reports: Array<{ address: string }>,
  localPort: number,
  localIps: ReadonlySet<string>,
): NatType {
  if (reports.length === 0) return 'unknown';
  const split = reports.map((r) => {
    const slash = r.address.lastIndexOf('/');
    return { ip: r.address.slice(0, slash), port: Number(r.address.slice(slash + 1)) };
  });
  if (new Set(split.map((s) => s.port)).size > 1) return 'symmetric';
  if (split.every((s) => localIps.has(s.ip) && s.port === localPort)) return 'none';
  if (new Set(split.map((s) => `${s.ip}/${s.port}`)).size === 1 && reports.length >= 2) {
    return 'consistent';
  }
  return 'unknown';
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

  constructor(identity: Identity, native: NativeNode, storagePath?: string) {
    super();
    this.identity = identity;
    this.#native = native;
    this.storagePath = storagePath;
    this.sockets = new SocketChannel(native);
    this.names = new NetworkNames(this);
    // Sockets given a host name resolve it here (IPv4 first).
    this.sockets.resolveHost = async (host, family) => {
      const [first] = await this.names.resolve(host, family);
      if (first === undefined) throw new Error(`${host}: no address`); // resolve() never does this
      return first;
    };
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
          this.emit('network-config', { network: e.network });
          break;
        case 'network-left':
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

/** A share of the node; release it (or let `using` do so) when done. */
export class NodeRef implements Disposable, AsyncDisposable {
  #released = false;
  constructor(readonly node: ZeroTierNode) {}

  get released(): boolean {
    return this.#released;
  }

  /** Gives up this share; the node stops with the last one. Idempotent. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    NodeService._release();
  }

  [Symbol.dispose](): void {
    void this.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

async function resolveOptions(
  options: NodeOptions,
): Promise<{ identity: Identity; planet?: Buffer }> {
  if (options.identity !== undefined && !(options.identity instanceof Identity)) {
    throw invalidArgType('options.identity', 'an instance of Identity', options.identity);
  }
  if (options.storagePath !== undefined) validateString(options.storagePath, 'options.storagePath');
  if (options.port !== undefined) validateInteger(options.port, 'options.port', 0, 65535);
  let identity: Identity;
  if (options.identity !== undefined) {
    if (!options.identity.hasPrivate) {
      throw nodeError('ERR_ZT_NO_PRIVATE_KEY', 'options.identity needs its private key');
    }
    identity = options.identity;
  } else if (options.storagePath !== undefined) {
    identity = await loadOrCreateIdentity(options.storagePath);
  } else {
    identity = await Identity.generate();
  }
  let planet: Buffer | undefined;
  let planetFile: string | undefined;
  if (typeof options.planet === 'string') {
    planetFile = options.planet;
    planet = await readFile(options.planet);
  } else if (options.planet !== undefined) {
    planet = Buffer.from(options.planet);
  } else if (options.storagePath !== undefined) {
    planetFile = path.join(options.storagePath, 'planet');
    planet = await readStoredPlanet(options.storagePath);
  }
  if (planet !== undefined && planetFile !== undefined && addon.parsePlanet(planet) === null) {
    throw nodeError(
      'ERR_ZT_CORRUPT_PLANET',
      `${planetFile}: not a ZeroTier planet; refusing to start (the file is left as it is)`,
    );
  }
  if (planet !== undefined) parsePlanet(planet);
  // A lab runs offline: with Earth's roots it would reach out to the internet instead.
  if (options.lab && planet === undefined) {
    throw nodeError('ERR_ZT_LAB_NEEDS_PLANET', 'lab mode needs a custom planet (options.planet)');
  }
  return { identity, planet };
}

interface Running {
  node: ZeroTierNode;
  refs: number;
  options: NodeOptions;
}

let current: Running | undefined;
let starting: Promise<Running> | undefined;

async function startNode(opts: NodeOptions): Promise<Running> {
  if (opts.storagePath !== undefined) validateString(opts.storagePath, 'options.storagePath');
  // Taken before the folder is read: a second process fails here, before it makes or reads
  // an identity. Held until the node closes.
  const lock = opts.storagePath !== undefined ? lockStorage(opts.storagePath) : undefined;
  try {
    return await startLockedNode(opts, () => lock?.release());
  } catch (e) {
    lock?.release();
    throw e;
  }
}

async function startLockedNode(opts: NodeOptions, releaseLock: () => void): Promise<Running> {
  const { identity, planet } = await resolveOptions(opts);
  // Events can only arrive after the constructor returns, through the event loop.
  const sink: { node?: ZeroTierNode } = {};
  const native = new addon.NativeNode(
    {
      identity: identity.toSecretString(),
      ...(planet !== undefined ? { planet } : {}),
      port: opts.port ?? 0,
      lab: !!opts.lab,
      root: !!opts.root,
      ...(opts.bindV4 !== undefined ? { bindV4: opts.bindV4 } : {}),
      ...(opts.bindV6 !== undefined ? { bindV6: opts.bindV6 } : {}),
      ...(opts.controllerState !== undefined
        ? { controller: true, controllerState: opts.controllerState }
        : {}),
    },
    (events) => sink.node?._onEvents(events),
  );
  sink.node = new ZeroTierNode(identity, native, opts.storagePath);
  sink.node.once('closed', releaseLock);
  current = { node: sink.node, refs: 0, options: opts };
  return current;
}

function sameOptions(a: NodeOptions, b: NodeOptions): boolean {
  return (
    a.storagePath === b.storagePath &&
    a.identity === b.identity &&
    (a.port ?? 0) === (b.port ?? 0) &&
    !!a.lab === !!b.lab &&
    !!a.root === !!b.root
  );
}

export const NodeService = {
  /**
   * A share of the process's node, starting it on first use with `options`. Later calls
   * may omit options; passing different ones while the node runs throws
   * ERR_ZT_NODE_RUNNING.
   */
  async acquire(options?: NodeOptions): Promise<NodeRef> {
    // A start under way (another caller's) finishes first; its options then apply.
    if (starting !== undefined) await starting.catch(() => undefined);
    let running = current !== undefined && !current.node.closed ? current : undefined;
    if (running !== undefined) {
      if (options !== undefined && !sameOptions(options, running.options)) {
        throw nodeError('ERR_ZT_NODE_RUNNING', 'the node is already running with other options');
      }
    } else {
      starting = startNode(options ?? {});
      try {
        running = await starting;
      } finally {
        starting = undefined;
      }
    }
    running.refs++;
    return new NodeRef(running.node);
  },

  /** The running node, if any. */
  get node(): ZeroTierNode | undefined {
    return current !== undefined && !current.node.closed ? current.node : undefined;
  },

  /** @internal */
  _release(): void {
    if (current === undefined) return;
    current.refs--;
    if (current.refs <= 0) {
      current.node._close();
      current = undefined;
    }
  },
};
