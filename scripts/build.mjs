// `npm run build`: the wasm kernels (scripts/build-wasm.mjs), the dashboard page, then ESM JavaScript, .d.ts
// declarations and source maps into dist/ (tsc -p tsconfig.build.json). Skips tsc when dist/ is
// newer than every compiled source, because pretest runs this before every `npm test`.
// --clean (used at prepack) always compiles, then deletes every file in dist/ whose source is gone,
// so a removed source leaves no stale file to ship. It does not empty dist/ first: tests that run
// beside `npm pack` (test/slow) may be running the compiled CLI meanwhile.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist/src/index.js');
const clean = process.argv.includes('--clean');

execFileSync(process.execPath, [join(root, 'scripts/build-wasm.mjs')], { stdio: 'inherit' });
// The dashboard page (build/dashboard/, shipped in the package; it skips itself when up to date).
execFileSync(process.execPath, [join(root, 'scripts/build-dashboard.mjs')], { stdio: 'inherit' });

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const inputs = Math.max(newest(join(root, 'src')), newest(join(root, 'zoo')), ...['tsconfig.json', 'tsconfig.build.json'].map((f) => statSync(join(root, f)).mtimeMs));
if (!clean && existsSync(stamp) && statSync(stamp).mtimeMs > inputs) process.exit(0);

const tsc = join(root, 'node_modules/typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
} catch {
  console.error('build: tsc -p tsconfig.build.json failed (errors above)');
  process.exit(1);
}
if (clean) {
  // dist/<dir>/<name>.js, .js.map, .d.ts come from <dir>/<name>.ts (or .d.ts sources, not emitted).
  const stale = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!existsSync(join(root, relative(join(root, 'dist'), p).replace(/(\.d\.ts|\.js\.map|\.js)$/, '.ts')))) stale.push(p);
    }
  };
  walk(join(root, 'dist'));
  for (const p of stale) rmSync(p);
  if (stale.length > 0) console.log(`build: removed ${stale.length} stale file(s) from dist/`);
}
console.log(`build: compiled src/ into ${join(root, 'dist')}`);
