#!/usr/bin/env node
// lwIP, libsodium and liblz4 are compiled into the addon from Debian's source packages
// (brief, decision 6). This script brings them into a build folder at build time, never
// into the repository: `apt-get source` with a private source list (the machine's apt
// configuration stays as it is), which unpacks each package with Debian's own patches,
// then builds libsodium as a position-independent static library (its autotools build
// picks the right CPU-specific files and flags; lwIP and lz4 are a handful of plain C
// files that CMakeLists.txt and binding.gyp compile themselves).
//
//   node scripts/third-party.js              fetch and build what is missing (quiet)
//   node scripts/third-party.js --gyp-sources  the lwIP and lz4 .c files, for binding.gyp
//   node scripts/third-party.js --print KEY  one path: dir, lwip, lz4, sodium-include,
//                                            sodium-lib
//
// The folder is $ZTS_DEPS_DIR or build-deps/ beside package.json. Needs, on the build
// machine only: apt-get with Debian's bookworm sources reachable, dpkg-dev (dpkg-source),
// patch, autoconf, automake, libtool, make and a C compiler. Our lwIP patches
// (native/engine/tap/lwip-port/patches/) are applied to a copy of Debian's lwIP. Messages
// go to stderr: binding.gyp expands stdout.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dir = path.resolve(process.env.ZTS_DEPS_DIR || path.join(root, 'build-deps'));
// The versions Debian 12 (bookworm) carries; a different version is a different build.
const packages = {
  lwip: { source: 'lwip', folder: 'lwip-2.1.3+dfsg1' },
  sodium: { source: 'libsodium', folder: 'libsodium-1.0.18' },
  lz4: { source: 'lz4', folder: 'lz4-1.9.4' },
};
const src = path.join(dir, 'src');
// Our own patches to lwIP (each file says what it fixes and why), applied in name order to
// a copy of Debian's source. The copy is named after the patch set's hash, so a changed set
// makes a new copy instead of patching one twice.
const patchDir = path.join(root, 'native', 'engine', 'tap', 'lwip-port', 'patches');
const lwipPatches = fs.existsSync(patchDir)
  ? fs
      .readdirSync(patchDir)
      .filter((f) => f.endsWith('.patch'))
      .sort()
      .map((f) => path.join(patchDir, f))
  : [];
const patchSetHash = () => {
  const h = require('node:crypto').createHash('sha256');
  for (const f of lwipPatches) h.update(path.basename(f)).update('\0').update(fs.readFileSync(f));
  return h.digest('hex').slice(0, 12);
};
const lwipPatched = path.join(src, `${packages.lwip.folder}-zts-${patchSetHash()}`);
const paths = {
  dir,
  lwip: lwipPatches.length > 0 ? lwipPatched : path.join(src, packages.lwip.folder),
  lz4: path.join(src, packages.lz4.folder),
  'sodium-include': path.join(dir, 'sodium', 'include'),
  'sodium-lib': path.join(dir, 'sodium', 'lib', 'libsodium.a'),
};

const say = (m) => process.stderr.write(`third-party: ${m}\n`);
// Quiet unless a step fails; then its output is shown.
function run(cmd, args, opts = {}) {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts });
  } catch (e) {
    const out = `${e.stdout ?? ''}${e.stderr ?? ''}`.split('\n').slice(-40).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${out}`, { cause: e });
  }
}

function aptOptions(work) {
  return [
    '-o',
    `Dir::Etc::SourceList=${path.join(work, 'sources.list')}`,
    '-o',
    'Dir::Etc::SourceParts=/dev/null',
    '-o',
    `Dir::State::Lists=${path.join(work, 'lists')}`,
    '-o',
    'APT::Sandbox::User=root',
  ];
}

// Throws unless `tool` is on the PATH, saying what it is needed for.
function requireTool(tool, purpose) {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${tool} is needed ${purpose}`);
  }
}

