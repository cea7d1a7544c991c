// `npm run lint:cpp` (--check) and `npm run format` (--fix) for the C++ sources, with
// the checked-in .clang-format.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return walk(p);
    return /\.(cpp|h)$/.test(e.name) ? [p] : [];
  });
const files = walk(path.join(root, 'native'));
const fix = process.argv.includes('--fix');
const args = fix ? ['-i', ...files] : ['--dry-run', '--Werror', ...files];
try {
  execFileSync('clang-format', args, { stdio: 'inherit' });
} catch (e) {
  if (e.code === 'ENOENT') {
    console.error('clang-format not found: apt-get install -y clang-format');
  }
  process.exit(1);
}
