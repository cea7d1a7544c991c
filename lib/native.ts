/**
 * The typed contract of the native addon: every class and function it exports, as the
 * C++ side (native/addon/) defines them. The friendly API (Identity, and later NodeService
 * and the sockets) is built on top of these declarations; nothing else touches the addon.
 *
 * The native layer re-checks its arguments only cheaply: callers validate first (see
 * validate.ts) so that users get Node's own error codes.
 */
import path from 'node:path';
import nodeGypBuild = require('node-gyp-build');

/** A ZeroTier identity held in native memory; its private key never leaves except by toText(true) or toBinary(true). */
export declare class NativeIdentity {
  private constructor();
  /** Runs the memory-hard address search on a libuv worker thread. */
  static generate(): Promise<NativeIdentity>;
  /** Parses `address:0:public[:private]`; null when the text is not of that form. Checks syntax only. */
  static parse(text: string): NativeIdentity | null;
  /** Parses the 71-byte (public) or 135-byte (secret) binary form; null when malformed. */
  static fromBinary(data: Uint8Array): NativeIdentity | null;
  /** The 40-bit address as 10 lowercase hex digits. */
  readonly address: string;
  /** X25519 public key (32 bytes) followed by Ed25519 public key (32 bytes). */
  readonly publicKey: Buffer;
  readonly hasPrivate: boolean;
  /** The text form; with `includePrivate` and a private key, the secret form. */
  toText(includePrivate: boolean): string;
  toBinary(includePrivate: boolean): Buffer;
  /** Checks the address proof (memory-hard hash, about 10 ms) on a worker thread. */
  validate(): Promise<boolean>;
  /** The same check on the calling thread: blocks it for about 10 ms. */
  validateSync(): boolean;
  /** A 96-byte C25519 signature; throws when there is no private key. */
  sign(message: Uint8Array): Buffer;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
  /** The 48-byte key shared with `other`; throws when there is no private key. */
  agree(other: NativeIdentity): Buffer;
}

/** Options of the process's one node. */
export interface NativeNodeOptions {
  /** The node's secret identity (`identity.secret` text). */
  identity: string;
  /** A serialized planet (World); the built-in Earth when absent. */
  planet?: Uint8Array;
  /** UDP port for IPv4 and IPv6; 0 or absent: a random free port. */
  port?: number;
  /** Lab mode: accept loopback paths (stock nodes refuse them). */
  lab?: boolean;
  /** Root role: relay between peers and introduce them (the lab's root). */
  root?: boolean;
  /** Local IPv4 address to bind (default 0.0.0.0). */
  bindV4?: string;
  /** Local IPv6 address to bind (default ::); '' for no IPv6 socket. */
  bindV6?: string;
  /** Controller role (the lab): answer config requests for networks named after us. */
  controller?: boolean;
  /** The controller's saved state (from controllerCall('state')), to continue from. */
  controllerState?: string;
  /** TCP sockets' default dead-peer timeout in ms (validated in TS); absent: 60 s. */
  deadPeerTimeoutMs?: number;
}

