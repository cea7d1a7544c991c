/**
 * `zerotier-sockets node`: runs the process's node in the foreground until interrupted,
 * printing a line per event (one JSON object per line with --json).
 */
import { parseArgs } from 'node:util';

import { resolveSettings } from '../node-config.js';
import { NodeService, type NodeOptions } from '../node.js';
import { parseForward, startForward } from './forward.js';
import { CliError, onceInterrupted, type CliIo } from './io.js';

export const nodeUsage = `Usage: zerotier-sockets node --storage <dir> [--planet <file>] [--port <n>] [--join <nwid>]... [--lab] [--root] [--json]

  --storage <dir>   identity.secret / identity.public live here (made on first start)
  --planet <file>   a custom planet (default: <dir>/planet if present, else Earth)
  --port <n>        UDP port (default: random)
  --join <nwid>     join a network (repeatable); prints its status and addresses as they change
  --forward <listen>=<target>   forward TCP between the host and the network (repeatable):
                    127.0.0.1:8080=172.29.1.1:80 listens on the host, connects over ZeroTier;
                    zt:5432=127.0.0.1:5432 listens on our ZeroTier addresses, connects on the host
  --lab             accept loopback paths (a lab on one machine)
  --root            act as a root: relay and introduce peers (for labs and tests)
  --stats <ms>      print the node's counters every <ms> milliseconds
  --json            one JSON object per line
  --zerotier-identity <file>, --zerotier-default-network <hex>: see \`zerotier-sockets --help\`
`;

export async function runNode(
  args: string[],
  io: CliIo,
  stop: Promise<void> = onceInterrupted(),
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        storage: { type: 'string' },
        planet: { type: 'string' },
        port: { type: 'string' },
        lab: { type: 'boolean', default: false },
        root: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        stats: { type: 'string' },
        join: { type: 'string', multiple: true },
        forward: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n${nodeUsage}`);
  }
  if (values.help) {
    io.out(nodeUsage);
    return 0;
  }
  // An identity named by --zerotier-identity (or its environment/config equivalents) can
  // stand in for the storage folder.
  if (values.storage === undefined && (await resolveSettings({})).identityPath === undefined) {
    throw new CliError(`--storage (or --zerotier-identity) is required\n${nodeUsage}`);
  }
  const options: NodeOptions = { lab: values.lab, root: values.root };
  if (values.storage !== undefined) options.storagePath = values.storage;
  if (values.planet !== undefined) options.planet = values.planet;
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new CliError(`--port must be an integer from 0 to 65535, not ${values.port}`);
    }
    options.port = port;
  }

  let ref;
  try {
    ref = await NodeService.acquire(options);
  } catch (e) {
    throw new CliError(`cannot start the node: ${(e as Error).message}`);
  }
  const node = ref.node;
  const json = values.json;
  const print = (event: string, fields: Record<string, unknown>, text: string) => {
    io.out(json ? `${JSON.stringify({ event, ...fields })}\n` : `${text}\n`);
  };
  print(
    'started',
    { address: node.address, port: node.port },
    `started ${node.address} on UDP port ${node.port}`,
  );
  node.on('online', () => print('online', { address: node.address }, 'online'));
  node.on('offline', () => print('offline', { address: node.address }, 'offline'));
  node.on('peer', (p: { address: string }) =>
    print('peer', { address: p.address }, `peer ${p.address} learned`),
  );
  node.on('path', (p: { address: string; path: string; latency: number }) =>
    print(
      'path',
      { address: p.address, path: p.path, latency: p.latency },
      `peer ${p.address} direct path ${p.path} (${p.latency} ms)`,
    ),
  );
  node.on('path-lost', (p: { address: string; path: string }) =>
    print('path-lost', p, `peer ${p.address} path ${p.path} expired`),
  );
  node.on('external-address', (p: { reporter: string; address: string }) =>
    print(
      'external-address',
      { address: p.reporter, external: p.address },
      `${p.reporter} sees us at ${p.address}`,
    ),
  );
  node.on('planet', () => print('planet', { address: node.address }, 'planet updated'));
  const leases = [];
  const shown = new Map<string, string>();
  const showNetwork = async (id: string) => {
    const info = (await node.networks()).find((n) => n.id === id);
    if (info === undefined) return;
    const dns = info.dns ? ` dns ${info.dns.domain} ${info.dns.servers.join(',')}`.trimEnd() : '';
    const key = `${info.status} ${info.addresses.join(',')}${dns}`;
    if (shown.get(id) === key) return;
    shown.set(id, key);
    print(
      'network',
      {
        nwid: id,
        status: info.status,
        addresses: info.addresses,
        name: info.name ?? null,
        dns: info.dns ?? null,
      },
      `network ${id} ${info.status}${info.name ? ` "${info.name}"` : ''} ${info.addresses.join(' ')}${dns}`.trimEnd(),
    );
  };
  const onNetworkEvent = (e: { network: string }) => {
    showNetwork(e.network).catch(() => undefined);
  };
  node.on('network-status', onNetworkEvent);
  node.on('network-config', onNetworkEvent);
  const joins = (values.join ?? []).map((id) => id.toLowerCase());
  // --zerotier-default-network (or its environment/config equivalents) is joined too.
  if (node.defaultNetwork !== undefined && !joins.includes(node.defaultNetwork)) {
    joins.push(node.defaultNetwork);
  }
  for (const id of joins) {
    try {
      leases.push(await node.join(id));
    } catch (e) {
      await ref.release();
      throw new CliError(`--join ${id}: ${(e as Error).message}`);
    }
  }
  const forwards = (values.forward ?? []).map(parseForward);
  const listeners = [];
  for (const spec of forwards) {
    try {
      listeners.push(await startForward(spec, node, (line) => io.err(`${line}\n`)));
    } catch (e) {
      await ref.release();
      throw e;
    }
    print('forward', { address: node.address, forward: spec.text }, `forwarding ${spec.text}`);
  }
  let statsTimer: NodeJS.Timeout | undefined;
  if (values.stats !== undefined) {
    const every = Number(values.stats);
    if (!Number.isInteger(every) || every < 10)
      throw new CliError('--stats takes milliseconds >= 10');
    statsTimer = setInterval(() => {
      node.counters().then(
        (c) => print('stats', { address: node.address, ...c }, `stats ${JSON.stringify(c)}`),
        () => undefined,
      );
    }, every);
  }
  await stop;
  if (statsTimer !== undefined) clearInterval(statsTimer);
  for (const l of listeners) l.close();
  node.off('network-status', onNetworkEvent);
  node.off('network-config', onNetworkEvent);
  await ref.release();
  print('stopped', { address: node.address }, 'stopped');
  return 0;
}
