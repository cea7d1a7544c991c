/**
 * `zerotier-sockets planet`: make a custom planet (the roots a node contacts) and show
 * what a planet file holds.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { generatePlanetKey, makePlanet, parsePlanet } from '../planet.js';
import { writeFileAtomic } from '../storage.js';
import { CliError, type CliIo } from './io.js';

export const planetUsage = `Usage:
  zerotier-sockets planet make --root <identity.public>=<ip/port>[,<ip/port>]... --key <file> --out <file> [--id <n>] [--timestamp <ms>]
      (--key is made if missing: public ‖ private, 128 bytes; keep it to sign updates)
  zerotier-sockets planet show <file> [--json]
`;

async function readOrFail(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch {
    throw new CliError(`${file} is not readable`);
  }
}

async function make(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      root: { type: 'string', multiple: true },
      key: { type: 'string' },
      out: { type: 'string' },
      id: { type: 'string' },
      timestamp: { type: 'string' },
    },
    strict: true,
  });
  if (!values.root?.length || values.key === undefined || values.out === undefined) {
    throw new CliError(`planet make needs --root, --key and --out\n${planetUsage}`);
  }
  const roots = await Promise.all(
    values.root.map(async (spec) => {
      const eq = spec.lastIndexOf('=');
      if (eq < 0) throw new CliError(`--root ${spec}: expected <identity.public>=<ip/port>`);
      const file = spec.slice(0, eq);
      const identity = (await readOrFail(file)).toString('utf8');
      return { identity, endpoints: spec.slice(eq + 1).split(',') };
    }),
  );
  let key: Buffer;
  if (existsSync(values.key)) {
    key = await readOrFail(values.key);
    if (key.length !== 128) throw new CliError(`${values.key} is not a 128-byte planet key`);
  } else {
    key = await generatePlanetKey();
    await writeFileAtomic(values.key, key, 0o600);
    io.out(`${values.key} written (planet signing key)\n`);
  }
  let planet: Buffer;
  try {
    planet = makePlanet({
      roots,
      signingKey: key,
      ...(values.id !== undefined ? { id: BigInt(values.id) } : {}),
      ...(values.timestamp !== undefined ? { timestamp: Number(values.timestamp) } : {}),
    });
  } catch (e) {
    throw new CliError(`cannot make the planet: ${(e as Error).message}`);
  }
  await writeFileAtomic(values.out, planet);
  io.out(`${values.out} written (${planet.length} bytes)\n`);
  return 0;
}

async function show(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const file = positionals[0];
  if (file === undefined) throw new CliError(`planet show needs a file\n${planetUsage}`);
  let info;
  try {
    info = parsePlanet(await readOrFail(file));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${file} is not a ZeroTier planet`);
  }
  if (values.json) {
    io.out(
      `${JSON.stringify({ ...info, id: info.id.toString(), updatesMustBeSignedBy: info.updatesMustBeSignedBy.toString('hex') })}\n`,
    );
    return 0;
  }
  io.out(
    `${info.type} ${info.id} timestamp ${info.timestamp} (${new Date(info.timestamp).toISOString()})\n`,
  );
  io.out(`signed by its update key: ${info.signatureValid ? 'yes' : 'NO'}\n`);
  for (const r of info.roots)
    io.out(`root ${r.identity.slice(0, 10)} at ${r.endpoints.join(', ')}\n`);
  return 0;
}

export async function runPlanet(args: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command === 'make') return await make(rest, io);
    if (command === 'show') return await show(rest, io);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message);
  }
  io.err(planetUsage);
  return 1;
}
