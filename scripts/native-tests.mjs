// `npm run test:native`: builds the engine and its GoogleTest suite with plain CMake
// (AddressSanitizer and UBSan on) in build-tests/, and runs it with ctest; then a smoke
// pass of the fuzz targets (scripts/fuzz.mjs, 3 s each) shows they build and still run
// their corpus cleanly.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'build-tests');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
try {
  run('cmake', [
    '-S',
    '.',
    '-B',
    dir,
    '-DZTS_TESTS=ON',
    '-DZTS_SANITIZE=ON',
    '-DCMAKE_BUILD_TYPE=Debug',
    '--log-level=WARNING',
  ]);
  run('cmake', ['--build', dir, '-j2']);
  run('ctest', ['--test-dir', dir, '--output-on-failure', '-j2']);
  run(process.execPath, [path.join(root, 'scripts', 'fuzz.mjs'), '--seconds', '3']);
} catch {
  process.exit(1);
}
