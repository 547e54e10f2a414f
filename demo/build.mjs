/**
 * Builds the demo: bundles demo/src/main.ts (page), demo/src/worker.ts (training worker) and
 * demo/src/predictor.ts (prediction worker) with esbuild into demo/dist/, copies the zoo's shipped
 * digits-cnn (zoo/digits-cnn.safetensors and its record) to demo/dist/zoo/ for the "load the
 * pretrained zoo model" button, and writes demo/dist/digits.bin (see make-digits.ts) when missing.
 * `--minify` for the size report. The digits package is external: the worker fetches digits.bin.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const minify = process.argv.includes('--minify');
/** Digits in digits.bin: 2,000 to train on and DEFAULT_OPTIONS.testSize (400) held out. */
const DIGITS = 2400;

const result = await esbuild.build({
  entryPoints: { main: `${here}src/main.ts`, worker: `${here}src/worker.ts`, predictor: `${here}src/predictor.ts` },
  outdir: `${here}dist`,
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
mkdirSync(`${here}dist/zoo`, { recursive: true });
for (const f of ['digits-cnn.safetensors', 'digits-cnn.json']) {
  copyFileSync(`${here}../zoo/${f}`, `${here}dist/zoo/${f}.tmp`);
  renameSync(`${here}dist/zoo/${f}.tmp`, `${here}dist/zoo/${f}`);
}

if (!existsSync(`${here}dist/digits.bin`) || statSync(`${here}dist/digits.bin`).size !== DIGITS * 785) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${here}make-digits.ts`, String(DIGITS)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
