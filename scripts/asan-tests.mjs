// `npm run test:asan [-- vitest args]`: builds the addon with AddressSanitizer and UBSan
// (cmake-js, option ZTS_SANITIZE, in build-asan/) and runs the vitest suite on it, child
// processes included (ZEROTIER_SOCKETS_ADDON points every process at that build). Node itself
// is not instrumented, so GCC's libasan is preloaded into it; leak checking is off for the
// node process (V8 and Node keep memory to exit, which LeakSanitizer would report), while
// every other ASan report and every UBSan report aborts the process and fails the run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = path.join(root, 'build-asan');
const run = (cmd, args, env = process.env) =>
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env });

// The compiler's output only when the build fails (the suite's output is what matters).
const build = spawnSync(
  process.execPath,
  [
    path.join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js'),
    'compile',
    '--log-level',
    'error',
    '--out',
    buildDir,
    '--CDZTS_SANITIZE=ON',
  ],
  { cwd: root, encoding: 'utf8' },
);
if (build.status !== 0) {
  process.stderr.write(`${build.stdout}${build.stderr}test:asan: the sanitizer build failed\n`);
  process.exit(1);
}
const addon = path.join(buildDir, 'Release', 'zerotier_sockets.node');
if (!existsSync(addon)) {
  console.error(`test:asan: no addon at ${addon}`);
  process.exit(1);
}
const libasan = execFileSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
if (!existsSync(libasan)) {
  console.error('test:asan: libasan not found (apt-get install -y g++)');
  process.exit(1);
}
// The TS is built as usual (tests spawn child processes from dist/).
run('npm', ['run', '--silent', 'build:ts']);

const env = {
  ...process.env,
  ZEROTIER_SOCKETS_ADDON: addon,
  LD_PRELOAD: libasan,
  // Node handles SIGSEGV itself (WebAssembly traps); ASan must leave that to it.
  ASAN_OPTIONS: 'detect_leaks=0:allow_user_segv_handler=1:abort_on_error=1:halt_on_error=1',
  UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
};
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
// package.test.ts checks which binary an installed package loads, which the override above
// changes on purpose; it tests packaging, not native code.
const r = spawnSync(
  process.execPath,
  [vitest, 'run', '--exclude', 'test/package.test.ts', ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
    env,
  },
);
process.exit(r.status ?? 1);
