#!/usr/bin/env node
// Prints the addon's C++ sources for binding.gyp (CMakeLists.txt globs the same folders).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const roots = ['native/engine', 'native/addon'];
const walk = (dir) =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const p = path.posix.join(dir, e.name);
      if (e.isDirectory()) return walk(p);
      return e.name.endsWith('.cpp') ? [p] : [];
    });
process.stdout.write(roots.flatMap(walk).join('\n') + '\n');
