/**
 * `zerotier-sockets inspect`: one line per UDP datagram of a pcap capture, in ZeroTier
 * terms, with the MAC checked against the keys the given identities agree on. The tool
 * for finding out why a stock peer does not answer.
 */
import { readFile } from 'node:fs/promises';

import { Identity } from '../identity.js';
import { inspectCapture, type InspectedDatagram } from '../inspect/inspect.js';
import { PcapError, parsePcap } from '../inspect/pcap.js';
import { CliError, type CliIo } from './io.js';

export const inspectUsage = `Usage: zerotier-sockets inspect <capture.pcap> [--identity <file>]... [--json]

  Prints one line per UDP datagram: time, UDP endpoints, ZeroTier addresses, fragment
  number/total, cipher suite, verb and the MAC check (ok, bad, unknown-key,
  unsupported-cipher, incomplete, malformed, truncated; none for beacons).
  --identity  an identity.secret (gives keys) or identity.public; repeatable. Peers'
              identities are also learned from the HELLOs in the capture.
  --json      one JSON object per line
`;

interface InspectArgs {
  capture: string;
  identityFiles: string[];
  json: boolean;
}

function parseArgs(args: readonly string[]): InspectArgs | null {
  const identityFiles: string[] = [];
  const positional: string[] = [];
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--json') json = true;
    else if (arg.startsWith('--identity=')) identityFiles.push(arg.slice('--identity='.length));
    else if (arg === '--identity') {
      const file = args[++i];
      if (file === undefined) return null;
      identityFiles.push(file);
    } else if (arg.startsWith('-') && arg !== '-') return null;
    else positional.push(arg);
  }
  const [capture] = positional;
  if (capture === undefined || positional.length > 1) return null;
  return { capture, identityFiles, json };
}

const reason = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

async function loadIdentity(file: string): Promise<Identity> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CliError(`${file}: cannot read the identity file (${reason(e)})`);
  }
  try {
    return Identity.parse(text.trim());
  } catch {
    throw new CliError(`${file}: not a ZeroTier identity (address:0:public[:private])`);
  }
}

function formatText(r: InspectedDatagram): string {
  const fragment =
    r.fragment === null ? '' : ` frag ${r.fragment.number}/${r.fragment.total ?? '?'}`;
  const verb = `${r.verb ?? '?'}${r.compression === null ? '' : ` ${r.compression}`}`;
  return (
    `${r.time} ${r.src} > ${r.dst} zt ${r.srcAddress ?? '?'} > ${r.dstAddress ?? '?'}` +
    `${fragment} cipher ${r.cipher ?? '?'} ${verb} mac ${r.mac}\n`
  );
}

function formatJson(r: InspectedDatagram): string {
  const { time, src, dst, srcAddress, dstAddress, fragment, cipher, verb, mac } = r;
  return `${JSON.stringify({ time, src, dst, srcAddress, dstAddress, fragment, cipher, verb, mac })}\n`;
}

export async function runInspect(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed === null) {
    io.err(inspectUsage);
    return 1;
  }
  const { capture, identityFiles, json } = parsed;
  const identities = await Promise.all(identityFiles.map(loadIdentity));
  let data: Buffer;
  try {
    data = await readFile(capture);
  } catch (e) {
    throw new CliError(`${capture}: cannot read the capture (${reason(e)})`);
  }
  let pcap: ReturnType<typeof parsePcap>;
  try {
    pcap = parsePcap(data);
  } catch (e) {
    if (e instanceof PcapError) throw new CliError(`${capture}: ${e.message}`);
    throw e;
  }
  const format = json ? formatJson : formatText;
  const lines = inspectCapture(pcap.datagrams, identities).map(format);
  if (lines.length > 0) io.out(lines.join(''));
  // What was read before a truncated record is still worth showing; the exit code says the rest.
  if (pcap.error !== undefined) throw new CliError(`${capture}: ${pcap.error.message}`);
  return 0;
}
