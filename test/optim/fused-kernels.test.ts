import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import type { Backend } from '../../src/backend/backend.js';
import type { Handle } from '../../src/backend/handle.js';
import type { DataArray } from '../../src/core/dtype.js';
import { adagradUpdate, adamUpdate, rmspropUpdate, sgdUpdate } from '../../src/backends/reference/optim.js';
import { MIN_WASM_ADAM, MIN_WASM_RMS } from '../../src/backends/wasm/optim.js';
import { FLOAT32_TOLERANCE, NEEDS_FLOAT64 } from '../helpers.js';
import { backendsUnderTest } from '../ops/backends.js';
import { averagesOf, clipNorm, stateDictOf } from './helpers.js';

/** A seeded stream in [−0.5, 0.5) (LCG), so runs are reproducible without Math.random. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
}

type Dtype = 'float32' | 'float64';
const ctor = (d: Dtype) => (d === 'float32' ? Float32Array : Float64Array);

/** Slots as an optimizer leaves them after some steps: signed, non-negative (second moments), some exact zeros and −0. */
function arrays(r: () => number, n: number, dtype: Dtype, bitForBit = true) {
  const C = ctor(dtype);
  const make = (f: (i: number) => number) => {
    const a = new C(n);
    for (let i = 0; i < n; i++) a[i] = f(i);
    return a;
  };
  const signed = () => make((i) => (i % 53 === 0 ? 0 : i % 59 === 0 ? -0 : r() * 10 ** (4 * r())));
  // r()·r() is negative half the time, so these "second moments" are not all non-negative: a
  // bit-for-bit comparison does not mind (the CPU runs keep these values). Compared to float32
  // rounding (webgpu), a negative second moment cancels against c2·g² into rounding noise that
  // 1/sqrt(v) then amplifies, which no tolerance separates from a wrong kernel: there they are
  // the non-negative values an optimizer leaves (the same draws, made non-negative).
  const moment = (x: number) => (bitForBit ? x : Math.abs(x));
  const positive = () => make((i) => (i % 47 === 0 ? 0 : moment((r() * r()) / 10)));
  return { w: signed(), g: signed(), m: signed(), v: positive(), vMax: positive(), buf: signed() };
}

interface Case { label: string; slots: ('m' | 'v' | 'vMax' | 'buf')[]; run(k: Backend['kernels'] | typeof referenceStep, w: unknown, g: unknown, s: Record<string, unknown>): void }

// The reference kernels over plain arrays: the oracle.
const referenceStep = { adamUpdate, sgdUpdate, rmspropUpdate, adagradUpdate };