// Unpacks the three source packages (with Debian's patches applied) into src/.
function fetchSources() {
  const missing = Object.values(packages).filter(
    (p) => !fs.existsSync(path.join(src, p.folder, '.zts-complete')),
  );
  if (missing.length === 0) return;
  for (const tool of ['apt-get', 'dpkg-source', 'autoreconf', 'libtoolize']) {
    requireTool(
      tool,
      "to fetch Debian's sources of lwIP, libsodium and liblz4 " +
        '(Debian: apt-get install -y dpkg-dev patch autoconf automake libtool)',
    );
  }
  say(`fetching Debian source packages: ${missing.map((p) => p.source).join(' ')}`);
  fs.mkdirSync(dir, { recursive: true });
  const work = fs.mkdtempSync(path.join(dir, 'fetch-'));
  try {
    fs.writeFileSync(
      path.join(work, 'sources.list'),
      'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ' +
        'http://deb.debian.org/debian bookworm main\n',
    );
    fs.mkdirSync(path.join(work, 'lists', 'partial'), { recursive: true });
    run('apt-get', [...aptOptions(work), '-qq', 'update']);
    run('apt-get', [...aptOptions(work), '-qq', 'source', ...missing.map((p) => p.source)], {
      cwd: work,
    });
    fs.mkdirSync(src, { recursive: true });
    for (const p of missing) {
      const target = path.join(src, p.folder);
      fs.rmSync(target, { recursive: true, force: true });
      fs.renameSync(path.join(work, p.folder), target);
      fs.writeFileSync(path.join(target, '.zts-complete'), '');
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// Debian's lwIP with our patches, in a folder of its own (older patch sets' folders go).
function patchLwip() {
  if (lwipPatches.length === 0 || fs.existsSync(path.join(lwipPatched, '.zts-complete'))) return;
  requireTool('patch', 'to apply our lwIP patches (Debian: apt-get install -y patch)');
  say(`applying ${lwipPatches.length} lwIP patch(es)`);
  const prefix = `${packages.lwip.folder}-zts-`;
  for (const f of fs.readdirSync(src)) {
    if (f.startsWith(prefix)) fs.rmSync(path.join(src, f), { recursive: true, force: true });
  }
  const work = `${lwipPatched}.partial`;
  fs.cpSync(path.join(src, packages.lwip.folder), work, { recursive: true });
  fs.rmSync(path.join(work, '.zts-complete'), { force: true });
  for (const f of lwipPatches) {
    run('patch', ['-p1', '--forward', '--batch', '--quiet', '-d', work, '-i', f]);
  }
  fs.writeFileSync(path.join(work, '.zts-complete'), '');
  fs.renameSync(work, lwipPatched);
}

// libsodium as a static library with -fPIC, installed into sodium/.
function buildSodium() {
  if (fs.existsSync(paths['sodium-lib'])) return;
  say('building libsodium (static, position-independent)');
  const build = path.join(dir, 'sodium-build');
  fs.rmSync(build, { recursive: true, force: true });
  fs.cpSync(path.join(src, packages.sodium.folder), build, { recursive: true });
  const prefix = path.join(dir, 'sodium-install');
  fs.rmSync(prefix, { recursive: true, force: true });
  const env = { ...process.env, CFLAGS: '-O2 -fPIC -fvisibility=hidden' };
  // Debian's orig tarball is a git snapshot without configure: make it as Debian's own
  // build does (autoreconf).
  if (!fs.existsSync(path.join(build, 'configure'))) run('autoreconf', ['-fi'], { cwd: build });
  run(
    './configure',
    [
      `--prefix=${prefix}`,
      '--disable-shared',
      '--enable-static',
      '--with-pic',
      '--disable-dependency-tracking',
      '--disable-ssp',
    ],
    { cwd: build, env },
  );
  run('make', [`-j${Math.max(2, require('node:os').availableParallelism())}`, 'install'], {
    cwd: build,
    env,
  });
  fs.rmSync(path.join(dir, 'sodium'), { recursive: true, force: true });
  fs.renameSync(prefix, path.join(dir, 'sodium'));
  fs.rmSync(build, { recursive: true, force: true });
}

// lwIP's raw-API core (IPv4, IPv6, Ethernet; no sockets/netconn, no PPP) with our port
// (sys_now, random numbers), and lz4's one file. CMakeLists.txt lists the same folders.
function cSources() {
  const lwip = path.join(paths.lwip, 'src');
  const list = (sub) =>
    fs
      .readdirSync(path.join(lwip, sub))
      .filter((f) => f.endsWith('.c'))
      .sort()
      .map((f) => path.join(lwip, sub, f));
  return [
    ...list('core'),
    ...list('core/ipv4'),
    ...list('core/ipv6'),
    path.join(lwip, 'netif', 'ethernet.c'),
    path.join(lwip, 'api', 'err.c'),
    path.join(root, 'native', 'engine', 'tap', 'lwip-port', 'port.c'),
    path.join(paths.lz4, 'lib', 'lz4.c'),
  ];
}

function main() {
  const args = process.argv.slice(2);
  try {
    fetchSources();
    patchLwip();
    buildSodium();
  } catch (e) {
    process.stderr.write(`zerotier-sockets: cannot prepare lwIP/libsodium/liblz4: ${e.message}\n`);
    process.exit(1);
  }
  // gyp wants sources relative to binding.gyp's folder.
  if (args[0] === '--gyp-sources')
    process.stdout.write(
      cSources()
        .map((f) => path.relative(root, f))
        .join('\n') + '\n',
    );
  else if (args[0] === '--print') {
    if (!(args[1] in paths)) {
      process.stderr.write(`third-party: --print takes one of ${Object.keys(paths).join(', ')}\n`);
      process.exit(2);
    }
    process.stdout.write(paths[args[1]]);
  }
}

main();
