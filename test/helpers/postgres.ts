// A throwaway PostgreSQL cluster on loopback, from Debian's postgresql package: initdb in
// a test folder, the server in the foreground as a child process, stopped by the caller.
// As root it runs as the package's `postgres` user (PostgreSQL refuses to run as root).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { run } from './child.js';
import { eventually } from './events.js';
import { withoutSanitizerPreload } from './sanitizers.js';

export interface Postgres {
  port: number;
  /** Where psql, pg_isready, ... live. */
  bin: string;
  stop(): Promise<void>;
}

/** The newest installed PostgreSQL's bin folder, or undefined without the package. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(root, versions[0], 'bin');
}

async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const uid = await run('id', ['-u', 'postgres']);
  const gid = await run('id', ['-g', 'postgres']);
  if (uid.code !== 0) throw new Error('running as root and there is no postgres user');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startPostgres(dir: string, port: number): Promise<Postgres> {
  const bin = postgresBin();
  if (bin === undefined) throw new Error('PostgreSQL is not installed (Debian package postgresql)');
  const user = await postgresUser();
  const data = path.join(dir, 'pgdata');
  mkdirSync(data, { mode: 0o700 });
  if (user) {
    chmodSync(dir, 0o755); // the postgres user must reach its data folder
    chownSync(data, user.uid, user.gid);
  }
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  const init = await run(
    path.join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
    { ...asUser, timeoutMs: 120_000 },
  );
  if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const server: ChildProcess = spawn(
    path.join(bin, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      data,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
    ],
    {
      ...asUser,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: withoutSanitizerPreload(path.join(bin, 'postgres')),
    },
  );
  let log = '';
  server.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  try {
    await eventually(() => {
      if (server.exitCode !== null) throw new Error(`postgres exited: ${log}`);
      return log.includes('ready to accept connections');
    }, 60_000);
  } catch (e) {
    server.kill('SIGKILL');
    throw e;
  }
  return {
    port,
    bin,
    async stop() {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGINT'); // fast shutdown
      await exited;
    },
  };
}
