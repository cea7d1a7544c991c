// A real PostgreSQL server (Debian's package, a throwaway cluster on loopback) reached
// over a lab network: from psql through two `zerotier-sockets forward` processes (host ->
// ZeroTier -> host), and from the pg npm client whose socket is ours (pg calls
// socket.connect() on the socket it is given).
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { NodeService, net, type LabHandle, type NodeRef } from '../lib/index.js';
import { run } from './helpers/child.js';
import { type NodeProcess, spawnNode, startTestLab } from './helpers/lab.js';
import { freeLoopbackPort } from './helpers/ports.js';
import { startPostgres, type Postgres } from './helpers/postgres.js';
import { suiteTempDir } from './helpers/tmp.js';

async function joinedIp(p: NodeProcess): Promise<string> {
  const line = await p.waitFor((l) => l.event === 'network', 40_000);
  return (line['addresses'] as string[])[0]!.split('/')[0]!;
}

describe('PostgreSQL over ZeroTier', () => {
  let dir: string;
  let postgres: Postgres;
  let lab: LabHandle;
  let ref: NodeRef;
  let serverSide: NodeProcess;
  let serverIp: string;
  let clientSide: NodeProcess;
  let localPort: number;

  beforeAll(async () => {
    dir = suiteTempDir('zts-pg-');
    postgres = await startPostgres(dir, await freeLoopbackPort());
    lab = await startTestLab(path.join(dir, 'lab'));
    const nwid = await lab.createNetwork({ name: 'pg', ipv4: ['10.96.0.0/24'] });
    const node = (name: string, rule: string) =>
      spawnNode(
        [
          '--storage',
          path.join(dir, name),
          '--planet',
          lab.info.planetPath,
          '--lab',
          '--join',
          nwid,
          rule,
        ],
        true,
        'forward',
      );
    // The database's side: ZeroTier port 5432 -> the server on loopback.
    serverSide = node('db', `zt:5432=127.0.0.1:${postgres.port}`);
    await lab.authorize(nwid, await serverSide.address());
    serverIp = await joinedIp(serverSide);
    // psql's side: a loopback port -> the database's side over ZeroTier.
    localPort = await freeLoopbackPort();
    clientSide = node('psql', `127.0.0.1:${localPort}=${serverIp}:5432`);
    await lab.authorize(nwid, await clientSide.address());
    await joinedIp(clientSide);
    await clientSide.waitFor((l) => l.event === 'forward');
    // This process: the pg client's node.
    ref = await NodeService.acquire({
      storagePath: path.join(dir, 'node-client'),
      planet: lab.info.planetPath,
      lab: true,
    });
    await lab.authorize(nwid, ref.node.address);
    const lease = await ref.node.join(nwid);
    await lease.ready({ timeoutMs: 30_000, waitForAuthorization: true });
  }, 120_000);

  afterAll(async () => {
    await ref?.release();
    await clientSide?.stop();
    await serverSide?.stop();
    await lab?.close();
    await postgres?.stop();
  });

  const psql = (sql: string) =>
    run(
      path.join(postgres.bin, 'psql'),
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(localPort),
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-At',
        '-c',
        sql,
      ],
      { env: { ...process.env, PGCONNECT_TIMEOUT: '20' }, timeoutMs: 30_000 },
    );

  it('psql through forward both ways', async () => {
    const made = await psql('create table items (id int primary key, name text)');
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    const version = await psql('select version()');
    expect(version.stdout).toMatch(/^PostgreSQL \d+/);
  });

  it('the pg client on our socket: inserts, a transaction, a checksum psql agrees with', async () => {
    const client = new pg.Client({
      host: serverIp,
      port: 5432,
      user: 'postgres',
      database: 'postgres',
      // pg calls connect(port, host) on the socket it is given, as on a node:net one.
      stream: () => new net.Socket() as never,
    });
    await client.connect();
    const rounds = 200;
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) {
      await client.query('insert into items (id, name) values ($1, $2)', [i, `item ${i}`]);
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(
      `pg over ZeroTier via forward: ${(rounds / seconds).toFixed(0)} inserts/s ` +
        `(${((seconds / rounds) * 1000).toFixed(2)} ms each)`,
    );
    await client.query('begin');
    await client.query("update items set name = name || '!' where id % 2 = 0");
    await client.query('commit');
    const sum = "select count(*) || ' ' || md5(string_agg(name, ',' order by id)) from items";
    const ours = (await client.query<{ '?column?': string }>(sum)).rows[0]!['?column?'];
    await client.end();
    expect(ours).toMatch(/^200 [0-9a-f]{32}$/);
    expect((await psql(sum)).stdout.trim()).toBe(ours);
  });
});
