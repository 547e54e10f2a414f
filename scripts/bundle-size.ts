/**
 * Size of a small training page as a user's bundler would build it: esbuild bundles, for the
 * browser and minified, a page script that imports the main `gradkit` entry (the compiled dist/
 * when present, as an installed package would be, else src/), builds an MLP and trains it on
 * generated data. Prints the minified and gzip sizes and the largest inputs.
 *   node --import tsx scripts/bundle-size.ts [--onnx] [--digits]
 */
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const base = existsSync(`${root}dist/src/index.js`) ? './dist/src' : './src';
const ext = base === './src' ? '.ts' : '.js';
const extra = [
  process.argv.includes('--onnx') ? `import { exportOnnx } from '${base}/onnx${ext}'; console.log(exportOnnx);` : '',
  process.argv.includes('--digits') ? `import { loadDigits } from '${base}/digits${ext}'; console.log(loadDigits);` : '',
].filter((s) => s !== '').join('\n');
const page = `import * as g from '${base}/index${ext}';
${extra}
const { x, y } = g.data.makeSpirals({ samplesPerClass: 100, classes: 3, seed: 1 });
const model = new g.nn.Sequential(new g.nn.Linear(2, 64), new g.nn.ReLU(), new g.nn.Linear(64, 3));
const opt = new g.optim.Adam(model.parameters(), { lr: 1e-2 });
for (let step = 0; step < 100; step++) {
  opt.zeroGrad();
  const loss = g.losses.crossEntropy(model.call(x), y);
  loss.backward();
  opt.step();
  document.body.textContent = 'loss ' + loss.dataSync()[0];
}
`;
const r = await build({
  stdin: { contents: page, resolveDir: root, loader: 'ts', sourcefile: 'page.ts' },
  bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, metafile: true, logLevel: 'warning',
  external: ['node:*'],
});
const js = r.outputFiles[0]!.contents;
const gz = gzipSync(js, { level: 9 }).length;
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
console.log(`page bundle from ${base}${extra ? ` (+${process.argv.slice(2).join(' ')})` : ''}: ${kb(js.length)} minified, ${kb(gz)} gzip`);
const byPkg = new Map<string, number>();
for (const [file, info] of Object.entries(Object.values(r.metafile.outputs)[0]!.inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  const key = m ? `node_modules/${m[1]}` : file.includes('generated/kernels') ? 'wasm kernels (base64)' : file.includes('zoo/') && file.includes('weights') ? 'zoo weights (base64)' : 'gradkit code';
  byPkg.set(key, (byPkg.get(key) ?? 0) + info.bytesInOutput);
}
for (const [k, v] of [...byPkg].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(28)} ${kb(v)} minified`);
