/**
 * `zerotier-sockets resolve <name> --network NWID`: joins the network with a node (the
 * options of `node`) and asks the network's DNS servers, as the SDK's lookup does.
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';

import { NodeService, type NodeOptions } from '../node.js';
import { CliError, type CliIo } from './io.js';

export const resolveUsage = `Usage: zerotier-sockets resolve <name|ip> --network <nwid> --storage <dir> [--planet <file>] [--lab] [--family 4|6] [--json]

  Joins the network, then resolves <name> through the network's DNS servers (its domain
  must hold the name) and prints one address per line; an IP prints its names (PTR).
  --storage, --planet, --lab   as for \`node\`
  --family 4|6      only IPv4 or only IPv6 addresses
  --timeout <ms>    how long to wait for the network (default 30000)
  --json            {"name", "addresses": [{"address", "family"}]} or {"ip", "names"}
`;

export async function runResolve(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        network: { type: 'string' },
        storage: { type: 'string' },
        planet: { type: 'string' },
        lab: { type: 'boolean', default: false },
        family: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n${resolveUsage}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(resolveUsage);
    return 0;
  }
  const [name] = positionals;
  if (name === undefined || positionals.length !== 1)
    throw new CliError(`one name to resolve\n${resolveUsage}`);
  if (values.network === undefined) throw new CliError(`--network is required\n${resolveUsage}`);
  if (values.storage === undefined) throw new CliError(`--storage is required\n${resolveUsage}`);
  const family = values.family === undefined ? 0 : Number(values.family);
  if (family !== 0 && family !== 4 && family !== 6) throw new CliError('--family must be 4 or 6');
  const timeoutMs = values.timeout === undefined ? 30_000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new CliError('--timeout must be ms');

  const options: NodeOptions = { storagePath: values.storage, lab: values.lab };
  if (values.planet !== undefined) options.planet = values.planet;
  let ref;
  try {
    ref = await NodeService.acquire(options);
  } catch (e) {
    throw new CliError(`cannot start the node: ${(e as Error).message}`);
  }
  try {
    const lease = await ref.node.join(values.network);
    try {
      await lease.ready({ timeoutMs });
    } catch (e) {
      throw new CliError(`network ${values.network}: ${(e as Error).message}`);
    }
    try {
      if (isIP(name) !== 0) {
        const names = await ref.node.names.reverse(name);
        io.out(
          values.json
            ? `${JSON.stringify({ ip: name, names })}\n`
            : names.map((n) => `${n}\n`).join(''),
        );
      } else {
        const addresses = await ref.node.names.resolve(name, family);
        io.out(
          values.json
            ? `${JSON.stringify({ name, addresses })}\n`
            : addresses.map((a) => `${a.address}\n`).join(''),
        );
      }
    } catch (e) {
      const err = e as Error & { code?: string };
      throw new CliError(`${name}: ${err.code ?? err.message}`);
    }
    return 0;
  } finally {
    await ref.release();
  }
}
