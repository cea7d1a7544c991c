/**
 * `zerotier-sockets lab`: a private ZeroTier network on this machine, offline: a root
 * and a controller in one background process, with the stock controller's HTTP API.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';

import { LabClient, startLab, stopLab } from '../lab/client.js';
import { DEFAULT_LAB_PORT, defaultLabDir, runningLab, type LabInfo } from '../lab/files.js';
import { runLab } from '../lab/server.js';
import { CliError, type CliIo } from './io.js';

export const labUsage = `Usage:
  zerotier-sockets lab up [--dir D] [--port P] [--host IP] [--dns-port P]
      start root + controller in the background
      (--host: the root's address in the planet; default 127.0.0.1, which stock nodes refuse;
       --dns-port: the lab's DNS server on 127.0.0.1, UDP and TCP; default a free port)
  zerotier-sockets lab down [--dir D]
  zerotier-sockets lab status [--dir D] [--json]
  zerotier-sockets lab network create [--name N] [--ipv4 CIDR]... [--ipv6 CIDR]... [--dns] [--domain D] [--dir D]
      (--dns: the lab serves the members' names under <name>.home.arpa; --domain: under D)
  zerotier-sockets lab member list <nwid> [--dir D]
  zerotier-sockets lab member authorize|deauthorize <nwid> <id> [--dir D]
  (default dir ~/.zerotier-sockets/lab, default port ${DEFAULT_LAB_PORT})
`;

function describe(info: LabInfo): string {
  return (
    `planet:     ${info.planetPath}\n` +
    `controller: ${info.controllerAddress} (also the root, on UDP port ${info.port})\n` +
    `API:        ${info.apiUrl}\n` +
    `token:      ${info.tokenPath}\n` +
    Object.entries(info.dns ?? {})
      .map(([nwid, d]) => `dns:        ${nwid} ${d.domain} on ${d.host}:${d.port} (UDP, TCP)\n`)
      .join('')
  );
}

function client(dir: string): LabClient {
  const info = runningLab(dir);
  if (info === undefined)
    throw new CliError(`no lab is running in ${dir} (start one with: zerotier-sockets lab up)`);
  return new LabClient(info);
}

async function apiCall<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new CliError(`${what}: ${(e as Error).message}`);
  }
}

export async function runLabCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      dir: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      json: { type: 'boolean', default: false },
      name: { type: 'string' },
      ipv4: { type: 'string', multiple: true },
      ipv6: { type: 'string', multiple: true },
      dns: { type: 'boolean', default: false },
      domain: { type: 'string' },
      'dns-port': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const dir = path.resolve(values.dir ?? defaultLabDir());
  const port = values.port === undefined ? DEFAULT_LAB_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new CliError(`--port must be 1-65535`);
  const dnsPort = values['dns-port'] === undefined ? undefined : Number(values['dns-port']);
  if (dnsPort !== undefined && (!Number.isInteger(dnsPort) || dnsPort < 0 || dnsPort > 65535))
    throw new CliError(`--dns-port must be 0-65535`);
  const [command, sub, ...rest] = positionals;
  switch (command) {
    case 'run': {
      // The lab process itself (what `lab up` starts in the background).
      const lab = await runLab(dir, port, values.host ?? '127.0.0.1', {
        ...(dnsPort !== undefined ? { dnsPort } : {}),
      }).catch((e: unknown) => {
        // Expected failures (a port taken, the folder in use): one line naming the cause.
        const code = (e as NodeJS.ErrnoException).code;
        if (
          code === 'EADDRINUSE' ||
          code === 'ERR_ZT_STORAGE_LOCKED' ||
          code === 'ERR_ZT_CORRUPT_LAB_STATE' ||
          code === 'ERR_ZT_CORRUPT_IDENTITY'
        ) {
          throw new CliError(`lab: ${(e as Error).message}`);
        }
        throw e;
      });
      io.out(`lab running (pid ${process.pid})\n${describe(lab.info)}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await lab.close();
      return 0;
    }
    case 'up': {
      const already = runningLab(dir);
      if (already !== undefined) {
        io.out(`a lab is already running in ${dir} (pid ${already.pid})\n${describe(already)}`);
        return 0;
      }
      const lab = await apiCall('lab up', () =>
        startLab({
          dir,
          port,
          ...(values.host !== undefined ? { host: values.host } : {}),
          ...(dnsPort !== undefined ? { dnsPort } : {}),
        }),
      );
      io.out(`lab up in ${dir} (pid ${lab.info.pid})\n${describe(lab.info)}`);
      return 0;
    }
    case 'down': {
      const stopped = await stopLab(dir);
      io.out(stopped ? `lab in ${dir} stopped\n` : `no lab was running in ${dir}\n`);
      return 0;
    }
    case 'status': {
      const info = runningLab(dir);
      if (values.json) {
        io.out(`${JSON.stringify({ running: info !== undefined, dir, ...(info ?? {}) })}\n`);
      } else {
        io.out(info ? `running (pid ${info.pid})\n${describe(info)}` : `not running (${dir})\n`);
      }
      return 0;
    }
    case 'network': {
      if (sub !== 'create') break;
      const c = client(dir);
      const nwid = await apiCall('network create', () =>
        c.createNetwork({
          name: values.name ?? '',
          ipv4: values.ipv4 ?? [],
          ipv6: values.ipv6 ?? [],
          ...(values.domain !== undefined
            ? { dns: values.domain }
            : values.dns
              ? { dns: true }
              : {}),
        }),
      );
      io.out(`${nwid}\n`);
      return 0;
    }
    case 'member': {
      const c = client(dir);
      const [nwid, id] = rest;
      if (sub === 'list' && nwid !== undefined) {
        const members = await apiCall('member list', () => c.members(nwid));
        for (const m of Object.keys(members)) {
          const detail = await c.member(nwid, m);
          const ips = (detail['ipAssignments'] as string[] | undefined) ?? [];
          io.out(
            `${m} ${detail['authorized'] ? 'authorized' : 'not-authorized'} ${ips.join(' ')}\n`.replace(
              / \n$/,
              '\n',
            ),
          );
        }
        return 0;
      }
      if (
        (sub === 'authorize' || sub === 'deauthorize') &&
        nwid !== undefined &&
        id !== undefined
      ) {
        await apiCall(`member ${sub}`, () =>
          sub === 'authorize' ? c.authorize(nwid, id) : c.deauthorize(nwid, id),
        );
        io.out(`${id} ${sub}d on ${nwid}\n`);
        return 0;
      }
      break;
    }
    default:
      break;
  }
  io.err(labUsage);
  return 1;
}
