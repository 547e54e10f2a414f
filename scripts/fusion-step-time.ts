/**
 * Step time of the bench's MLP and CNN (bench/gradkit-models.ts: forward, backward, Adam step)
 * on the wasm backend, for comparing two checkouts of the library in one session:
 *
 *   node --import tsx scripts/fusion-step-time.ts [root] [steps]
 *
 * `root` (default: this checkout) is the folder whose src/ and bench/ are measured, so an old
 * commit extracted elsewhere runs the same workloads. Prints median ms per step of each model.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(process.argv[2] ?? '.');
const steps = Number(process.argv[3] ?? 30);
const g = await import(pathToFileURL(`${root}/src/index.js`).href.replace(/\.js$/, '.ts'));
const models = await import(pathToFileURL(`${root}/bench/gradkit-models.ts`).href);
const { MLP, CNN } = await import(pathToFileURL(`${root}/bench/spec.ts`).href);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(name: string, make: () => { module: unknown; loss: unknown }, xShape: number[], batch: number, classes: number): void {
  const model = make();
  const opt = models.makeAdam(model);
  const x = g.randn(xShape, { seed: 1 });
  const y = g.tensor(Array.from({ length: batch }, (_, i) => i % classes), { dtype: 'int32' });
  const ms: number[] = [];
  for (let s = 0; s < steps + 5; s++) {
    const t0 = performance.now();
    models.trainStep(model, opt, x, y);
    if (s >= 5) ms.push(performance.now() - t0); // the first steps warm up the JIT and buffers
  }
  console.log(`${name}: ${median(ms).toFixed(2)} ms/step (median of ${steps}, batch ${batch})`);
}

g.withBackend('wasm', () => {
  console.log(`backend: ${g.getBackend().describe?.() ?? 'wasm'}`);
  time('MLP', models.mlpModel, [MLP.batch, MLP.sizes[0]], MLP.batch, 10);
  time('CNN', models.cnnModel, [CNN.batch, CNN.inC, CNN.hw, CNN.hw], CNN.batch, CNN.classes);
});
