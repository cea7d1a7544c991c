// NodeService's options from code, the command line's --zerotier-* flags, environment
// variables and a JSON config file, code winning; acquireDefault(); and the flags on the
// CLI's commands.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { main } from '../lib/cli/main.js';
import { Identity, NodeService, readConfigFile, resolveSettings } from '../lib/index.js';
import { setCommandLineSettings } from '../lib/node-config.js';
import { runNode } from './helpers/child.js';
import { idlePlanet, spawnNode } from './helpers/lab.js';
import { startLabNetwork } from './helpers/lab-network.js';
import { cliPath } from './helpers/paths.js';
import { freeLoopbackPort } from './helpers/ports.js';
import { suiteTempDir, tempDir } from './helpers/tmp.js';

const netA = 'aaaaaaaaaaaaaaaa';
const netB = 'bbbbbbbbbbbbbbbb';
const netC = 'cccccccccccccccc';
const netD = 'dddddddddddddddd';

function configFile(dir: string, zerotier: unknown): string {
  const file = path.join(dir, 'app.json');
  writeFileSync(file, JSON.stringify({ app: { other: true }, zerotier }));
  return file;
}

afterEach(() => setCommandLineSettings({}));

describe('node settings', () => {
  it('take code first, then the command line, the environment, then the file', async () => {
    const dir = tempDir();
    const file = configFile(dir, {
      identityPath: 'file.secret',
      defaultNetwork: netD,
      planetPath: 'file.planet',
      port: 4001,
    });
    const env = {
      ZEROTIER_CONFIG: file,
      ZEROTIER_IDENTITY: '/env/identity.secret',
      ZEROTIER_DEFAULT_NETWORK: netC.toUpperCase(),
      ZEROTIER_PORT: '4002',
    };
    // The file alone; its relative paths are read from its folder.
    expect(await resolveSettings({}, { ZEROTIER_CONFIG: file })).toEqual({
      identityPath: path.join(dir, 'file.secret'),
      defaultNetwork: netD,
      planetPath: path.join(dir, 'file.planet'),
      port: 4001,
    });
    // The environment over the file (the planet still from the file).
    expect(await resolveSettings({}, env)).toEqual({
      identityPath: '/env/identity.secret',
      defaultNetwork: netC,
      planetPath: path.join(dir, 'file.planet'),
      port: 4002,
    });
    // The command line over the environment.
    setCommandLineSettings({ defaultNetwork: netB, identityPath: '/cli/identity.secret' });
    expect(await resolveSettings({}, env)).toMatchObject({
      identityPath: '/cli/identity.secret',
      defaultNetwork: netB,
      port: 4002,
    });
    // Code over everything; an explicit configPath over $ZEROTIER_CONFIG.
    const other = configFile(tempDir(), { planetPath: '/other/planet' });
    expect(
      await resolveSettings({ defaultNetwork: netA, port: 4003, configPath: other }, env),
    ).toEqual({
      identityPath: '/cli/identity.secret',
      defaultNetwork: netA,
      planetPath: '/other/planet',
      port: 4003,
    });
    // Nothing set anywhere.
    setCommandLineSettings({});
    expect(await resolveSettings({}, {})).toEqual({});
  });

  it('refuse bad values with the place they came from', async () => {
    const dir = tempDir();
    const bad: Array<[unknown, RegExp]> = [
      [{ port: 70000 }, /zerotier\.port/],
      [{ port: '9993' }, /zerotier\.port/],
      [{ defaultNetwork: 'xyz' }, /defaultNetwork/],
      [{ identityPath: 5 }, /zerotier\.identityPath/],
      [{ planetpath: 'typo' }, /unknown setting zerotier\.planetpath/],
      [[], /"zerotier" must be an object/],
    ];
    for (const [section, message] of bad) {
      const file = configFile(dir, section);
      await expect(readConfigFile(file)).rejects.toMatchObject({
        code: 'ERR_ZT_BAD_CONFIG',
        message,
      });
    }
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{ "zerotier": ');
    await expect(readConfigFile(broken)).rejects.toMatchObject({ code: 'ERR_ZT_BAD_CONFIG' });
    await expect(resolveSettings({}, { ZEROTIER_PORT: 'x' })).rejects.toMatchObject({
      code: 'ERR_ZT_BAD_CONFIG',
    });
    await expect(resolveSettings({}, { ZEROTIER_DEFAULT_NETWORK: '12' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
    await expect(resolveSettings({ port: -1 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    // A file without a zerotier section sets nothing.
    writeFileSync(broken, '{ "app": {} }');
    expect(await readConfigFile(broken)).toEqual({});
  });
});

describe('NodeService from a config file', () => {
  it('starts with the file identity, planet and port; code options win', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'planet'), await idlePlanet());
    const port = await freeLoopbackPort();
    const file = configFile(dir, {
      identityPath: 'ids/node.secret',
      planetPath: 'planet',
      port: 1, // code's port wins below
      defaultNetwork: netA,
    });
    let address: string;
    {
      await using ref = await NodeService.acquire({ configPath: file, port, lab: true });
      expect(ref.node.port).toBe(port);
      expect(ref.node.defaultNetwork).toBe(netA);
      address = ref.node.address;
    }
    // The identity was made in the file named, and is used again.
    const saved = await Identity.fromFile(path.join(dir, 'ids', 'node.secret'));
    expect(saved.address).toBe(address);
    expect(saved.hasPrivate).toBe(true);
    await using again = await NodeService.acquire({ configPath: file, port: 0, lab: true });
    expect(again.node.address).toBe(address);
  });

  it('acquireDefault joins the default network, and releasing leaves it and the node', async () => {
    const planet = await idlePlanet();
    {
      const def = await NodeService.acquireDefault({ planet, lab: true, defaultNetwork: netB });
      expect(def.id).toBe(netB);
      expect(def.node.leases(netB)).toBe(1);
      expect((await def.node.networks()).map((n) => n.id)).toEqual([netB]);
      // The app's own lease and the default one count separately.
      const mine = await def.node.join(netB);
      expect(def.node.leases(netB)).toBe(2);
      await mine.release();
      await def.release();
      expect(def.node.leases(netB)).toBe(0);
      expect(NodeService.node).toBeUndefined();
    }
    await expect(NodeService.acquireDefault({ planet, lab: true })).rejects.toMatchObject({
      code: 'ERR_ZT_NO_DEFAULT_NETWORK',
    });
    expect(NodeService.node).toBeUndefined();
  });
});

describe('--zerotier-identity and --zerotier-default-network', () => {
  it('every command takes them; a bad network id is refused', async () => {
    const dir = tempDir();
    const planetFile = path.join(dir, 'planet');
    writeFileSync(planetFile, await idlePlanet());
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    const flags = [
      '--zerotier-identity',
      path.join(dir, 'x.secret'),
      `--zerotier-default-network=${netA}`,
    ];
    expect(await main(['planet', 'show', planetFile, ...flags], io)).toBe(0);
    expect(await main([...flags, 'help'], io)).toBe(0);
    expect(await main(['idtool', 'generate', ...flags], io)).toBe(0);
    expect(
      await main(['planet', 'show', planetFile, '--zerotier-default-network', 'nope'], io),
    ).toBe(1);
    expect(err.join('')).toMatch(/--zerotier-default-network must be a 16-digit hex network id/);
    expect(await main(['planet', 'show', planetFile, '--zerotier-identity'], io)).toBe(1);
    // node needs a storage folder or an identity file.
    expect(await main(['node', '--planet', planetFile, '--lab'], io)).toBe(1);
    expect(err.join('')).toMatch(/--storage \(or --zerotier-identity\) is required/);
    const help = await runNode([cliPath, '--help']);
    expect(help.stdout).toContain('--zerotier-identity <file>');
  });

  it('node: runs with that identity and joins that network', async () => {
    // For the whole file: the lab (closed after the file) lives in it.
    const dir = suiteTempDir('zts-nodecfg-');
    const { lab, nwid } = await startLabNetwork(dir, '10.147.21.0/24');
    const identity = await Identity.generate();
    const idFile = path.join(dir, 'mine.secret');
    await identity.writeFiles(idFile, path.join(dir, 'mine.public'));
    await lab.authorize(nwid, identity.address);
    // No --storage: the identity file is enough.
    const proc = spawnNode([
      '--planet',
      lab.info.planetPath,
      '--lab',
      '--zerotier-identity',
      idFile,
      '--zerotier-default-network',
      nwid,
    ]);
    expect(await proc.address()).toBe(identity.address);
    const joined = await proc.waitFor(
      (l) => l.event === 'network' && l['nwid'] === nwid && l['status'] === 'OK',
      30_000,
    );
    expect(joined['addresses']).toContainEqual(expect.stringMatching(/^10\.147\.21\./));
  });
});
