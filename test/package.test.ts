// The package as users get it: `npm pack`, install the tarball into an empty project,
// and load it with both `import` and `require`, from the prebuild, compiling nothing.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { run, runNode } from './helpers/child.js';
import { repoRoot } from './helpers/paths.js';
import { suiteTempDir } from './helpers/tmp.js';

const npm = (args: string[], cwd: string) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, timeoutMs: 180_000 });

describe('npm pack and install', () => {
  let app: string;

  let pkgDir: string;

  beforeAll(async () => {
    expect(existsSync(path.join(repoRoot, 'dist', 'index.mjs')), 'dist/ is built').toBe(true);
    expect(
      existsSync(path.join(repoRoot, 'prebuilds', `${process.platform}-${process.arch}`)),
    ).toBe(true);
    const dir = suiteTempDir('zts-pack-');
    const packed = await npm(['pack', '--pack-destination', dir], repoRoot);
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();

    app = path.join(dir, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    const installed = await npm(['install', '--prefer-offline', path.join(dir, tarball!)], app);
    expect(installed.code, installed.stderr).toBe(0);
    pkgDir = path.join(app, 'node_modules', 'zerotier-sockets');
  }, 180_000);

  it('loads the prebuild through import and require, compiling nothing', async () => {
    expect(existsSync(path.join(pkgDir, 'build')), 'nothing was compiled').toBe(false);

    const check = `
      const id = await Identity.generate();
      console.log(JSON.stringify({ addonPath, address: id.address, valid: await id.validate() }));`;
    writeFileSync(
      path.join(app, 'esm.mjs'),
      `import { Identity, addonPath } from 'zerotier-sockets';\n${check}\n`,
    );
    writeFileSync(
      path.join(app, 'cjs.cjs'),
      `const { Identity, addonPath } = require('zerotier-sockets');\n(async () => {${check}})();\n`,
    );
    writeFileSync(
      path.join(app, 'same.mjs'),
      `import { createRequire } from 'node:module';
       import * as esm from 'zerotier-sockets';
       const cjs = createRequire(import.meta.url)('zerotier-sockets');
       console.log(esm.Identity === cjs.Identity);\n`,
    );
    for (const entry of ['esm.mjs', 'cjs.cjs']) {
      const r = await runNode([entry], { cwd: app });
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { addonPath: string; address: string; valid: boolean };
      expect(out.valid).toBe(true);
      expect(out.address).toMatch(/^[0-9a-f]{10}$/);
      expect(out.addonPath).toBe(
        path.join(
          pkgDir,
          'prebuilds',
          `${process.platform}-${process.arch}`,
          'zerotier-sockets.node',
        ),
      );
    }
    // import and require share one module instance (one process-wide node later on).
    const same = await runNode(['same.mjs'], { cwd: app });
    expect(same.stdout.trim()).toBe('true');
  });

  it('the CLI is installed as a bin', async () => {
    const bin = path.join(app, 'node_modules', '.bin', 'zerotier-sockets');
    const r = await run(bin, ['idtool', 'generate']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{10}:0:[0-9a-f]{128}:[0-9a-f]{128}\n$/);
  });

  it('types resolve for both import and require consumers', async () => {
    writeFileSync(
      path.join(app, 'use.mts'),
      `import { Identity } from 'zerotier-sockets';\nconst id: Promise<Identity> = Identity.generate();\nvoid id;\n`,
    );
    writeFileSync(
      path.join(app, 'use.cts'),
      `import zts = require('zerotier-sockets');\nconst ok: boolean = zts.Identity.parse('x').hasPrivate;\nvoid ok;\n`,
    );
    const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await runNode(
      [
        tsc,
        '--noEmit',
        '--strict',
        '--module',
        'node16',
        '--moduleResolution',
        'node16',
        '--typeRoots',
        path.join(repoRoot, 'node_modules', '@types'),
        '--types',
        'node',
        'use.mts',
        'use.cts',
      ],
      { cwd: app },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('links nothing but the C/C++ runtime', async () => {
    const addon = path.join(pkgDir, 'prebuilds', `${process.platform}-${process.arch}`);
    const file = path.join(
      addon,
      readdirSync(addon).find((f) => f.endsWith('.node'))!,
    );
    const r = await run('ldd', [file]);
    expect(r.code, r.stderr).toBe(0);
    const libs = r.stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0]!)
      .filter((l) => l !== '');
    expect(libs.length).toBeGreaterThan(0);
    const runtime =
      /^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libpthread\.so\.0|libdl\.so\.2|\/lib64\/ld-linux-x86-64\.so\.2)$/;
    expect(libs.filter((l) => !runtime.test(l))).toEqual([]);
    // Nor does it export lwIP's, libsodium's or lz4's symbols to other addons.
    const nm = await run('nm', ['-D', '--defined-only', file]);
    expect(nm.stdout).not.toMatch(/\b(tcp_write|crypto_box|LZ4_compress_default)\b/);
  });

  // A machine without Debian's liblwip0, libsodium23 and liblz4-1: a private mount
  // namespace puts /dev/null over each of their files, then the installed package loads,
  // makes an identity (libsodium) and reports its lwIP. Needs root (unshare).
  it.skipIf(process.getuid?.() !== 0)(
    'loads where the runtime packages of lwIP, libsodium and liblz4 are hidden',
    async () => {
      const script = `
        set -e
        for f in /lib/*-linux-gnu/liblwip.so* /lib/*-linux-gnu/libsodium.so* \
                 /lib/*-linux-gnu/liblz4.so* /usr/lib/*-linux-gnu/liblwip.so* \
                 /usr/lib/*-linux-gnu/libsodium.so* /usr/lib/*-linux-gnu/liblz4.so*; do
          [ -e "$f" ] && mount --bind /dev/null "$(readlink -f "$f")"
        done
        for f in /lib/*-linux-gnu/liblwip.so* /lib/*-linux-gnu/libsodium.so* /lib/*-linux-gnu/liblz4.so*; do
          [ -e "$f" ] && [ -s "$f" ] && { echo "not hidden: $f" >&2; exit 3; }
        done
        exec "$NODE" -e '
          const z = require("zerotier-sockets");
          z.Identity.generate().then(async (id) => {
            console.log(JSON.stringify({ valid: await id.validate(), lwip: z.versions().lwip }));
          });'`;
      const r = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
        cwd: app,
        env: { ...process.env, NODE: process.execPath },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ valid: true, lwip: '2.1.3' });
    },
  );

  it('names the platform and arch when no binary fits', async () => {
    const bare = path.join(app, 'bare');
    cpSync(pkgDir, bare, { recursive: true });
    rmSync(path.join(bare, 'prebuilds'), { recursive: true });
    const r = await runNode(['-e', `require(${JSON.stringify(bare)})`], { cwd: app });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`no native addon for ${process.platform}-${process.arch}`);
  });
});
