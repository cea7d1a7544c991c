/**
 * The options every command takes, anywhere on its line: --zerotier-identity PATH and
 * --zerotier-default-network HEX. They set the node's identity file and default network
 * for whatever node the command starts, over the environment and the config file (code
 * options still win).
 */
import { checkNetworkId, setCommandLineSettings, type NodeSettings } from '../node-config.js';
import { CliError } from './io.js';

export const zeroTierFlagsUsage = `Options every command takes:
  --zerotier-identity <file>        the node's identity.secret (made there when missing)
  --zerotier-default-network <hex>  the network joined by default (16 hex digits)
`;

const flags = {
  '--zerotier-identity': 'identityPath',
  '--zerotier-default-network': 'defaultNetwork',
} as const;

/** Removes the flags from `argv` (both `--flag value` and `--flag=value`) and applies them. */
export function takeZeroTierFlags(argv: readonly string[]): string[] {
  const rest: string[] = [];
  const settings: NodeSettings = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!(name in flags)) {
      rest.push(arg);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
      throw new CliError(`${name} needs a value`);
    }
    const key = flags[name as keyof typeof flags];
    if (key === 'defaultNetwork') {
      try {
        settings.defaultNetwork = checkNetworkId(value, name);
      } catch {
        throw new CliError(`${name} must be a 16-digit hex network id, not ${value}`);
      }
    } else {
      settings.identityPath = value;
    }
  }
  setCommandLineSettings(settings);
  return rest;
}
