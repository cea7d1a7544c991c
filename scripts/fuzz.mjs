// `npm run fuzz -- --seconds N | --minutes M [--target name]... [--jobs K]`: builds the libFuzzer targets
// of native/fuzz with clang in build-fuzz/ (option ZTS_FUZZ: engine and targets under
// ASan and UBSan), writes the seeds of native/fuzz/seeds.txt into
// fuzz/out/corpus/<target>/, then runs each target for N seconds on its corpus, K at a
// time (default 1). Prints one line per target and exits non-zero if any of them crashed,
// leaked, timed out or drew a sanitizer report; logs and crashing inputs go to
// fuzz/out/logs/ and fuzz/out/artifacts/.
// `npm run fuzz:long` is the long pass, apart from CI: every target 30 minutes (one after
// the other: about 5.5 hours for the 11 targets; `-- --jobs 2` halves it on two free cores,
// `-- --minutes M` changes the time). CI keeps the 3-second smoke pass of test:native.
import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = path.join(root, 'build-fuzz');
const fuzzSrc = path.join(root, 'native', 'fuzz');
const outDir = path.join(root, 'fuzz', 'out');

function usage(message) {
  console.error(`fuzz: ${message}`);
  console.error('usage: npm run fuzz -- --seconds N | --minutes M [--target name]... [--jobs K]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { seconds: 60, targets: [], jobs: 1 };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? usage(`${argv[i - 1]} needs a value`);
    const positive = (v) => (/^[1-9][0-9]*$/.test(v) ? Number(v) : usage(`bad number: ${v}`));
    if (argv[i] === '--seconds') opts.seconds = positive(value());
    else if (argv[i] === '--minutes') opts.seconds = 60 * positive(value());
    else if (argv[i] === '--target') opts.targets.push(...value().split(','));
    else if (argv[i] === '--jobs') opts.jobs = positive(value());
    else usage(`unknown argument: ${argv[i]}`);
  }
  return opts;
}

// Seeds file: "<target> <name>" starts a seed; indented lines hold its bytes as hex (white
// space between digits ignored) or "quoted text".
function readSeeds() {
  const seeds = [];
  const lines = readFileSync(path.join(fuzzSrc, 'seeds.txt'), 'utf8').split('\n');
  lines.forEach((line, n) => {
    const where = `seeds.txt:${n + 1}`;
    if (line.trim() === '' || line.startsWith('#')) return;
    if (!/^\s/.test(line)) {
      const [target, name, extra] = line.trim().split(/\s+/);
      if (!name || extra) throw new Error(`${where}: expected "<target> <name>"`);
      seeds.push({ target, name, text: [] });
      return;
    }
    const seed = seeds.at(-1);
    if (!seed) throw new Error(`${where}: bytes before any seed name`);
    for (const token of line.trim().split(/\s+/)) {
      const quoted = token.length >= 2 && token.startsWith('"') && token.endsWith('"');
      if (!quoted && !/^[0-9a-fA-F]+$/.test(token)) {
        throw new Error(`${where}: not hex or "text": ${token}`);
      }
      seed.text.push(quoted ? { utf8: token.slice(1, -1) } : { hex: token });
    }
  });
  return seeds.map(({ target, name, text }) => {
    // Join neighbouring hex pieces first: a byte may be split across lines.
    const parts = [];
    for (const t of text) {
      const last = parts.at(-1);
      if (t.hex !== undefined && last?.hex !== undefined) last.hex += t.hex;
      else parts.push({ ...t });
    }
    const bytes = parts.map((p) => {
      if (p.utf8 !== undefined) return Buffer.from(p.utf8, 'utf8');
      if (p.hex.length % 2 !== 0) throw new Error(`seeds.txt: odd hex digit count in ${name}`);
      return Buffer.from(p.hex, 'hex');
    });
    return { target, name, bytes: Buffer.concat(bytes) };
  });
}

// The fields of libFuzzer's output the summary needs, and what went wrong if anything did.
function summarize(log, exitCode) {
  const status = [...log.matchAll(/^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+)/gm)].at(-1);
  const units = [...log.matchAll(/^stat::number_of_executed_units: (\d+)/gm)].at(-1);
  const artifact = log.match(/Test unit written to (\S+)/);
  const verdicts = [
    [/ERROR: LeakSanitizer/, 'LEAK'],
    [/ERROR: AddressSanitizer: (\S+)/, 'ASAN'],
    [/runtime error: (.*)/, 'UBSAN'],
    [/fuzz property failed: (.*)/, 'PROPERTY'],
    [/ERROR: libFuzzer: timeout/, 'TIMEOUT'],
    [/ERROR: libFuzzer: out-of-memory/, 'OOM'],
    [/ERROR: libFuzzer: (.*)/, 'CRASH'],
  ];
  let result = exitCode === 0 ? 'ok' : `FAILED (exit ${exitCode})`;
  for (const [re, label] of verdicts) {
    const m = log.match(re);
    if (m) {
      result = m[1] ? `${label} (${m[1].trim()})` : label;
      break;
    }
  }
  return {
    runs: units ? Number(units[1]) : status ? Number(status[1]) : 0,
    cov: status ? Number(status[2]) : 0,
    ft: status ? Number(status[3]) : 0,
    ok: result === 'ok',
    result,
    artifact: artifact?.[1],
  };
}

