/**
 * `zerotier-sockets idtool`: the stock zerotier-idtool's identity subcommands, with the
 * same arguments, messages and exit codes (0 success, 1 any failure), so scripts written
 * for one work with the other.
 */
import { readFile } from 'node:fs/promises';

import { Identity } from '../identity.js';
import { CliError, type CliIo } from './io.js';

export const idtoolUsage = `Usage: zerotier-sockets idtool <command> [<args>]

Commands:
  generate [<identity.secret>] [<identity.public>]
  validate <identity.secret/public>
  getpublic <identity.secret>
  sign <identity.secret> <file>
  verify <identity.secret/public> <file> <signature>
`;

/** Stock idtool takes either a file or the identity text itself as the argument. */
async function loadIdentity(arg: string): Promise<Identity> {
  let text = arg;
  const looksLiteral = arg.length > 32 && arg[10] === ':';
  if (!looksLiteral) {
    try {
      text = await readFile(arg, 'utf8');
    } catch {
      throw new CliError(`Identity argument invalid or file unreadable: ${arg}`);
    }
  }
  try {
    return Identity.parse(text);
  } catch {
    throw new CliError(`Identity argument invalid or file unreadable: ${arg}`);
  }
}

async function readMessage(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch {
    throw new CliError(`${file} is not readable`);
  }
}

/** A signature is hex on the command line, or (as stock allows) a file holding the hex. */
async function signatureCandidates(arg: string): Promise<Buffer[]> {
  const candidates: Buffer[] = [];
  if (/^[0-9a-fA-F]*$/.test(arg) && arg.length % 2 === 0) candidates.push(Buffer.from(arg, 'hex'));
  try {
    const fromFile = (await readFile(arg, 'utf8')).trim();
    if (/^[0-9a-fA-F]+$/.test(fromFile)) candidates.push(Buffer.from(fromFile, 'hex'));
  } catch {
    // not a file: the argument was the signature itself
  }
  return candidates;
}

export async function runIdtool(args: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  const [arg1 = '', arg2 = '', arg3 = ''] = rest;
  switch (command) {
    case 'generate': {
      const identity = await Identity.generate();
      const [secretFile, publicFile] = rest;
      if (secretFile === undefined) {
        io.out(`${identity.toSecretString()}\n`);
        return 0;
      }
      try {
        await identity.writeFiles(secretFile, publicFile);
      } catch (e) {
        throw new CliError(`cannot write identity: ${(e as Error).message}`);
      }
      io.out(`${secretFile} written\n`);
      if (publicFile !== undefined) io.out(`${publicFile} written\n`);
      return 0;
    }
    case 'validate': {
      if (rest.length < 1) break;
      const identity = await loadIdentity(arg1);
      if (!(await identity.validate())) throw new CliError(`${arg1} FAILED validation.`);
      io.out(`${arg1} is a valid identity\n`);
      return 0;
    }
    case 'getpublic': {
      if (rest.length < 1) break;
      io.out(`${(await loadIdentity(arg1)).toString()}\n`);
      return 0;
    }
    case 'sign': {
      if (rest.length < 2) break;
      const identity = await loadIdentity(arg1);
      if (!identity.hasPrivate) {
        throw new CliError(`${arg1} does not contain a private key (must use private to sign)`);
      }
      const message = await readMessage(arg2);
      io.out(`${identity.sign(message).toString('hex')}\n`);
      return 0;
    }
    case 'verify': {
      if (rest.length < 3) break;
      const identity = await loadIdentity(arg1);
      const message = await readMessage(arg2);
      const valid = (await signatureCandidates(arg3)).some((sig) => identity.verify(message, sig));
      if (!valid) throw new CliError(`${arg2} signature check FAILED`);
      io.out(`${arg2} signature valid\n`);
      return 0;
    }
    default:
      break;
  }
  io.out(idtoolUsage);
  return 1;
}
