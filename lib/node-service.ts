/**
 * NodeService: the process's one ZeroTier node, shared and reference counted. It starts
 * on the first acquire() and stops when the last NodeRef is released. Its options come
 * from code, the command line, the environment and a config file (node-config.ts).
 */
import { access, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { Identity } from './identity.js';
import { addon } from './native.js';
import type { NetworkInfo, NetworkLease } from './network.js';
import { nodeError, ZeroTierNode, type NodeOptions } from './node.js';
import { resolveSettings } from './node-config.js';
import { parsePlanet } from './planet.js';
import { loadOrCreateIdentity, lockStorage, readStoredPlanet } from './storage.js';
import { checkDeadPeerTimeout } from './sockets/liveness.js';
import { invalidArgType, validateString } from './validate.js';

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

/** A share of the node and a lease on its default network, released together. */
export interface DefaultNetwork extends AsyncDisposable {
  readonly node: ZeroTierNode;
  readonly ref: NodeRef;
  readonly lease: NetworkLease;
  /** The network id (16 hex digits). */
  readonly id: string;
  /** Resolves once the network is configured (see NetworkLease.ready). */
  ready(options?: Parameters<NetworkLease['ready']>[0]): Promise<NetworkInfo>;
  release(): Promise<void>;
}

async function loadOrCreateIdentityFile(file: string): Promise<Identity> {
  try {
    await access(file);
  } catch {
    const identity = await Identity.generate();
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const publicFile = file.endsWith('.secret')
      ? `${file.slice(0, -'.secret'.length)}.public`
      : `${file}.public`;
    await identity.writeFiles(file, publicFile);
    return identity;
  }
  const identity = await Identity.fromFile(file);
  if (!identity.hasPrivate) {
    throw nodeError('ERR_ZT_NO_PRIVATE_KEY', `${file} holds no private key`);
  }
  return identity;
}

interface Resolved {
  identity: Identity;
  planet?: Buffer;
  port: number;
  defaultNetwork?: string;
}

async function resolveOptions(options: NodeOptions): Promise<Resolved> {
  if (options.identity !== undefined && !(options.identity instanceof Identity)) {
    throw invalidArgType('options.identity', 'an instance of Identity', options.identity);
  }
  if (options.storagePath !== undefined) validateString(options.storagePath, 'options.storagePath');
  if (options.configPath !== undefined) validateString(options.configPath, 'options.configPath');
  const settings = await resolveSettings({
    ...(options.identityPath !== undefined ? { identityPath: options.identityPath } : {}),
    ...(options.defaultNetwork !== undefined ? { defaultNetwork: options.defaultNetwork } : {}),
    ...(typeof options.planet === 'string' ? { planetPath: options.planet } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.configPath !== undefined ? { configPath: options.configPath } : {}),
  });
  let identity: Identity;
  if (options.identity !== undefined) {
    if (!options.identity.hasPrivate) {
      throw nodeError('ERR_ZT_NO_PRIVATE_KEY', 'options.identity needs its private key');
    }
    identity = options.identity;
  } else if (settings.identityPath !== undefined) {
    identity = await loadOrCreateIdentityFile(path.resolve(settings.identityPath));
  } else if (options.storagePath !== undefined) {
    identity = await loadOrCreateIdentity(options.storagePath);
  } else {
    identity = await Identity.generate();
  }
  let planet: Buffer | undefined;
  let planetFile: string | undefined;
  if (options.planet !== undefined && typeof options.planet !== 'string') {
    planet = Buffer.from(options.planet);
  } else if (settings.planetPath !== undefined) {
    planetFile = settings.planetPath;
    planet = await readFile(settings.planetPath);
  } else if (options.storagePath !== undefined) {
    planetFile = path.join(options.storagePath, 'planet');
    planet = await readStoredPlanet(options.storagePath);
  }
  // A damaged planet file is refused as it is, never replaced.
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
  return {
    identity,
    port: settings.port ?? 0,
    ...(planet !== undefined ? { planet } : {}),
    ...(settings.defaultNetwork !== undefined ? { defaultNetwork: settings.defaultNetwork } : {}),
  };
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
  const { identity, planet, port, defaultNetwork } = await resolveOptions(opts);
  // Events can only arrive after the constructor returns, through the event loop.
  const sink: { node?: ZeroTierNode } = {};
  const native = new addon.NativeNode(
    {
      identity: identity.toSecretString(),
      ...(planet !== undefined ? { planet } : {}),
      port,
      lab: !!opts.lab,
      root: !!opts.root,
      ...(opts.bindV4 !== undefined ? { bindV4: opts.bindV4 } : {}),
      ...(opts.bindV6 !== undefined ? { bindV6: opts.bindV6 } : {}),
      ...(opts.deadPeerTimeout !== undefined ? { deadPeerTimeoutMs: opts.deadPeerTimeout } : {}),
      ...(opts.controllerState !== undefined
        ? { controller: true, controllerState: opts.controllerState }
        : {}),
    },
    (events) => {
      try {
        sink.node?._onEvents(events);
      } catch (err) {
        // A listener's exception surfaces as uncaught, as an event listener's does, but
        // not through the addon (which must not see JS exceptions: see its drain()).
        queueMicrotask(() => {
          throw err;
        });
      }
    },
  );
  sink.node = new ZeroTierNode(identity, native, opts.storagePath, defaultNetwork);
  sink.node.once('closed', releaseLock);
  current = { node: sink.node, refs: 0, options: opts };
  return current;
}

function sameOptions(a: NodeOptions, b: NodeOptions): boolean {
  return (
    a.storagePath === b.storagePath &&
    a.identity === b.identity &&
    a.identityPath === b.identityPath &&
    (a.defaultNetwork ?? '').toLowerCase() === (b.defaultNetwork ?? '').toLowerCase() &&
    (a.port ?? 0) === (b.port ?? 0) &&
    a.deadPeerTimeout === b.deadPeerTimeout &&
    !!a.lab === !!b.lab &&
    !!a.root === !!b.root
  );
}

export const NodeService = {
  /**
   * A share of the process's node, starting it on first use with `options` (and the
   * command line, environment and config file for what they leave out). Later calls may
   * omit options; passing different ones while the node runs throws ERR_ZT_NODE_RUNNING.
   */
  async acquire(options?: NodeOptions): Promise<NodeRef> {
    if (options?.deadPeerTimeout !== undefined) {
      checkDeadPeerTimeout(options.deadPeerTimeout, 'options.deadPeerTimeout');
    }
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

  /**
   * A share of the node and a lease on its default network (options.defaultNetwork,
   * --zerotier-default-network, $ZEROTIER_DEFAULT_NETWORK or the config file's);
   * ERR_ZT_NO_DEFAULT_NETWORK when none is configured.
   */
  async acquireDefault(options?: NodeOptions): Promise<DefaultNetwork> {
    const ref = await NodeService.acquire(options);
    const node = ref.node;
    const id = node.defaultNetwork;
    if (id === undefined) {
      await ref.release();
      throw nodeError(
        'ERR_ZT_NO_DEFAULT_NETWORK',
        'no default network: set options.defaultNetwork, --zerotier-default-network, ' +
          '$ZEROTIER_DEFAULT_NETWORK or "defaultNetwork" in the config file',
      );
    }
    let lease: NetworkLease;
    try {
      lease = await node.join(id);
    } catch (e) {
      await ref.release();
      throw e;
    }
    const release = async () => {
      await lease.release();
      await ref.release();
    };
    return {
      node,
      ref,
      lease,
      id,
      ready: (o) => lease.ready(o),
      release,
      [Symbol.asyncDispose]: release,
    };
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

/** `node`, or the process's running node; ERR_ZT_NO_NODE when there is none. */
export function runningNode(node?: ZeroTierNode): ZeroTierNode {
  const n = node ?? NodeService.node;
  if (n === undefined || n.closed) {
    throw nodeError(
      'ERR_ZT_NO_NODE',
      'no ZeroTier node is running: start one with NodeService.acquire()',
    );
  }
  return n;
}
