// A small lab on loopback for the examples and benchmarks: a root with its own planet, and
// nodes in child processes (one ZeroTier node per process), each printing JSON events.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Identity, generatePlanetKey, makePlanet } from 'zerotier-sockets';

const cli = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'dist',
  'cli',
  'main.js',
);

export async function freeUdpPort() {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** `zerotier-sockets node --json` in a child process; waitFor() matches its event lines. */
export function startNodeProcess(args) {
  const child = spawn(process.execPath, [cli, 'node', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = [];
  const waiters = [];
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
      waiters.splice(0).forEach((w) => w());
    }
  });
  const waitFor = async (match) => {
    for (;;) {
      const found = lines.find(match);
      if (found) return found;
      if (child.exitCode !== null) throw new Error(`node process exited with ${child.exitCode}`);
      await new Promise((r) => waiters.push(r));
    }
  };
  return { child, lines, waitFor, stop: () => child.kill('SIGTERM') };
}

/** A root on 127.0.0.1 and the planet naming it, in a temporary folder. */
export async function startLabRoot() {
  const dir = mkdtempSync(path.join(tmpdir(), 'zts-lab-'));
  const identity = await Identity.generate();
  await identity.writeFiles(path.join(dir, 'identity.secret'), path.join(dir, 'identity.public'));
  const port = await freeUdpPort();
  const planet = makePlanet({
    roots: [{ identity, endpoints: [`127.0.0.1/${port}`] }],
    signingKey: await generatePlanetKey(),
  });
  const planetFile = path.join(dir, 'planet');
  writeFileSync(planetFile, planet);
  const root = startNodeProcess([
    '--storage',
    dir,
    '--planet',
    planetFile,
    '--port',
    String(port),
    '--lab',
    '--root',
    '--stats',
    '200',
  ]);
  await root.waitFor((l) => l.event === 'started');
  const children = [root];
  return {
    dir,
    planetFile,
    root,
    address: identity.address,
    /** Another node of the lab, in its own process. */
    async startPeer(name) {
      const peer = startNodeProcess([
        '--storage',
        path.join(dir, name),
        '--planet',
        planetFile,
        '--lab',
      ]);
      children.push(peer);
      const address = (await peer.waitFor((l) => l.event === 'started')).address;
      await peer.waitFor((l) => l.event === 'online');
      return { ...peer, address };
    },
    close() {
      for (const c of children) c.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
