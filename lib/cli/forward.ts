/**
 * `zerotier-sockets forward`: a node that forwards TCP between the host and its networks
 * (lib/forward.ts does the work), and the `--forward` option of `zerotier-sockets node`.
 */
import { parseArgs } from 'node:util';

import {
  forward,
  parseForwardRule,
  type ForwardedConnection,
  type ForwardRule,
} from '../forward.js';
import { NodeService, type NodeOptions, type ZeroTierNode } from '../node.js';
import { CliError, onceInterrupted, type CliIo } from './io.js';

export const forwardUsage = `Usage: zerotier-sockets forward --storage <dir> [--planet <file>] [--lab] [--port <n>]
                                [--join <nwid>]... [--verbose] [--json] <rule>...

Forwards TCP between this host and ZeroTier networks, both ways, with Nagle off on both
legs. Rules (as many as you like):
  127.0.0.1:8080=10.147.17.2:80   listen on the host, connect over ZeroTier
  zt:5432=127.0.0.1:5432           listen on our ZeroTier addresses, connect on the host
  zt:10.147.17.5:5432=127.0.0.1:5432   the same on one ZeroTier address
A listen port 0 picks a free port (the 'forwarding' line says which).

  --storage <dir>   the node's identity lives here (made on first start)
  --planet <file>   a custom planet (default: <dir>/planet if present, else Earth)
  --lab             accept loopback paths (a lab on one machine)
  --port <n>        the node's UDP port (default: random)
  --join <nwid>     join a network and wait for its addresses before forwarding (repeatable)
  --verbose         a line per connection (opened, closed, bytes each way)
  --json            one JSON object per line
`;

/** A rule from the command line; a bad one is a CLI error naming it. */
export function parseForward(text: string): ForwardRule {
  try {
    return parseForwardRule(text);
  } catch (e) {
    throw new CliError(`--forward ${text}: ${(e as Error).message}`);
  }
}

type Closable = { close(): unknown };

function describeClose(c: ForwardedConnection): string {
  const bytes = `${c.bytesIn ?? 0} bytes in, ${c.bytesOut ?? 0} out`;
  return c.error === undefined
    ? `${c.rule}: ${c.from} -> ${c.to} closed (${bytes})`
    : `${c.rule}: ${c.from} -> ${c.to} failed: ${c.error} (${bytes})`;
}

/** One rule for `node --forward`: failures are reported, one line each. */
export async function startForward(
  rule: ForwardRule,
  node: ZeroTierNode,
  report: (line: string) => void,
): Promise<Closable> {
  try {
    const forwarder = await forward([rule], { node });
    forwarder.on('close', (c: ForwardedConnection) => {
      if (c.error !== undefined) report(`forward ${describeClose(c)}`);
    });
    return forwarder;
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

export async function runForward(
  args: string[],
  io: CliIo,
  stop: Promise<void> = onceInterrupted(),
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        storage: { type: 'string' },
        planet: { type: 'string' },
        port: { type: 'string' },
        lab: { type: 'boolean', default: false },
        join: { type: 'string', multiple: true },
        verbose: { type: 'boolean', short: 'v', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n${forwardUsage}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(forwardUsage);
    return 0;
  }
  if (values.storage === undefined) throw new CliError(`--storage is required\n${forwardUsage}`);
  if (positionals.length === 0) throw new CliError(`no forwarding rules given\n${forwardUsage}`);
  const rules = positionals.map(parseForward);
  const options: NodeOptions = { storagePath: values.storage, lab: values.lab };
  if (values.planet !== undefined) options.planet = values.planet;
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new CliError(`--port must be an integer from 0 to 65535, not ${values.port}`);
    }
    options.port = port;
  }
  const print = (event: string, fields: Record<string, unknown>, text: string) => {
    io.out(values.json ? `${JSON.stringify({ event, ...fields })}\n` : `${text}\n`);
  };

  let ref;
  try {
    ref = await NodeService.acquire(options);
  } catch (e) {
    throw new CliError(`cannot start the node: ${(e as Error).message}`);
  }
  try {
    const node = ref.node;
    print('started', { address: node.address }, `node ${node.address} started`);
    for (const nwid of values.join ?? []) {
      const lease = await node.join(nwid).catch((e: Error) => {
        throw new CliError(`--join ${nwid}: ${e.message}`);
      });
      const info = await lease.ready({ timeoutMs: 60_000, waitForAuthorization: true });
      print(
        'network',
        { nwid, status: info.status, addresses: info.addresses },
        `network ${nwid} ${info.status} ${info.addresses.join(' ')}`.trimEnd(),
      );
    }
    const forwarder = await forward(rules, { node }).catch((e: Error) => {
      throw new CliError(e.message);
    });
    forwarder.ports.forEach((port, i) => {
      const rule = rules[i]?.text ?? '';
      print('forward', { rule, port }, `forwarding ${rule} (listening on port ${port})`);
    });
    forwarder.on('open', (c: ForwardedConnection) => {
      if (values.verbose) print('open', { ...c }, `${c.rule}: ${c.from} -> ${c.to} open`);
    });
    forwarder.on('close', (c: ForwardedConnection) => {
      if (c.error !== undefined) io.err(`forward ${describeClose(c)}\n`);
      if (values.verbose) print('close', { ...c }, describeClose(c));
    });
    await stop;
    await forwarder.close();
    print('stopped', { address: node.address }, 'stopped');
    return 0;
  } finally {
    await ref.release();
  }
}
