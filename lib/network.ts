/**
 * Networks: joining returns a NetworkLease; the network is left when its last lease is
 * released. Configs are cached in the storage folder (networks.d/<id>.conf), as a stock
 * node does, so a restarted node rejoins at once with the config it had.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

import { writeFileAtomic } from './storage.js';
import { invalidArgType, validateInteger, validateString } from './validate.js';

export type NetworkStatus =
  'REQUESTING_CONFIGURATION' | 'OK' | 'ACCESS_DENIED' | 'NOT_FOUND' | 'AUTHENTICATION_REQUIRED';

export interface NetworkRoute {
  target: string;
  via: string | null;
}

/** A network's DNS setting, as its controller pushes it (stock: `dns` of the network). */
export interface NetworkDns {
  /** The search domain: names under it are asked of `servers`. */
  domain: string;
  /** Up to four server IPs on the network. */
  servers: string[];
}

export interface NetworkInfo {
  /** 16 hex digits. */
  id: string;
  status: NetworkStatus;
  /** Our MAC on this network. */
  mac: string;
  name?: string;
  mtu?: number;
  type?: 'private' | 'public';
  revision?: number;
  /** Assigned addresses, "ip/bits". */
  addresses: string[];
  routes: NetworkRoute[];
  /** The DNS setting, when the controller sends one. */
  dns?: NetworkDns;
}

/** What a NetworkLease needs from the node. @internal */
export interface NetworkHost {
  /** false (and nothing joined) when `cached` is not a config of this network for us. */
  nativeJoin(id: string, cached?: Uint8Array): boolean;
  nativeLeave(id: string): void;
  networkInfos(): Promise<NetworkInfo[]>;
  dnsOf(id: string): NetworkDns | undefined;
  readonly storagePath: string | undefined;
  on(
    event: 'network-status',
    listener: (e: { network: string; status: NetworkStatus }) => void,
  ): unknown;
  off(
    event: 'network-status',
    listener: (e: { network: string; status: NetworkStatus }) => void,
  ): unknown;
  on(event: 'network-config', listener: (e: { network: string }) => void): unknown;
  off(event: 'network-config', listener: (e: { network: string }) => void): unknown;
}

export function normalizeNetworkId(id: unknown): string {
  validateString(id, 'networkId');
  if (!/^[0-9a-fA-F]{16}$/.test(id)) {
    throw invalidArgType('networkId', 'a 16-digit hex ZeroTier network id', id);
  }
  return id.toLowerCase();
}

export function cacheFile(storage: string, id: string): string {
  return path.join(storage, 'networks.d', `${id}.conf`);
}

export async function readCachedConfig(
  storage: string | undefined,
  id: string,
): Promise<Buffer | undefined> {
  if (storage === undefined) return undefined;
  try {
    return await readFile(cacheFile(storage, id));
  } catch {
    return undefined;
  }
}

export async function writeCachedConfig(
  storage: string,
  id: string,
  dict: Uint8Array,
): Promise<void> {
  await mkdir(path.join(storage, 'networks.d'), { recursive: true });
  await writeFileAtomic(cacheFile(storage, id), dict, 0o600);
}

export async function removeCachedConfig(storage: string | undefined, id: string): Promise<void> {
  if (storage !== undefined) await rm(cacheFile(storage, id), { force: true });
}

function statusError(id: string, status: NetworkStatus): Error {
  const e = new Error(`network ${id}: ${status}`);
  (e as Error & { code: string }).code = `ERR_ZT_NETWORK_${status}`;
  return e;
}

/** A share of a joined network. Disposable: `using lease = await node.join(id)`. */
export class NetworkLease implements Disposable, AsyncDisposable {
  #released = false;

  constructor(
    readonly id: string,
    private readonly host: NetworkHost,
    private readonly onRelease: (lease: NetworkLease) => Promise<void>,
  ) {}

  get released(): boolean {
    return this.#released;
  }

  /**
   * The network's DNS setting (search domain and servers) from its latest config, or
   * undefined when the controller sends none. Names under the domain resolve through
   * `lookup` and the sockets.
   */
  get dns(): NetworkDns | undefined {
    return this.host.dnsOf(this.id);
  }

  /** The network as the node has it now. */
  async info(): Promise<NetworkInfo> {
    const found = (await this.host.networkInfos()).find((n) => n.id === this.id);
    if (found === undefined) throw statusError(this.id, 'NOT_FOUND');
    return found;
  }

  /**
   * Resolves once the network is OK (configured) with at least one address; rejects with
   * ERR_ZT_NETWORK_ACCESS_DENIED / _NOT_FOUND, or ETIMEDOUT. With `waitForAuthorization`,
   * a denial is not final: it waits (up to the timeout) for the controller to let us in.
   */
  async ready(
    options: { timeoutMs?: number; waitForAuthorization?: boolean } = {},
  ): Promise<NetworkInfo> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    validateInteger(timeoutMs, 'options.timeoutMs', 1, 2 ** 31 - 1);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await this.info();
      if (info.status === 'OK' && info.addresses.length > 0) return info;
      const denied = info.status === 'ACCESS_DENIED' && !options.waitForAuthorization;
      if (denied || info.status === 'NOT_FOUND') throw statusError(this.id, info.status);
      const left = deadline - Date.now();
      if (left <= 0) {
        const e = new Error(`network ${this.id} not ready in ${timeoutMs} ms (${info.status})`);
        (e as Error & { code: string }).code = 'ETIMEDOUT';
        throw e;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.host.off('network-status', onStatus);
          this.host.off('network-config', onConfig);
          resolve();
        };
        const onStatus = (e: { network: string }) => e.network === this.id && done();
        const onConfig = (e: { network: string }) => e.network === this.id && done();
        const timer = setTimeout(done, Math.min(left, 1000));
        this.host.on('network-status', onStatus);
        this.host.on('network-config', onConfig);
      });
    }
  }

  /** Gives up this share; the network is left with the last one. Idempotent. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.onRelease(this);
  }

  [Symbol.dispose](): void {
    void this.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}
