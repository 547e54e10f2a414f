import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as g from '../../src/index.js';
import { Random } from '../../src/index.js';
import { rmspropUpdate32 as tsRms } from '../../src/backends/reference/optim.js';
import type { Kernels } from '../../src/backend/kernels.js';
import type { DataArray } from '../../src/core/dtype.js';
import { MIN_WASM_RMS } from '../../src/backends/wasm/optim.js';
import { disposeAll, randArray, wasmWithThreads } from './util.js';

after(disposeAll);

interface Case { n: number; centered: boolean; momentum: number; l2: number; apply: boolean }

/**
 * Random slots as RMSprop leaves them: sq ≥ 0 with exact zeros, gAvg signed and sometimes with
 * gAvg² > sq (the clamp to 0 must match), momentum buffers signed; gradients over many scales.
 */
function state(rng: Random, n: number) {
  const w = randArray(rng, n);
  const grad = randArray(rng, n).map((x, i) => (i % 97 === 0 ? 0 : x * 10 ** rng.uniform(-6, 2)));
  const sq = randArray(rng, n).map((x, i) => (i % 89 === 0 ? 0 : x * x * 0.01));
  const gAvg = randArray(rng, n).map((x) => x * 0.2);
  const buf = randArray(rng, n).map((x) => x * 0.1);
  return { w, grad, sq, gAvg, buf };
}

const cases: Case[] = [
  { n: MIN_WASM_RMS + 1, centered: false, momentum: 0, l2: 0, apply: true },
  { n: 200_003, centered: true, momentum: 0, l2: 1e-4, apply: true },
  { n: 65_536, centered: false, momentum: 0.9, l2: 0, apply: true },
  { n: 40_001, centered: true, momentum: 0.5, l2: 5e-4, apply: true },
  { n: 40_001, centered: true, momentum: 0.9, l2: 0, apply: false },
];

for (const threads of [1, 2]) {
  test(`wasm rmspropUpdate (${threads} thread${threads > 1 ? 's' : ''}) matches optim's TypeScript step bit for bit`, () => {
    const b = wasmWithThreads(threads);
    // The CPU backends' handles are their arrays: the kernel runs on these arrays in place.
    const kernel = b.kernels.rmspropUpdate as unknown as Kernels<DataArray>['rmspropUpdate'];
    assert.ok(kernel, 'the wasm backend provides rmspropUpdate');
    const rng = new Random(17 + threads);
    for (const c of cases) {
      const label = `n ${c.n} centered ${c.centered} momentum ${c.momentum} l2 ${c.l2} apply ${c.apply}`;
      const ref = state(rng, c.n);
      const got = { w: ref.w.slice(), grad: ref.grad.slice(), sq: ref.sq.slice(), gAvg: ref.gAvg.slice(), buf: ref.buf.slice() };
      const args = [0.9, 1e-8, c.momentum, c.l2, -1e-2, c.apply] as const;
      tsRms(ref.w, ref.grad, ref.sq, c.centered ? ref.gAvg : null, c.momentum > 0 ? ref.buf : null, ...args);
      const jobs = b.stats().jobs;
      kernel(got.w, got.grad, got.sq, c.centered ? got.gAvg : null, c.momentum > 0 ? got.buf : null, ...args);
      assert.equal(b.stats().jobs - jobs, 1, `${label}: taken (one wasm job)`);
      for (const k of ['w', 'sq', 'gAvg', 'buf'] as const) {
        const a = got[k], e = ref[k];
        for (let i = 0; i < c.n; i++) {
          if (!Object.is(a[i], e[i])) assert.fail(`${label}: ${k}[${i}] = ${a[i]}, TypeScript gives ${e[i]}`);
        }
      }
      assert.deepEqual(got.grad, ref.grad, `${label}: the gradient is not touched`);
    }
  });
}

test('wasm rmspropUpdate runs small parameters on the reference loop (no wasm job, same values)', () => {
  const b = wasmWithThreads(1);
  const kernel = b.kernels.rmspropUpdate as unknown as Kernels<DataArray>['rmspropUpdate'];
  const rng = new Random(5);
  const ref = state(rng, 100);
  const got = { w: ref.w.slice(), grad: ref.grad.slice(), sq: ref.sq.slice() };
  tsRms(ref.w, ref.grad, ref.sq, null, null, 0.99, 1e-8, 0, 0, -1e-2, true);
  const jobs = b.stats().jobs;
  kernel(got.w, got.grad, got.sq, null, null, 0.99, 1e-8, 0, 0, -1e-2, true);
  assert.equal(b.stats().jobs, jobs, 'no wasm job below MIN_WASM_RMS');
  assert.deepEqual([got.w, got.sq], [ref.w, ref.sq]);
});

test('optim.RMSprop (centered, momentum, weight decay) on the wasm backend: the reference backend trajectory, bit for bit', () => {
  let jobs = 0;
  const run = (backend: string) => g.withBackend(backend, () => {
    const rng = new Random(7);
    const w = new g.Parameter(g.tensor(randArray(rng, MIN_WASM_RMS * 2 + 1)));
    const b = g.getBackend();
    const opt = new g.optim.RMSprop([w], { lr: 1e-2, centered: true, momentum: 0.9, weightDecay: 1e-4 });
    for (let step = 0; step < 3; step++) {
      opt.zeroGrad();
      w.mul(w).mul(g.tensor(randArray(rng, w.size))).sum().backward();
      const before = g.isWasmBackend(b) ? b.stats().jobs : 0;
      opt.step();
      if (g.isWasmBackend(b)) jobs += b.stats().jobs - before;
    }
    return w.dataSync() as Float32Array;
  });
  const onWasm = run('wasm');
  assert.equal(jobs, 3, 'each step ran the wasm RMSprop kernel');
  const onRef = run('reference');
  assert.equal(onWasm.length, onRef.length);
  for (let i = 0; i < onRef.length; i++) if (!Object.is(onWasm[i], onRef[i])) assert.fail(`w[${i}]: wasm ${onWasm[i]} vs reference ${onRef[i]}`);
});
