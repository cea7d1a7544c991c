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

/** Versions of the libraries the addon was built and linked with. */
export interface NativeVersions {
  sodium: string;
  lz4: string;
  lwip: string;
  napi: number;
}

export interface NativeAddon {
  NativeIdentity: typeof NativeIdentity;
  versions(): NativeVersions;
}

/** The package root: the folder with package.json, build/ and prebuilds/. */
export const packageRoot = path.resolve(__dirname, '..');

function load(): { addon: NativeAddon; addonPath: string } {
  let addonPath: string;
  try {
    addonPath = nodeGypBuild.resolve(packageRoot);
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