const CASES: Case[] = [
  { label: 'Adam', slots: ['m', 'v'], run: (k, w, g, s) => (k.adamUpdate as any)(w, g, s.m, s.v, null, 0.9, 0.999, 1e-8, 1, 0, 0, -1e-3, true) },
  { label: 'Adam l2, step 7', slots: ['m', 'v'], run: (k, w, g, s) => (k.adamUpdate as any)(w, g, s.m, s.v, null, 0.9, 0.999, 1e-8, 7, 1e-2, 0, -1e-3, true) },
  { label: 'AdamW amsgrad', slots: ['m', 'v', 'vMax'], run: (k, w, g, s) => (k.adamUpdate as any)(w, g, s.m, s.v, s.vMax, 0.8, 0.99, 1e-6, 123, 0, 0.05, -3e-4, true) },
  { label: 'Adam lr 0', slots: ['m', 'v', 'vMax'], run: (k, w, g, s) => (k.adamUpdate as any)(w, g, s.m, s.v, s.vMax, 0.9, 0.999, 1e-8, 3, 5e-4, 2e-4, -0, false) },
  { label: 'SGD', slots: [], run: (k, w, g) => (k.sgdUpdate as any)(w, g, null, false, 0, 0, false, 0, -0.1, true) },
  { label: 'SGD l2', slots: [], run: (k, w, g) => (k.sgdUpdate as any)(w, g, null, false, 0, 0, false, 1e-3, -0.1, true) },
  { label: 'SGD momentum first', slots: ['buf'], run: (k, w, g, s) => (k.sgdUpdate as any)(w, g, s.buf, true, 0.9, 0, false, 0, -0.1, true) },
  { label: 'SGD momentum dampening l2', slots: ['buf'], run: (k, w, g, s) => (k.sgdUpdate as any)(w, g, s.buf, false, 0.8, 0.3, false, 2e-2, -0.1, true) },
  { label: 'SGD Nesterov', slots: ['buf'], run: (k, w, g, s) => (k.sgdUpdate as any)(w, g, s.buf, false, 0.9, 0, true, 1e-2, -0.05, true) },
  { label: 'RMSprop', slots: ['v'], run: (k, w, g, s) => (k.rmspropUpdate as any)(w, g, s.v, null, null, 0.99, 1e-8, 0, 0, -1e-2, true) },
  { label: 'RMSprop centered momentum l2', slots: ['v', 'm', 'buf'], run: (k, w, g, s) => (k.rmspropUpdate as any)(w, g, s.v, s.m, s.buf, 0.9, 1e-6, 0.9, 5e-2, -1e-2, true) },
  { label: 'RMSprop centered lr 0', slots: ['v', 'm'], run: (k, w, g, s) => (k.rmspropUpdate as any)(w, g, s.v, s.m, null, 0.8, 1e-8, 0, 0, -0, false) },
  // Adagrad's sum is a second-moment slot (v); factor is 1/(1 + (t − 1)·lrDecay).
  { label: 'Adagrad', slots: ['v'], run: (k, w, g, s) => (k.adagradUpdate as any)(w, g, s.v, 1e-10, 1, 0, -1e-2, true) },
  { label: 'Adagrad lrDecay l2, step 7', slots: ['v'], run: (k, w, g, s) => (k.adagradUpdate as any)(w, g, s.v, 1e-6, 1 / (1 + 6 * 0.1), 5e-2, -1e-2, true) },
  { label: 'Adagrad lr 0', slots: ['v'], run: (k, w, g, s) => (k.adagradUpdate as any)(w, g, s.v, 1e-10, 1 / (1 + 2 * 0.01), 1e-3, -0, false) },
];

// Sizes on both sides of the wasm kernels' thresholds (below: the reference loop; above: wasm).
const SIZES = [1, 7, 1000, MIN_WASM_ADAM - 1, Math.max(MIN_WASM_ADAM, MIN_WASM_RMS) + 3, 70_001];

/** The backends under test (test/ops/backends.ts): every available one, or webgpu alone in the webgpu run. */
function backends(): Backend[] {
  return backendsUnderTest().map((name) => g.withBackend(name, () => g.getBackend()));
}

