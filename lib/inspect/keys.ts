/**
 * The keys an inspection can check MACs with: every pair of identities of which one is a
 * secret the user gave. Public identities come from the user's files and from HELLOs in
 * the capture; they are not validated (a wrong key only shows up as a bad MAC).
 */
import { Identity } from '../identity.js';

/** More identities than this claiming one address are ignored (a capture may be hostile). */
const MAX_IDENTITIES_PER_ADDRESS = 8;

export class KeyRing {
  readonly #known = new Map<string, Identity[]>();
  readonly #secrets: Identity[] = [];
  readonly #agreed = new Map<string, Buffer | null>();

  constructor(identities: readonly Identity[]) {
    for (const identity of identities) {
      this.learn(identity);
      if (identity.hasPrivate) this.#secrets.push(identity);
    }
  }

  /** Adds an identity whose public key a peer announced (or the user gave). */
  learn(identity: Identity): void {
    const list = this.#known.get(identity.address) ?? [];
    if (list.some((known) => known.equals(identity))) return;
    if (list.length >= MAX_IDENTITIES_PER_ADDRESS) return;
    list.push(identity);
    this.#known.set(identity.address, list);
  }

  /** The distinct 48-byte keys packets between two addresses may be armored with. */
  keysBetween(a: string, b: string): Buffer[] {
    const keys: Buffer[] = [];
    const add = (key: Buffer | null) => {
      if (key !== null && !keys.some((k) => k.equals(key))) keys.push(key);
    };
    for (const secret of this.#secrets) {
      const other = secret.address === a ? b : secret.address === b ? a : null;
      if (other === null) continue;
      for (const peer of this.#known.get(other) ?? []) add(this.#agree(secret, peer));
    }
    return keys;
  }

  #agree(secret: Identity, peer: Identity): Buffer | null {
    const cacheKey = `${secret.address}:${secret.publicKey.toString('hex')}:${peer.publicKey.toString('hex')}`;
    let key = this.#agreed.get(cacheKey);
    if (key === undefined) {
      try {
        key = secret.agree(peer);
      } catch {
        key = null; // a low-order public key: no key exists
      }
      this.#agreed.set(cacheKey, key);
    }
    return key;
  }
}
