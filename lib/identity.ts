/**
 * ZeroTier identities, compatible with stock ZeroTier (`identity.public` /
 * `identity.secret`, zerotier-idtool). The slow parts (the memory-hard address proof)
 * run off the JS thread.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { inspect } from 'node:util';

import { addon, type NativeIdentity } from './native.js';
import {
  invalidArgType,
  invalidArgValue,
  toBytes,
  toBytesOrString,
  validateString,
} from './validate.js';

const { NativeIdentity: Native } = addon;

/** Bytes of a C25519 signature (Ed25519 R‖S, then the first half of SHA-512 of the message). */
export const SIGNATURE_LENGTH = 96;
/** Bytes of the symmetric key two identities agree on. */
export const AGREED_KEY_LENGTH = 48;

export class Identity {
  readonly #native: NativeIdentity;

  private constructor(native: NativeIdentity) {
    this.#native = native;
  }

  /** Makes a new identity. The search (about 15 memory-hard hashes) runs on a worker thread. */
  static async generate(): Promise<Identity> {
    return new Identity(await Native.generate());
  }

  /**
   * Parses the text of `identity.public` or `identity.secret`
   * (`address:0:public[:private]`). Checks the syntax only: use validate() for the address
   * proof. Throws ERR_INVALID_ARG_VALUE when the text is not an identity.
   */
  static parse(text: string): Identity {
    validateString(text, 'text');
    const native = Native.parse(text);
    if (native === null) {
      throw invalidArgValue(
        'text',
        text,
        'is not a ZeroTier identity (address:0:public[:private])',
      );
    }
    return new Identity(native);
  }

  /** Parses the binary form used on the wire (71 bytes) or for a secret (135 bytes). */
  static fromBinary(data: Uint8Array): Identity {
    const bytes = toBytes(data, 'data');
    const native = Native.fromBinary(bytes);
    if (native === null) throw invalidArgValue('data', bytes, 'is not a binary ZeroTier identity');
    return new Identity(native);
  }

  /** Reads and parses an identity file (public or secret). */
  static async fromFile(file: string): Promise<Identity> {
    validateString(file, 'file');
    return Identity.parse(await readFile(file, 'utf8'));
  }

  /** The 40-bit address as 10 lowercase hex digits. */
  get address(): string {
    return this.#native.address;
  }

  /** The 64-byte public key: X25519 then Ed25519. */
  get publicKey(): Buffer {
    return this.#native.publicKey;
  }

  get hasPrivate(): boolean {
    return this.#native.hasPrivate;
  }

  /** The public text form, as in `identity.public`. */
  toString(): string {
    return this.#native.toText(false);
  }

  /** The secret text form, as in `identity.secret`. Throws when there is no private key. */
  toSecretString(): string {
    this.#requirePrivate('toSecretString');
    return this.#native.toText(true);
  }

  /** JSON carries the public form only, so a secret never leaks through a log line. */
  toJSON(): string {
    return this.toString();
  }

  toBinary(options: { includePrivate?: boolean } = {}): Buffer {
    const includePrivate = options.includePrivate ?? false;
    if (includePrivate) this.#requirePrivate('toBinary');
    return this.#native.toBinary(includePrivate);
  }

  /** The same identity without its private key. */
  toPublic(): Identity {
    return this.hasPrivate ? Identity.parse(this.toString()) : this;
  }

  /**
   * Whether the identity is one stock nodes accept: its address is the tail of the
   * memory-hard hash of its public key, that hash passes the work threshold, and the
   * address is not reserved. A secret identity must also have matching key halves.
   * Runs on a worker thread.
   */
  validate(): Promise<boolean> {
    return this.#native.validate();
  }

  /** validate() on the calling thread; blocks it for about 10 ms. */
  validateSync(): boolean {
    return this.#native.validateSync();
  }

  /** Signs a message (bytes, or a string as UTF-8) with a 96-byte C25519 signature. */
  sign(message: Uint8Array | string): Buffer {
    const bytes = toBytesOrString(message, 'message');
    this.#requirePrivate('sign');
    return this.#native.sign(bytes);
  }

  verify(message: Uint8Array | string, signature: Uint8Array): boolean {
    const bytes = toBytesOrString(message, 'message');
    const sig = toBytes(signature, 'signature');
    return this.#native.verify(bytes, sig);
  }

  /** The 48-byte symmetric key this (secret) identity shares with `other`. */
  agree(other: Identity): Buffer {
    if (!(other instanceof Identity))
      throw invalidArgType('other', 'an instance of Identity', other);
    this.#requirePrivate('agree');
    return this.#native.agree(other.#native);
  }

  /** Same address and public key (private keys are not compared). */
  equals(other: Identity): boolean {
    return (
      other instanceof Identity &&
      other.address === this.address &&
      other.publicKey.equals(this.publicKey)
    );
  }

  /**
   * Writes `identity.secret` (mode 0600) and, if given, `identity.public`, without a
   * trailing newline, as stock ZeroTier does.
   */
  async writeFiles(secretFile: string, publicFile?: string): Promise<void> {
    validateString(secretFile, 'secretFile');
    if (publicFile !== undefined) validateString(publicFile, 'publicFile');
    await writeFile(secretFile, this.toSecretString(), { mode: 0o600 });
    if (publicFile !== undefined) await writeFile(publicFile, this.toString());
  }

  [inspect.custom](): string {
    return `Identity <${this.address}${this.hasPrivate ? ', with private key' : ''}>`;
  }

  #requirePrivate(operation: string): void {
    if (!this.hasPrivate) {
      const error = new Error(
        `Identity.${operation}() needs a private key; ${this.address} has none`,
      );
      (error as Error & { code: string }).code = 'ERR_ZT_NO_PRIVATE_KEY';
      throw error;
    }
  }
}
