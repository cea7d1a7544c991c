/**
 * The node's storage folder: `identity.secret` and `identity.public` (made on first
 * start, kept afterwards, never overwritten), and an optional `planet` file, as a stock
 * node keeps them.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, realpathSync } from 'node:fs';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { Identity } from './identity.js';
import { addon } from './native.js';

/**
 * Writes a file so that a crash (of the process or the machine) leaves either the old or
 * the new content, never half: a temporary file, fsync'd, renamed over the old one, and the
 * folder fsync'd so the rename itself is on disk.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode, flush: true });
  await rename(tmp, file);
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** The lock file of a storage folder (an flock on it, held while the node runs). */
export const LOCK_FILE = 'lock';

/** A held storage lock; release() is idempotent. */
export interface StorageLock {
  readonly dir: string;
  release(): void;
}

// Within one process the lock is shared by count (the lab holds its folder and then starts
// its node on it); between processes it is exclusive.
const held = new Map<string, { fd: number; count: number }>();

/**
 * Takes the storage folder `dir` (made if absent) for this process, before anything in it is
 * read or made, so two processes never share (or both create) an identity. Throws
 * ERR_ZT_STORAGE_LOCKED at once when another process holds it; a process that dies, however
 * it dies, leaves no stale lock (the kernel drops a dead process's flock).
 */
export function lockStorage(dir: string): StorageLock {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = realpathSync(dir);
  let entry = held.get(key);
  if (entry === undefined) {
    let fd: number;
    try {
      fd = addon.lockStorage(path.join(key, LOCK_FILE));
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { holderPid?: number };
      if (err.code !== 'EWOULDBLOCK') throw err;
      const by = err.holderPid !== undefined ? ` (pid ${err.holderPid})` : '';
      const locked = new Error(
        `storage folder ${dir} is in use by another process${by}; one node per storage folder`,
      ) as NodeJS.ErrnoException;
      locked.code = 'ERR_ZT_STORAGE_LOCKED';
      locked.path = dir;
      throw locked;
    }
    entry = { fd, count: 0 };
    held.set(key, entry);
  }
  entry.count++;
  const taken = entry;
  let released = false;
  return {
    dir,
    release() {
      if (released) return;
      released = true;
      if (--taken.count === 0) {
        held.delete(key);
        addon.unlockStorage(taken.fd);
      }
    },
  };
}

function corrupt(file: string, why: string): Error {
  const e = new Error(`${file}: ${why}; refusing to start (the file is left as it is)`);
  (e as Error & { code: string }).code = 'ERR_ZT_CORRUPT_IDENTITY';
  return e;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Loads the identity kept in `dir`, making and saving a new one on first use. */
export async function loadOrCreateIdentity(dir: string): Promise<Identity> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secretFile = path.join(dir, 'identity.secret');
  const publicFile = path.join(dir, 'identity.public');
  const secretText = await readIfExists(secretFile);
  if (secretText === undefined) {
    const identity = await Identity.generate();
    await writeFileAtomic(secretFile, identity.toSecretString(), 0o600);
    await writeFileAtomic(publicFile, identity.toString());
    return identity;
  }
  let identity: Identity;
  try {
    identity = Identity.parse(secretText);
  } catch {
    throw corrupt(secretFile, 'not a ZeroTier identity');
  }
  if (!identity.hasPrivate) throw corrupt(secretFile, 'has no private key');
  if (!(await identity.validate())) throw corrupt(secretFile, 'fails validation');
  const publicText = await readIfExists(publicFile);
  if (publicText === undefined) {
    await writeFileAtomic(publicFile, identity.toString());
  } else if (publicText.trim() !== identity.toString()) {
    throw corrupt(publicFile, 'does not match identity.secret');
  }
  return identity;
}

/** The planet file kept in `dir`, if there is one. */
export async function readStoredPlanet(dir: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path.join(dir, 'planet'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