export interface NativeEndpoint {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** A socket's news from the engine. `err` is an lwIP err_t (see errors.ts). */
export interface NativeSocketEvent {
  type: 'socket';
  kind:
    'connect' | 'listening' | 'accept' | 'data' | 'end' | 'wrote' | 'close' | 'message' | 'bound';
  id: number;
  err?: number;
  /** accept: the new socket's id. */
  accepted?: number;
  /** wrote: bytes handed to lwIP. */
  value: number;
  local?: NativeEndpoint;
  remote?: NativeEndpoint;
  data?: Buffer;
}

/** Something the engine reports; batched, delivered on the JS thread. */
export interface NativeNodeEvent {
  type:
    | 'online'
    | 'offline'
    | 'peer'
    | 'path'
    | 'path-lost'
    | 'echo'
    | 'external-address'
    | 'planet'
    | 'error'
    | 'user-message'
    | 'network-status'
    | 'network-config'
    | 'network-left';
  /** The ZeroTier address (10 hex digits) the event is about, if any. */
  address?: string;
  /** A physical endpoint, "ip/port". */
  path?: string;
  /** The network (16 hex digits) a network-* event is about. */
  network?: string;
  /** network-status: REQUESTING_CONFIGURATION, OK, ACCESS_DENIED, NOT_FOUND, ... */
  status?: string;
  /** Round trip in ms (echo, path), error code (error), type id (user-message). */
  value: number;
  data?: Buffer;
}

/**
 * The process's one ZeroTier node: an engine thread with its UDP sockets and protocol
 * core. Constructing a second one while one runs throws ERR_ZT_NODE_RUNNING; calls after
 * close() throw ERR_ZT_NODE_CLOSED.
 */
export declare class NativeNode {
  constructor(
    options: NativeNodeOptions,
    onEvents: (events: Array<NativeNodeEvent | NativeSocketEvent>) => void,
  );
  readonly address: string;
  /** The UDP port actually bound. */
  readonly port: number;
  /** Sends ECHO to a node; the answer arrives as an 'echo' event with the round trip. */
  echo(address: string, payload: Uint8Array): void;
  /** A JSON snapshot of the engine's counters, peers, status or joined networks. */
  query(kind: 'counters' | 'peers' | 'status' | 'networks'): Promise<string>;
  /**
   * Joins a network (16 hex digits); a cached config (its Dictionary bytes from an earlier
   * 'network-config' event) applies at once while a fresh one is requested.
   */
  /** false, and nothing joined, when cachedConfig is not a config of this network for us. */
  join(networkId: string, cachedConfig?: Uint8Array): boolean;
  leave(networkId: string): void;
  /**
   * Sockets on the networks' lwIP stack. JS names each socket it opens with a positive id
   * below 2^31; sockets accepted by a listener get ids from the engine (2^31 and up).
   * Every result arrives as a 'socket' event with that id.
   */
  /** localPort 0 (or none): an ephemeral port. */
  tcpConnect(id: number, ip: string, port: number, timeoutMs: number, localPort?: number): void;
  /** ip '' listens on every address of both families; port 0 picks one ('listening' says which). */
  tcpListen(id: number, ip: string, port: number): void;
  /** Copies the bytes; 'wrote' events report them handed to lwIP, oldest first. */
  socketWrite(id: number, data: Uint8Array): void;
  /**
   * 'shutdown' (FIN after queued bytes), 'close', 'abort' (RST), 'consumed' (arg: bytes the
   * reader took, reopening the receive window), 'nodelay' (arg 0/1), 'keepalive' (arg:
   * idle ms, 0 off; arg2: probe interval ms; arg3: probes), 'deadpeer' (arg: ms).
   */
  socketControl(
    id: number,
    op: 'shutdown' | 'close' | 'abort' | 'consumed' | 'nodelay' | 'keepalive' | 'deadpeer',
    arg?: number,
    arg2?: number,
    arg3?: number,
  ): void;
  /**
   * The controller's JSON API (stock shapes): resolves with `{"status": N, "body": ...}`.
   * op: controller | networks | network-get | network-post | network-create |
   * network-delete | members | member-get | member-post | member-delete | state.
   */
  controllerCall(op: string, nwid: string, member: string, body: string): Promise<string>;
  udpBind(id: number, ip: string, port: number): void;
  udpSend(id: number, ip: string, port: number, data: Uint8Array): void;
  /** Whether the node's event channel keeps the process alive (default true). */
  keepAlive(on: boolean): void;
  /**
   * Joins or leaves an IP multicast group on every network: IGMP/MLD in the stack and
   * MULTICAST_LIKE for the group on the ZeroTier side. Counted: each join needs its leave.
   */
  udpMembership(ip: string, join: boolean): void;
  /** Stops the engine thread and closes the sockets; idempotent. */
  close(): void;
}

/** A planet's content, as parsePlanet() reads it. */
export interface NativePlanetInfo {
  type: 'planet' | 'moon';
  id: bigint;
  timestamp: number;
  updatesMustBeSignedBy: Buffer;
  /** Whether it is signed by its own update key (true for a freshly made planet). */
  signatureValid: boolean;
  roots: Array<{ identity: string; endpoints: string[] }>;
}

export interface NativePlanetSpec {
  id: bigint;
  timestamp: number;
  roots: Array<{ identity: string; endpoints: string[] }>;
  /** public(64) ‖ private(64), the `current.c25519` layout. */
  signingKey: Uint8Array;
}

/** Versions of the libraries the addon was built and linked with. */
export interface NativeVersions {
  sodium: string;
  lz4: string;
  lwip: string;
  napi: number;
}

/** What inspectPacket() learns of one whole (reassembled) VL1 packet. */
export interface PacketInspection {
  /**
   * Whether the Poly1305 MAC checked out with the key given. 'bad' also covers packets no
   * receiver accepts: shorter than the 28-byte header or longer than 10,024 bytes.
   * 'unsupported-cipher': cipher 2 (trusted path) or 3 (AES-GMAC-SIV), which this
   * inspection does not check.
   */
  mac: 'ok' | 'bad' | 'unsupported-cipher';
  /**
   * The verb's name (HELLO, OK, ..., UNKNOWN), known only when the MAC checked out or for
   * cipher 0, whose verb byte travels in clear (then even when the MAC is bad).
   */
  verb?: string;
  /** The verb code (bits 0..4 of the verb byte), with `verb`. */
  verbCode?: number;
  /** Whether the payload was LZ4-compressed (only when the MAC checked out). */
  compressed?: boolean;
  /** Set when a compressed payload does not inflate (stock receivers drop such packets). */
  inflateFailed?: boolean;
}

export interface NativeAddon {
  NativeIdentity: typeof NativeIdentity;
  NativeNode: typeof NativeNode;
  versions(): NativeVersions;
  /** Reads a serialized World; null when malformed. */
  parsePlanet(data: Uint8Array): NativePlanetInfo | null;
  /** Builds and signs a planet; null when it breaks a limit (4 roots, 32 endpoints each). */
  makePlanet(spec: NativePlanetSpec): Buffer | null;
  /** The Earth planet stock nodes ship with. */
  earthPlanet(): Buffer;
  /**
   * Authenticates (and for cipher 1 decrypts, on a copy) a whole VL1 packet with the
   * 48-byte key two identities agree on; a compressed payload is then inflated (on the
   * copy) to check it. Throws TypeError only when an argument is not a Uint8Array or the
   * key is not 48 bytes; malformed packets are reported, never thrown.
   */
  inspectPacket(packet: Uint8Array, key: Uint8Array): PacketInspection;
  /**
   * Takes the exclusive flock of `file` (made if absent) and returns its descriptor; throws
   * an Error with the errno `code` (EWOULDBLOCK: held elsewhere) and `holderPid` if known.
   */
  lockStorage(file: string): number;
  /** Closes a descriptor lockStorage() returned, which drops the lock. */
  unlockStorage(fd: number): void;
  /** "" when a lab's saved controller state loads for this controller, else why not. */
  checkControllerState(controllerIdentity: string, state: string): string;
}

/** The package root: the folder with package.json, build/ and prebuilds/. */
export const packageRoot = path.resolve(__dirname, '..');

function load(): { addon: NativeAddon; addonPath: string } {
  let addonPath: string;
  try {
    // ZEROTIER_SOCKETS_ADDON names another build of the addon (`npm run test:asan` runs the
    // suite, child processes included, on its sanitizer build this way).
    addonPath = process.env['ZEROTIER_SOCKETS_ADDON'] || nodeGypBuild.resolve(packageRoot);
  } catch (cause) {
    throw new Error(
      `zerotier-sockets: no native addon for ${process.platform}-${process.arch} ` +
        `(Node ${process.version}, N-API ${process.versions.napi}) in ${packageRoot}: ` +
        'no prebuild fits and none was built from source. ' +
        'Rebuild with `npm rebuild zerotier-sockets` (needs g++, make, python3 and ' +
        'libsodium-dev liblz4-dev liblwip-dev).',
      { cause },
    );
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { addon: require(addonPath) as NativeAddon, addonPath };
  } catch (cause) {
    throw new Error(
      `zerotier-sockets: the native addon at ${addonPath} failed to load on ` +
        `${process.platform}-${process.arch}: ${(cause as Error).message}. ` +
        'Its runtime libraries are libsodium23, liblz4-1 and liblwip0.',
      { cause },
    );
  }
}

const loaded = load();

/** The loaded addon. */
export const addon: NativeAddon = loaded.addon;
/** The file the addon was loaded from (a prebuild or build/Release). */
export const addonPath: string = loaded.addonPath;
