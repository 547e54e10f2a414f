/**
 * Per-step cost of NanGuard's checks (issue 11): the weight scan after every optimizer step and
 * the RNG snapshot before every batch, against the time of one training step of the same model.
 *
 *   node --import tsx scripts/nan-guard-cost.ts
 */
import { manualSeed, nn, optim, randn, randint } from '../src/index.js';
import { DataLoader, TensorDataset } from '../src/data/index.js';
import { MetricsCallback, NanGuard, Trainer } from '../src/train/index.js';
import { firstBadParameterSoon } from '../src/train/callbacks/non-finite.js';
import { getGlobalRng } from '../src/core/rng.js';

manualSeed(0);
const model = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 10));
const nParams = model.numParameters();
const n = 64 * 40;
const ds = new TensorDataset(randn([n, 784]), randint(0, 10, [n]));
async function run(guard: boolean): Promise<number> {
  const t = new Trainer({ model, optimizer: new optim.SGD(model.parameters(), { lr: 0.001 }), trainData: new DataLoader(ds, { batchSize: 64 }), defaultCallbacks: false, callbacks: guard ? [new MetricsCallback(), new NanGuard()] : [new MetricsCallback()] });
  const t0 = performance.now();
  await t.fit({ epochs: 1 });
  return (performance.now() - t0) / 40;
}
await run(true); await run(false); // warm up
const a: number[] = []; const b: number[] = [];
for (let r = 0; r < 5; r++) { a.push(await run(false)); b.push(await run(true)); }
const med = (x: number[]): number => Math.min(...x);
// The checks alone, many times, for a precise per-call figure.
// Minimum over 20 rounds: the machine is shared, so the least-disturbed round is the cost.
const minTime = (f: () => void, reps: number): number => {
  let best = Infinity;
  for (let r = 0; r < 20; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f();
    best = Math.min(best, (performance.now() - t0) / reps);
  }
  return best;
};
const wScan = minTime(() => firstBadParameterSoon(model, 'weights'), 100);
const rng = minTime(() => getGlobalRng().getState(), 1000);
console.log(`MLP 784-256-10 (${nParams} parameters), batch 64, backend default:`);
console.log(`  step without NanGuard ${med(a).toFixed(2)} ms, with ${med(b).toFixed(2)} ms (best of 5 epochs of 40 steps)`);
console.log(`  weight scan after each step ${(wScan * 1000).toFixed(1)} us (${(wScan / med(a) * 100).toFixed(2)}% of a step); RNG snapshot ${(rng * 1000).toFixed(2)} us`);
