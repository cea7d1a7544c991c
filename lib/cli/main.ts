#!/usr/bin/env node
/** The `zerotier-sockets` command: dispatches to its subcommands. */
import { runIdtool, idtoolUsage } from './idtool.js';
import { CliError, processIo, type CliIo } from './io.js';

const usage = `Usage: zerotier-sockets <command> [<args>]

Commands:
  idtool <subcommand>   make, check, sign and verify ZeroTier identities
                        (the stock zerotier-idtool's subcommands)

${idtoolUsage}`;

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'idtool':
        return await runIdtool(rest, io);
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
