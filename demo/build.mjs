/**
 * Builds the demo: bundles demo/src/main.ts (page), demo/src/worker.ts (training worker) and
 * demo/src/predictor.ts (prediction worker) with esbuild into demo/dist/, copies the zoo's shipped
 * digits-cnn (zoo/digits-cnn.safetensors and its record) to demo/dist/zoo/ for the "load the
 * pretrained zoo model" button, and writes demo/dist/digits.bin (see make-digits.ts) when missing.
 * `--minify` for the size report. The digits package is external: the worker fetches digits.bin.
 * `--out DIR` builds a complete copy elsewhere instead (DIR/index.html and DIR/dist/), so tests
 * running side by side do not write the same files.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const minify = process.argv.includes('--minify');
const outAt = process.argv.indexOf('--out');
const site = outAt >= 0 ? `${resolve(process.argv[outAt + 1])}/` : here;
const dist = `${site}dist`;
/** Digits in digits.bin: 2,000 to train on and DEFAULT_OPTIONS.testSize (400) held out. */
const DIGITS = 2400;

const result = await esbuild.build({
  entryPoints: { main: `${here}src/main.ts`, worker: `${here}src/worker.ts`, predictor: `${here}src/predictor.ts` },
  outdir: dist,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  minify,
  external: ['mnist'],
  metafile: true,
  logLevel: 'warning',
});
for (const [file, info] of Object.entries(result.metafile.outputs)) {
  if (file.endsWith('.js')) console.log(`${file}: ${(info.bytes / 1024).toFixed(0)} KiB`);
}

// Copied, not bundled: the page fetches the shipped file as the zoo's users would (temp + rename,
// so a server never sees half a file).
mkdirSync(`${dist}/zoo`, { recursive: true });
for (const f of ['digits-cnn.safetensors', 'digits-cnn.json']) {
  copyFileSync(`${here}../zoo/${f}`, `${dist}/zoo/${f}.tmp`);
  renameSync(`${dist}/zoo/${f}.tmp`, `${dist}/zoo/${f}`);
}
if (site !== here) copyFileSync(`${here}index.html`, `${site}index.html`);

if (!existsSync(`${dist}/digits.bin`) || statSync(`${dist}/digits.bin`).size !== DIGITS * 785) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${here}make-digits.ts`, String(DIGITS), `${dist}/digits.bin`], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
