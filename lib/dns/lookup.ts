/**
 * `lookup`, with the signature of node:dns `lookup`, over the process's ZeroTier node: hand
 * it to anything that takes a `lookup` option (undici, ws, database clients) so that names
 * on the node's networks resolve through the networks' DNS servers.
 */
import { isIP } from 'node:net';
import { promisify } from 'node:util';

import { NodeService, type ZeroTierNode } from '../node.js';
import { invalidArgValue, validateFunction, validateString } from '../validate.js';
import type { ResolvedAddress } from './network-lookup.js';
import { dnsError } from './resolver.js';

export interface LookupOptions {
  family?: 0 | 4 | 6 | 'IPv4' | 'IPv6';
  all?: boolean;
  hints?: number;
  verbatim?: boolean;
  order?: 'ipv4first' | 'ipv6first' | 'verbatim';
  /** The node to resolve on (default: the process's running node). */
  node?: ZeroTierNode;
}

type LookupOneCallback = (
  err: NodeJS.ErrnoException | null,
  address: string,
  family: number,
) => void;
type LookupAllCallback = (err: NodeJS.ErrnoException | null, addresses: ResolvedAddress[]) => void;

function familyOf(value: unknown): 0 | 4 | 6 {
  if (value === undefined || value === 0) return 0;
  if (value === 4 || value === 'IPv4') return 4;
  if (value === 6 || value === 'IPv6') return 6;
  throw invalidArgValue('options.family', value, "must be one of: 0, 4, 6, 'IPv4', 'IPv6'");
}

function noNode(): NodeJS.ErrnoException {
  const e = new Error('no ZeroTier node is running: start one with NodeService.acquire()');
  (e as NodeJS.ErrnoException).code = 'ERR_ZT_NO_NODE';
  return e;
}

/**
 * Resolves `hostname` on the networks' DNS, like dns.lookup: `(err, address, family)`, or
 * `(err, [{ address, family }])` with `all: true`. IP literals come back as they are; names
 * in no joined network's domain fail with ENOTFOUND without a query being sent.
 */
export function lookup(hostname: string, callback: LookupOneCallback): void;
export function lookup(
  hostname: string,
  options: number | (LookupOptions & { all?: false }),
  callback: LookupOneCallback,
): void;
export function lookup(
  hostname: string,
  options: LookupOptions & { all: true },
  callback: LookupAllCallback,
): void;
export function lookup(
  hostname: string,
  options: number | LookupOptions,
  callback: LookupOneCallback | LookupAllCallback,
): void;
export function lookup(
  hostname: string,
  options: number | LookupOptions | LookupOneCallback,
  callback?: LookupOneCallback | LookupAllCallback,
): void {
  validateString(hostname, 'hostname');
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  validateFunction(callback, 'callback');
  const opts: LookupOptions =
    typeof options === 'number' ? { family: options as 0 | 4 | 6 } : (options ?? {});
  const family = familyOf(opts.family);
  const cb = callback;
  const node = opts.node ?? NodeService.node;
  const done = (err: NodeJS.ErrnoException | null, list: ResolvedAddress[]) => {
    if (opts.all) (cb as LookupAllCallback)(err, err ? [] : list);
    else {
      const first = list[0];
      (cb as LookupOneCallback)(err, first?.address ?? '', first?.family ?? 0);
    }
  };
  const literal = isIP(hostname);
  if (literal !== 0) {
    // Like dns.lookup: an IP is its own answer (a mismatched family finds nothing).
    const err =
      family !== 0 && family !== literal ? dnsError('ENOTFOUND', 'getaddrinfo', hostname) : null;
    process.nextTick(done, err, [{ address: hostname, family: literal as 4 | 6 }]);
    return;
  }
  if (node === undefined || node.closed) {
    process.nextTick(done, noNode(), []);
    return;
  }
  node.names.resolve(hostname, family).then(
    (list) => {
      const ordered =
        opts.order === 'ipv6first' ? [...list].sort((a, b) => b.family - a.family) : list;
      done(null, ordered);
    },
    (err: NodeJS.ErrnoException) => done(err, []),
  );
}

/** `await promisify(lookup)(name)` gives `{ address, family }` (an array with `all`), as for dns.lookup. */
Object.defineProperty(lookup, promisify.custom, {
  value: (hostname: string, options: number | LookupOptions = {}) =>
    new Promise<ResolvedAddress | ResolvedAddress[]>((resolve, reject) => {
      lookup(hostname, options, ((err: Error | null, a: string | ResolvedAddress[], f?: number) => {
        if (err) reject(err);
        else resolve(Array.isArray(a) ? a : { address: a, family: f as 4 | 6 });
      }) as LookupOneCallback);
    }),
});
