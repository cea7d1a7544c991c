#!/usr/bin/env node
// Stops a native build early, naming the Debian package to install, when a system library
// the addon links is missing. Used by CMakeLists.txt and binding.gyp alike; prints nothing
// on success (binding.gyp expands its output).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const includeDirs = ['/usr/include', '/usr/local/include'];
const libDirs = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib',
  '/usr/local/lib',
  '/lib/x86_64-linux-gnu',
];

const requirements = [
  { what: 'libsodium', header: 'sodium.h', lib: 'libsodium.so', pkg: 'libsodium-dev' },
  { what: 'liblz4', header: 'lz4.h', lib: 'liblz4.so', pkg: 'liblz4-dev' },
  { what: 'lwIP', header: 'lwip/lwip/init.h', lib: 'liblwip.so', pkg: 'liblwip-dev' },
];

const exists = (dirs, file) => dirs.some((d) => fs.existsSync(path.join(d, file)));
const missing = requirements.filter(
  (r) => !exists(includeDirs, r.header) || !exists(libDirs, r.lib),
);

if (missing.length > 0) {
  const pkgs = missing.map((m) => m.pkg).join(' ');
  process.stderr.write(
    `zerotier-sockets: cannot build the native addon: ${missing.map((m) => m.what).join(', ')} ` +
      `not found.\nInstall the Debian package(s): sudo apt-get install -y ${pkgs}\n`,
  );
  process.exit(1);
}
