/**
 * Builds the demo: bundles demo/src/main.ts (page) and demo/src/worker.ts (Web Worker) with
 * esbuild into demo/dist/, and writes demo/dist/digits.bin (see make-digits.ts) when missing.
 * `--minify` for the size report. The digits package is external: the worker fetches digits.bin.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const minify = process.argv.includes('--minify');

const result = await esbuild.build({
  entryPoints: { main: `${here}src/main.ts`, worker: `${here}src/worker.ts` },
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

if (!existsSync(`${here}dist/digits.bin`)) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${here}make-digits.ts`], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