for (const dtype of ['float32', 'float64'] as const) {
  // The float64 case is about float64 buffers, which the webgpu run's only backend does not have.
  test(`every backend's optimizer step kernels match the reference bit for bit (${dtype}, sizes across the wasm thresholds)`, dtype === 'float64' ? NEEDS_FLOAT64 : {}, async () => {
    const all = backends().filter((b) => dtype === 'float32' || b.float64 !== false);
    // The webgpu run (GRADKIT_TEST_BACKENDS=webgpu) tests webgpu alone, as the op tests do.
    if (process.env.GRADKIT_TEST_BACKENDS === undefined) assert.ok(all.some((b) => b.name === 'wasm'), 'the wasm backend is among those tested');
    const r = rng(dtype === 'float32' ? 11 : 12);
    // Adagrad's cases (added later) draw from their own stream, so the other cases keep the draws
    // they were written against: on webgpu, RMSprop centered's sq − gAvg² cancels for some draws
    // into rounding noise that its root then amplifies (see arrays()).
    const rAdagrad = rng(dtype === 'float32' ? 21 : 22);
    for (const b of all) {
      for (const n of dtype === 'float32' ? SIZES : [1, 1000, 70_001]) {
        for (const c of CASES) {
          // Bit for bit on CPU backends; to float32 rounding on webgpu (see check below).
          const exact = b.syncReads !== false;
          const start = arrays(c.label.startsWith('Adagrad') ? rAdagrad : r, n, dtype, exact);
          // The oracle on its own copies.
          const ref = { w: start.w.slice(), g: start.g.slice(), m: start.m.slice(), v: start.v.slice(), vMax: start.vMax.slice(), buf: start.buf.slice() };
          c.run(referenceStep, ref.w, ref.g, ref);
          // The backend on its buffers, read back through its interface.
          const up = (a: DataArray): Handle => b.upload(a.slice());
          const hw = up(start.w), hg = up(start.g);
          const hs: Record<string, Handle> = {};
          for (const k of c.slots) hs[k] = up(start[k]);
          c.run(b.kernels, hw, hg, hs);
          const label = `${b.name} ${dtype} n ${n} ${c.label}`;
          // Bit for bit on CPU backends. webgpu computes in f32 where the reference rounds double
          // intermediates to float32 at each store (src/backends/webgpu/README.md): its results
          // agree to float32 rounding (closeInPlace); the gradient, which no kernel writes, stays
          // bit for bit there too.
          const check = async (name: string, h: Handle, want: DataArray, before: DataArray, bitForBit = exact) => {
            const got = exact ? b.readSync(h) : await b.read(h);
            assert.equal(got.constructor, want.constructor, `${label}: ${name} keeps its dtype`);
            if (!bitForBit) return closeInPlace(got, want, before, `${label}: ${name}`);
            for (let i = 0; i < n; i++) if (!Object.is(got[i], want[i])) assert.fail(`${label}: ${name}[${i}] = ${got[i]}, the reference gives ${want[i]}`);
          };
          await check('w', hw, ref.w, start.w);
          await check('g', hg, start.g, start.g, true);
          for (const k of c.slots) await check(k, hs[k], ref[k], start[k]);
          for (const h of [hw, hg, ...Object.values(hs)]) b.free(h);
        }
      }
    }
  });
}

/**
 * A buffer updated in place (x ← x + Δ) against the reference's, to float32 rounding: the float32
 * floor (FLOAT32_TOLERANCE) taken relative to the largest of the operands, |x|, |Δ| and the
 * result. f32 rounding of a large step Δ is relative to |Δ|, and x + Δ can cancel to a value far
 * smaller (these slots hold magnitudes from 1e-2 to 50, and Adam's step at a tiny second moment is
 * large), so a tolerance relative to the result alone would call a correct kernel wrong.
 */
function closeInPlace(got: DataArray, want: DataArray, before: DataArray, what: string): void {
  const { atol, rtol } = FLOAT32_TOLERANCE;
  for (let i = 0; i < want.length; i++) {
    const scale = Math.max(Math.abs(want[i]), Math.abs(before[i]), Math.abs(want[i] - before[i]));
    const ok = Number.isNaN(want[i]) ? Number.isNaN(got[i]) : Math.abs(got[i] - want[i]) <= atol + rtol * scale;
    if (!ok) assert.fail(`${what}[${i}] = ${got[i]}, the reference gives ${want[i]} (from ${before[i]}): beyond float32 rounding of its operands`);
  }
}

/** A tiny float32 problem with a large weight (over the wasm thresholds) and a small one. */
function problem() {
  const r = rng(3);
  const big = new g.Parameter(g.tensor(Array.from({ length: MIN_WASM_ADAM + 5 }, () => r())));
  const small = new g.Parameter(g.tensor(Array.from({ length: 6 }, () => r())));
  const targets = [g.tensor(Array.from({ length: big.size }, () => r())), g.tensor(Array.from({ length: small.size }, () => r()))];
  const lossOf = () => g.add(big.sub(targets[0]).square().sum(), small.sub(targets[1]).square().sum());
  return { params: [big, small], lossOf };
}

