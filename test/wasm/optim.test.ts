import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as g from '../../src/index.js';
import { Random } from '../../src/index.js';
import { adamUpdate32 as tsAdam } from '../../src/backends/reference/optim.js';
import type { Kernels } from '../../src/backend/kernels.js';
import type { DataArray } from '../../src/core/dtype.js';
import { MIN_WASM_ADAM } from '../../src/backends/wasm/optim.js';
import { disposeAll, randArray, wasmWithThreads } from './util.js';

after(disposeAll);

interface Case { n: number; t: number; l2: number; decay: number; amsgrad: boolean; apply: boolean }

/** Random slots as Adam leaves them after some steps: m signed, v ≥ 0, some exact zeros. */
function state(rng: Random, n: number) {
  const w = randArray(rng, n);
  const grad = randArray(rng, n).map((x, i) => (i % 97 === 0 ? 0 : x * 10 ** rng.uniform(-6, 2)));
  const m = randArray(rng, n).map((x) => x * 0.1);
  const v = randArray(rng, n).map((x, i) => (i % 89 === 0 ? 0 : x * x * 0.01));
  const vMax = v.map((x, i) => (i % 3 === 0 ? x * 2 : x * 0.5));
  return { w, grad, m, v, vMax };
}

const cases: Case[] = [
  { n: MIN_WASM_ADAM + 1, t: 1, l2: 0, decay: 0, amsgrad: false, apply: true },
  { n: 200_003, t: 7, l2: 1e-4, decay: 0, amsgrad: false, apply: true },
  { n: 65_536, t: 123, l2: 0, decay: -1e-5, amsgrad: true, apply: true },
  { n: 40_001, t: 3, l2: 5e-4, decay: -2e-4, amsgrad: true, apply: false },
];

for (const threads of [1, 2]) {
  test(`wasm adamUpdate (${threads} thread${threads > 1 ? 's' : ''}) matches optim's TypeScript step bit for bit`, () => {
    const b = wasmWithThreads(threads);
    // The CPU backends' handles are their arrays: the kernel runs on these arrays in place.
    const kernel = b.kernels.adamUpdate as unknown as Kernels<DataArray>['adamUpdate'];
    assert.ok(kernel, 'the wasm backend provides adamUpdate');
    const rng = new Random(42 + threads);
    for (const c of cases) {
      const label = `n ${c.n} t ${c.t} l2 ${c.l2} decay ${c.decay} amsgrad ${c.amsgrad} apply ${c.apply}`;
      const ref = state(rng, c.n);
      const got = { w: ref.w.slice(), grad: ref.grad.slice(), m: ref.m.slice(), v: ref.v.slice(), vMax: ref.vMax.slice() };
      const args = [0.9, 0.999, 1e-8, c.t, c.l2, c.decay, -1e-3, c.apply] as const;
      tsAdam(ref.w, ref.grad, ref.m, ref.v, c.amsgrad ? ref.vMax : null, ...args);
      const jobs = b.stats().jobs;
      kernel(got.w, got.grad, got.m, got.v, c.amsgrad ? got.vMax : null, ...args);
      assert.equal(b.stats().jobs - jobs, 1, `${label}: taken (one wasm job)`);
      for (const k of ['w', 'm', 'v', 'vMax'] as const) {
        const a = got[k], e = ref[k];
        for (let i = 0; i < c.n; i++) {
          if (!Object.is(a[i], e[i])) assert.fail(`${label}: ${k}[${i}] = ${a[i]}, TypeScript gives ${e[i]}`);
        }
      }
      assert.deepEqual(got.grad, ref.grad, `${label}: the gradient is not touched`);
    }
  });
}

test('wasm adamUpdate runs small parameters on the reference loop (no wasm job, same values)', () => {
  const b = wasmWithThreads(1);
  const kernel = b.kernels.adamUpdate as unknown as Kernels<DataArray>['adamUpdate'];
  const rng = new Random(5);
  const ref = state(rng, 100);
  const got = { w: ref.w.slice(), grad: ref.grad.slice(), m: ref.m.slice(), v: ref.v.slice() };
  tsAdam(ref.w, ref.grad, ref.m, ref.v, null, 0.9, 0.999, 1e-8, 1, 0, 0, -1e-3, true);
  const jobs = b.stats().jobs;
  kernel(got.w, got.grad, got.m, got.v, null, 0.9, 0.999, 1e-8, 1, 0, 0, -1e-3, true);
  assert.equal(b.stats().jobs, jobs, 'no wasm job below MIN_WASM_ADAM');
  assert.deepEqual([got.w, got.m, got.v], [ref.w, ref.m, ref.v]);
});

test('optim.Adam on the wasm backend: the same trajectory as on the reference backend, bit for bit', () => {
  let adamJobs = 0;
  const run = (backend: string) => g.withBackend(backend, () => {
    const rng = new Random(7);
    const w = new g.Parameter(g.tensor(randArray(rng, MIN_WASM_ADAM * 2 + 1)));
    const b = g.getBackend();
    const opt = new g.optim.Adam([w], { lr: 1e-2, weightDecay: 1e-4 });
    for (let step = 0; step < 3; step++) {
      opt.zeroGrad();
      w.mul(w).mul(g.tensor(randArray(rng, w.size))).sum().backward();
      const jobs = g.isWasmBackend(b) ? b.stats().jobs : 0;
      opt.step();
      if (g.isWasmBackend(b)) adamJobs += b.stats().jobs - jobs;
    }
    return w.dataSync() as Float32Array;
  });
  const onWasm = run('wasm');
  assert.equal(adamJobs, 3, 'each step ran the wasm Adam kernel');
  const onRef = run('reference');
  assert.equal(onWasm.length, onRef.length);
  for (let i = 0; i < onRef.length; i++) if (!Object.is(onWasm[i], onRef[i])) assert.fail(`w[${i}]: wasm ${onWasm[i]} vs reference ${onRef[i]}`);
});
