#!/usr/bin/env node
/** The `zerotier-sockets` command: dispatches to its subcommands. */
import { runBenchCommand } from './bench.js';
import { runForward } from './forward.js';
import { runIdtool, idtoolUsage } from './idtool.js';
import { runInspect } from './inspect.js';
import { CliError, processIo, type CliIo } from './io.js';
import { runLabCommand } from './lab.js';
import { runNode } from './node.js';
import { runPlanet } from './planet.js';
import { runResolve } from './resolve.js';
import { takeZeroTierFlags, zeroTierFlagsUsage } from './zerotier-flags.js';

const usage = `Usage: zerotier-sockets <command> [<args>]

Commands:
  idtool <subcommand>   make, check, sign and verify ZeroTier identities
                        (the stock zerotier-idtool's subcommands)
  inspect <capture.pcap> [--identity <file>]... [--json]
                        decode captured ZeroTier traffic and check its MACs
  node --storage <dir>  run a node in the foreground, printing its events
  forward --storage <dir> <rule>...
                        forward TCP between this host and ZeroTier networks
  planet make|show      make a custom planet (roots), or show one
  resolve <name> --network <nwid> --storage <dir>
                        resolve a name through a network's DNS servers
  lab up|down|status|network|member
                        a private network on this machine: root + controller
  bench [--runs N] [--quick] [--only <names>] [--json]
                        TCP/UDP over ZeroTier against node:net, on this machine

${zeroTierFlagsUsage}
${idtoolUsage}`;

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  try {
    const [command, ...rest] = takeZeroTierFlags(argv);
    switch (command) {
      case 'idtool':
        return await runIdtool(rest, io);
      case 'inspect':
        return await runInspect(rest, io);
      case 'node':
        return await runNode(rest, io);
      case 'forward':
        return await runForward(rest, io);
      case 'planet':
        return await runPlanet(rest, io);
      case 'lab':
        return await runLabCommand(rest, io);
      case 'resolve':
        return await runResolve(rest, io);
      case 'bench':
        return await runBenchCommand(rest, io);
      case '--help':
      case '-h':
      case 'help':
        io.out(usage);
        return 0;
      default:
        io.err(usage);
        return 1;
    }
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`${e.message}\n`);
      return e.exitCode;
    }
    // Anything else is a bug, but the user still gets one line rather than a trace.
    io.err(`zerotier-sockets: ${(e as Error).message ?? String(e)}\n`);
    return 2;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