const OPTIMIZERS: Record<string, (p: g.Tensor[]) => g.optim.Optimizer<any>> = {
  'Adam amsgrad': (p) => new g.optim.Adam(p, { lr: 1e-2, amsgrad: true, weightDecay: 1e-3 }),
  'AdamW': (p) => new g.optim.AdamW(p, { lr: 1e-2 }),
  'SGD Nesterov': (p) => new g.optim.SGD(p, { lr: 1e-2, momentum: 0.9, nesterov: true }),
  'RMSprop centered momentum': (p) => new g.optim.RMSprop(p, { lr: 1e-3, centered: true, momentum: 0.5 }),
  'Adagrad lrDecay initialAccumulatorValue weightDecay': (p) => new g.optim.Adagrad(p, { lr: 1e-2, lrDecay: 0.1, initialAccumulatorValue: 0.1, weightDecay: 1e-3 }),
};

test('a step inside scope() keeps the optimizer state (and clipped grads, EMA shadows) alive across steps, with the unscoped trajectory', async () => {
  for (const [name, make] of Object.entries(OPTIMIZERS)) {
    const trajectory = async (scoped: boolean) => {
      const { params, lossOf } = problem();
      // Built inside a scope too: slots made at construction must survive it.
      const [opt, ema] = scoped ? g.scope(() => [make(params), new g.optim.EMA(params, { decay: 0.9 })] as const) : [make(params), new g.optim.EMA(params, { decay: 0.9 })] as const;
      // On webgpu the norm arrives later (the gradients are clipped before clipNorm returns): awaited after the steps.
      const norms: Promise<number>[] = [];
      const step = () => {
        opt.zeroGrad();
        lossOf().backward();
        const norm = clipNorm(params, 5);
        if (norm instanceof Promise) norms.push(norm);
        opt.step();
        ema.update();
      };
      for (let s = 0; s < 4; s++) {
        if (scoped) g.scope(step);
        else step();
      }
      await Promise.all(norms);
      const state = await stateDictOf(opt);
      const read = async (ts: g.Tensor[]) => Promise.all(ts.map(async (x) => Array.from(await x.data())));
      return { weights: await read(params), state, averages: (await averagesOf(ema)).map((a) => Array.from(a)), grads: await read(params.map((p) => p.grad!)) };
    };
    const plain = await trajectory(false);
    const scoped = await trajectory(true);
    assert.deepEqual(scoped.weights, plain.weights, `${name}: weights`);
    assert.deepEqual(scoped.state, plain.state, `${name}: optimizer state`);
    assert.deepEqual(scoped.averages, plain.averages, `${name}: EMA averages`);
    assert.deepEqual(scoped.grads, plain.grads, `${name}: the clipped gradients outlive the scope`);
    const adamLike = (plain.state.state[0] as any[]).find((s) => s !== null && typeof s === 'object' && 'm' in s);
    if (adamLike) assert.ok(adamLike.m[0].some((x: number) => x !== 0), `${name}: the state advanced`);
    const adagrad = (plain.state.state[0] as any[]).find((s) => s !== null && typeof s === 'object' && 'sum' in s);
    if (adagrad) {
      assert.deepEqual(adagrad.count, [4, 4], `${name}: four steps counted`);
      assert.ok(adagrad.sum[0].some((x: number) => x > Math.fround(0.1)), `${name}: the sums advanced from initialAccumulatorValue`);
    }
  }
});

test('a loaded state dict is kept too: steps in scopes after loadStateDict continue bit for bit', async () => {
  const full = problem();
  const fullOpt = new g.optim.Adam(full.params, { lr: 1e-2 });
  for (let s = 0; s < 4; s++) g.scope(() => {
    fullOpt.zeroGrad();
    full.lossOf().backward();
    fullOpt.step();
  });
  const resumed = problem();
  let opt = new g.optim.Adam(resumed.params, { lr: 1e-2 });
  for (let s = 0; s < 4; s++) {
    if (s === 2) {
      const sd = await stateDictOf(opt);
      opt = g.scope(() => {
        const fresh = new g.optim.Adam(resumed.params, { lr: 1e-2 });
        fresh.loadStateDict(sd);
        return fresh;
      });
    }
    g.scope(() => {
      opt.zeroGrad();
      resumed.lossOf().backward();
      opt.step();
    });
  }
  const read = async (ts: g.Tensor[]) => Promise.all(ts.map(async (x) => Array.from(await x.data())));
  assert.deepEqual(await read(resumed.params), await read(full.params));
});
