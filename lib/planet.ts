/**
 * Planets (signed Worlds): the list of roots a node contacts. Stock nodes ship with
 * Earth; a lab or private deployment makes its own (as libzt's custom roots do).
 */
import { readFile, writeFile } from 'node:fs/promises';

import { Identity } from './identity.js';
import { addon, type NativePlanetInfo } from './native.js';
import { invalidArgValue, toBytes } from './validate.js';

export type PlanetInfo = NativePlanetInfo;

export interface PlanetRoot {
  /** The root's identity (public text form or an Identity). */
  identity: Identity | string;
  /** Stable endpoints, "ip/port" (or "ip:port", "[ipv6]:port"). */
  endpoints: string[];
}

export interface MakePlanetOptions {
  roots: PlanetRoot[];
  /** 128 bytes, public ‖ private; see generatePlanetKey(). */
  signingKey: Uint8Array;
  /** World id; default 0x7a746c6162 ("ztlab"). */
  id?: bigint;
  /** Revision in ms; default now. A node accepts an update only with a larger one. */
  timestamp?: number;
}

/** Reads a planet from bytes; throws ERR_INVALID_ARG_VALUE when malformed. */
export function parsePlanet(data: Uint8Array): PlanetInfo {
  const info = addon.parsePlanet(toBytes(data, 'data'));
  if (info === null) throw invalidArgValue('data', data, 'is not a ZeroTier planet');
  return info;
}

export async function readPlanetFile(file: string): Promise<{ bytes: Buffer; info: PlanetInfo }> {
  const bytes = await readFile(file);
  return { bytes, info: parsePlanet(bytes) };
}

/** The Earth planet every stock node ships with. */
export function earthPlanet(): Buffer {
  return addon.earthPlanet();
}

/** A fresh planet signing key pair (public 64 ‖ private 64, like `current.c25519`). */
export async function generatePlanetKey(): Promise<Buffer> {
  // An identity's key pair has exactly this layout; its address search is a by-product.
  const id = await Identity.generate();
  const bin = id.toBinary({ includePrivate: true });
  return Buffer.concat([bin.subarray(6, 70), bin.subarray(71, 135)]);
}

export function makePlanet(options: MakePlanetOptions): Buffer {
  const signingKey = toBytes(options.signingKey, 'signingKey');
  if (signingKey.length !== 128) {
    throw invalidArgValue('signingKey', signingKey.length, 'must be 128 bytes');
  }
  const roots = options.roots.map((r) => ({
    identity:
      typeof r.identity === 'string'
        ? Identity.parse(r.identity).toString()
        : r.identity.toString(),
    endpoints: [...r.endpoints],
  }));
  const planet = addon.makePlanet({
    id: options.id ?? 0x7a746c6162n,
    timestamp: options.timestamp ?? Date.now(),
    roots,
    signingKey,
  });
  if (planet === null) {
    throw invalidArgValue(
      'roots',
      options.roots.length,
      'exceeds 4 roots or 32 endpoints per root',
    );
  }
  return planet;
}

export async function writePlanetFile(file: string, planet: Uint8Array): Promise<void> {
  await writeFile(file, planet);
}