function runTarget(target, seconds) {
  const corpus = path.join(outDir, 'corpus', target);
  const artifacts = path.join(outDir, 'artifacts', target);
  const logPath = path.join(outDir, 'logs', `${target}.log`);
  // Another run (say a test:native smoke pass) may use the same tree: write a log of our
  // own and move it into place at the end.
  const partPath = `${logPath}.${process.pid}.part`;
  mkdirSync(artifacts, { recursive: true });
  const args = [
    corpus,
    `-max_total_time=${seconds}`,
    '-rss_limit_mb=2048',
    '-detect_leaks=1',
    '-timeout=30',
    '-print_final_stats=1',
    `-artifact_prefix=${artifacts}/`,
  ];
  const env = {
    ...process.env,
    ASAN_OPTIONS: 'detect_leaks=1',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  };
  const started = Date.now();
  const fd = openSync(partPath, 'w');
  const child = spawn(path.join(buildDir, 'native', 'fuzz', `${target}_fuzz`), args, {
    cwd: root,
    env,
    stdio: ['ignore', fd, fd],
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      closeSync(fd);
      const log = readFileSync(partPath, 'utf8');
      renameSync(partPath, logPath);
      const s = summarize(log, signal ? `signal ${signal}` : code);
      resolve({ target, seconds: Math.round((Date.now() - started) / 1000), logPath, ...s });
    });
  });
}

function report(r) {
  const rel = (p) => path.relative(root, path.resolve(root, p));
  let line =
    `fuzz ${r.target.padEnd(16)} runs ${String(r.runs).padStart(10)}  ` +
    `cov ${String(r.cov).padStart(5)} ft ${String(r.ft).padStart(6)}  ` +
    `${String(r.seconds).padStart(4)} s  ${r.result}`;
  if (!r.ok) line += `  log ${rel(r.logPath)}${r.artifact ? `  input ${rel(r.artifact)}` : ''}`;
  console.log(line);
}

const opts = parseArgs(process.argv.slice(2));
const allTargets = readdirSync(fuzzSrc)
  .filter((f) => f.endsWith('_fuzz.cpp'))
  .map((f) => f.slice(0, -'_fuzz.cpp'.length))
  .sort();
const targets = opts.targets.length > 0 ? opts.targets : allTargets;
for (const t of targets) {
  if (!allTargets.includes(t)) usage(`no target "${t}" (have: ${allTargets.join(', ')})`);
}

try {
  execFileSync('clang++', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('fuzz: clang++ not found: apt-get install -y clang libclang-rt-14-dev');
  process.exit(1);
}
const env = { ...process.env, CC: 'clang', CXX: 'clang++' };
try {
  const run = (args) => execFileSync('cmake', args, { cwd: root, env, stdio: 'inherit' });
  run([
    '-S',
    '.',
    '-B',
    buildDir,
    '-DZTS_FUZZ=ON',
    '-DCMAKE_CXX_COMPILER=clang++',
    '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
    '--log-level=WARNING',
  ]);
  run(['--build', buildDir, '-j2']);
} catch {
  process.exit(1);
}

// Seeds are rewritten on every run; what the fuzzers added to the corpus stays.
const seeds = readSeeds();
for (const t of allTargets) mkdirSync(path.join(outDir, 'corpus', t), { recursive: true });
mkdirSync(path.join(outDir, 'logs'), { recursive: true });
for (const s of seeds) {
  if (!allTargets.includes(s.target)) throw new Error(`seeds.txt: no target "${s.target}"`);
  writeFileSync(path.join(outDir, 'corpus', s.target, `seed-${s.name}`), s.bytes);
}

const queue = [...targets];
const results = [];
await Promise.all(
  Array.from({ length: Math.min(opts.jobs, queue.length) }, async () => {
    while (queue.length > 0) {
      const r = await runTarget(queue.shift(), opts.seconds);
      report(r);
      results.push(r);
    }
  }),
);
const failed = results.filter((r) => !r.ok);
if (failed.length > 0) {
  console.error(`fuzz: ${failed.length} of ${results.length} targets failed`);
  process.exit(1);
}
