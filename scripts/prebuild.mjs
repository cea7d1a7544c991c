// `npm run prebuild`: builds prebuilds/<platform>-<arch>/ with prebuildify (which drives
// node-gyp and binding.gyp). It runs in a scratch copy of the package so that node-gyp's
// build/ folder does not clobber the cmake-js build in ours. Offline: it targets the
// running Node with its local headers. With --if-stale it does nothing when the prebuild
// is newer than every native source.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const inputs = ['package.json', 'binding.gyp', 'native', 'scripts'];

function newestMtime(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(p).map((e) => newestMtime(path.join(p, e))));
}

if (process.argv.includes('--if-stale') && existsSync(outDir)) {
  const built = readdirSync(outDir).filter((f) => f.endsWith('.node'));
  if (built.length > 0) {
    const builtAt = Math.min(...built.map((f) => statSync(path.join(outDir, f)).mtimeMs));
    const sourcesAt = Math.max(...inputs.map((i) => newestMtime(path.join(root, i))));
    if (builtAt > sourcesAt) process.exit(0);
  }
}

console.log(
  `prebuild: prebuildify for ${process.platform}-${process.arch}, Node ${process.version}`,
);
const scratch = mkdtempSync(path.join(tmpdir(), 'zts-prebuild-'));
try {
  for (const i of inputs) cpSync(path.join(root, i), path.join(scratch, i), { recursive: true });
  symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'));
  // The same prepared lwIP/libsodium/liblz4 as the cmake-js build (scripts/third-party.js).
  execFileSync(process.execPath, [path.join(root, 'scripts', 'third-party.js')], {
    stdio: 'inherit',
  });
  symlinkSync(path.join(root, 'build-deps'), path.join(scratch, 'build-deps'));
  // prebuildify runs node-gyp from PATH: use the project's own.
  const env = {
    ...process.env,
    npm_config_loglevel: 'error',
    PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}`,
  };
  // Use the installed Node's headers rather than downloading them.
  if (existsSync('/usr/include/node/node_api.h')) env.npm_config_nodedir ??= '/usr';
  execFileSync(
    process.execPath,
    [
      path.join(root, 'node_modules', 'prebuildify', 'bin.js'),
      '--napi',
      '--strip',
      '-t',
      process.versions.node,
    ],
    { cwd: scratch, env, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  rmSync(outDir, { recursive: true, force: true });
  cpSync(path.join(scratch, 'prebuilds'), path.join(root, 'prebuilds'), { recursive: true });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
