/**
 * Where NodeService's options come from: the code's options object, the command line's
 * --zerotier-* flags, environment variables and a JSON config file, in that order (the
 * first that sets a value wins). The file holds `{ "zerotier": { "identityPath",
 * "defaultNetwork", "planetPath", "port" } }`; its relative paths are read from its own
 * folder.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { invalidArgValue, validateInteger, validateString } from './validate.js';

/** The settings any of the sources may give. */
export interface NodeSettings {
  /** An identity.secret file; made there on first use when missing. */
  identityPath?: string;
  /** The network `acquireDefault()` and the socket APIs join when the app holds none. */
  defaultNetwork?: string;
  /** A planet file. */
  planetPath?: string;
  /** The node's UDP port. */
  port?: number;
}

/** The environment variables read, by setting. */
export const settingsEnv = {
  config: 'ZEROTIER_CONFIG',
  identityPath: 'ZEROTIER_IDENTITY',
  defaultNetwork: 'ZEROTIER_DEFAULT_NETWORK',
  planetPath: 'ZEROTIER_PLANET',
  port: 'ZEROTIER_PORT',
} as const;

let commandLine: NodeSettings = {};

/** What the CLI's --zerotier-identity / --zerotier-default-network flags said. @internal */
export function setCommandLineSettings(settings: NodeSettings): void {
  commandLine = { ...settings };
}

function configError(where: string, why: string): Error {
  const e = new Error(`${where}: ${why}`);
  (e as Error & { code: string }).code = 'ERR_ZT_BAD_CONFIG';
  return e;
}

/** A 16-digit network id, lower case; throws ERR_INVALID_ARG_VALUE otherwise. */
export function checkNetworkId(value: unknown, name: string): string {
  validateString(value, name);
  if (!/^[0-9a-fA-F]{16}$/.test(value)) {
    throw invalidArgValue(name, value, 'must be a 16-digit hex network id');
  }
  return value.toLowerCase();
}

function fromEnv(env: NodeJS.ProcessEnv): NodeSettings {
  const out: NodeSettings = {};
  const get = (name: string) => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const identityPath = get(settingsEnv.identityPath);
  if (identityPath !== undefined) out.identityPath = identityPath;
  const network = get(settingsEnv.defaultNetwork);
  if (network !== undefined)
    out.defaultNetwork = checkNetworkId(network, settingsEnv.defaultNetwork);
  const planetPath = get(settingsEnv.planetPath);
  if (planetPath !== undefined) out.planetPath = planetPath;
  const port = get(settingsEnv.port);
  if (port !== undefined) {
    const n = Number(port);
    if (!/^\d+$/.test(port) || n > 65535) {
      throw configError(settingsEnv.port, `must be a port number from 0 to 65535, not ${port}`);
    }
    out.port = n;
  }
  return out;
}

/** Reads the `zerotier` section of a JSON config file. */
export async function readConfigFile(file: string): Promise<NodeSettings> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw configError(file, (e as Error).message);
  }
  const section = (parsed as { zerotier?: unknown } | null)?.zerotier;
  if (section === undefined) return {};
  if (section === null || typeof section !== 'object' || Array.isArray(section)) {
    throw configError(file, '"zerotier" must be an object');
  }
  const s = section as Record<string, unknown>;
  const known = new Set(['identityPath', 'defaultNetwork', 'planetPath', 'port']);
  for (const key of Object.keys(s)) {
    if (!known.has(key)) throw configError(file, `unknown setting zerotier.${key}`);
  }
  const dir = path.dirname(path.resolve(file));
  const out: NodeSettings = {};
  for (const key of ['identityPath', 'planetPath'] as const) {
    const v = s[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '')
      throw configError(file, `zerotier.${key} must be a path`);
    out[key] = path.resolve(dir, v);
  }
  if (s['defaultNetwork'] !== undefined) {
    try {
      out.defaultNetwork = checkNetworkId(s['defaultNetwork'], 'zerotier.defaultNetwork');
    } catch (e) {
      throw configError(file, (e as Error).message);
    }
  }
  if (s['port'] !== undefined) {
    const port = s['port'];
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw configError(file, 'zerotier.port must be an integer from 0 to 65535');
    }
    out.port = port;
  }
  return out;
}

/**
 * The settings in force: `code` first, then the command line, the environment, and the
 * config file (`configPath`, else $ZEROTIER_CONFIG).
 */
export async function resolveSettings(
  code: NodeSettings & { configPath?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<NodeSettings> {
  if (code.identityPath !== undefined) validateString(code.identityPath, 'options.identityPath');
  if (code.planetPath !== undefined) validateString(code.planetPath, 'options.planetPath');
  if (code.port !== undefined) validateInteger(code.port, 'options.port', 0, 65535);
  const fromCode: NodeSettings = { ...code };
  if (code.defaultNetwork !== undefined) {
    fromCode.defaultNetwork = checkNetworkId(code.defaultNetwork, 'options.defaultNetwork');
  }
  const configPath = code.configPath ?? env[settingsEnv.config];
  const file = configPath ? await readConfigFile(configPath) : {};
  const layers = [fromCode, commandLine, fromEnv(env), file];
  const out: NodeSettings = {};
  for (const key of ['identityPath', 'defaultNetwork', 'planetPath', 'port'] as const) {
    for (const layer of layers) {
      if (layer[key] !== undefined) {
        (out as Record<string, unknown>)[key] = layer[key];
        break;
      }
    }
  }
  return out;
}
