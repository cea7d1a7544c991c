/**
 * The node's storage folder: `identity.secret` and `identity.public` (made on first
 * start, kept afterwards, never overwritten), and an optional `planet` file, as a stock
 * node keeps them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { Identity } from './identity.js';

/** Writes a file so that a crash leaves either the old or the new content, never half. */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode, flush: true });
  await rename(tmp, file);
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
