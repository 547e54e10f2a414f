import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import type { Backend } from '../../src/backend/backend.js';
import type { Handle } from '../../src/backend/handle.js';
import type { DataArray } from '../../src/core/dtype.js';
import { adamUpdate, rmspropUpdate, sgdUpdate } from '../../src/backends/reference/optim.js';
import { MIN_WASM_ADAM, MIN_WASM_RMS } from '../../src/backends/wasm/optim.js';

/** A seeded stream in [−0.5, 0.5) (LCG), so runs are reproducible without Math.random. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
}

type Dtype = 'float32' | 'float64';
const ctor = (d: Dtype) => (d === 'float32' ? Float32Array : Float64Array);

/** Slots as an optimizer leaves them after some steps: signed, non-negative (second moments), some exact zeros and −0. */
function arrays(r: () => number, n: number, dtype: Dtype) {
  const C = ctor(dtype);
  const make = (f: (i: number) => number) => {
    const a = new C(n);
    for (let i = 0; i < n; i++) a[i] = f(i);
    return a;
  };
  const signed = () => make((i) => (i % 53 === 0 ? 0 : i % 59 === 0 ? -0 : r() * 10 ** (4 * r())));
  const positive = () => make((i) => (i % 47 === 0 ? 0 : (r() * r()) / 10));
  return { w: signed(), g: signed(), m: signed(), v: positive(), vMax: positive(), buf: signed() };
}

interface Case { label: string; slots: ('m' | 'v' | 'vMax' | 'buf')[]; run(k: Backend['kernels'] | typeof referenceStep, w: unknown, g: unknown, s: Record<string, unknown>): void }

// The reference kernels over plain arrays: the oracle.
const referenceStep = { adamUpdate, sgdUpdate, rmspropUpdate };

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
];

// Sizes on both sides of the wasm kernels' thresholds (below: the reference loop; above: wasm).
const SIZES = [1, 7, 1000, MIN_WASM_ADAM - 1, Math.max(MIN_WASM_ADAM, MIN_WASM_RMS) + 3, 70_001];

function backends(): Backend[] {
  return g.listBackends().filter((b) => b.available).map((b) => g.withBackend(b.name, () => g.getBackend()));
}

for (const dtype of ['float32', 'float64'] as const) {
  test(`every backend's optimizer step kernels match the reference bit for bit (${dtype}, sizes across the wasm thresholds)`, () => {
    const all = backends();
    assert.ok(all.some((b) => b.name === 'wasm'), 'the wasm backend is among those tested');
    const r = rng(dtype === 'float32' ? 11 : 12);
    for (const b of all) {
      for (const n of dtype === 'float32' ? SIZES : [1, 1000, 70_001]) {
        for (const c of CASES) {
          const start = arrays(r, n, dtype);
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
          const check = (name: string, h: Handle, want: DataArray) => {
            const got = b.readSync(h);
            assert.equal(got.constructor, want.constructor, `${label}: ${name} keeps its dtype`);
            for (let i = 0; i < n; i++) if (!Object.is(got[i], want[i])) assert.fail(`${label}: ${name}[${i}] = ${got[i]}, the reference gives ${want[i]}`);
          };
          check('w', hw, ref.w);
          check('g', hg, start.g);
          for (const k of c.slots) check(k, hs[k], ref[k]);
          for (const h of [hw, hg, ...Object.values(hs)]) b.free(h);
        }
      }
    }
  });
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
  'Adagrad (composed)': (p) => new g.optim.Adagrad(p, { lr: 1e-2 }),
};

test('a step inside scope() keeps the optimizer state (and clipped grads, EMA shadows) alive across steps, with the unscoped trajectory', () => {
  for (const [name, make] of Object.entries(OPTIMIZERS)) {
    const trajectory = (scoped: boolean) => {
      const { params, lossOf } = problem();
      // Built inside a scope too: slots made at construction must survive it.
      const [opt, ema] = scoped ? g.scope(() => [make(params), new g.optim.EMA(params, { decay: 0.9 })] as const) : [make(params), new g.optim.EMA(params, { decay: 0.9 })] as const;
      const step = () => {
        opt.zeroGrad();
        lossOf().backward();
        g.optim.clipGradNorm(params, 5);
        opt.step();
        ema.update();
      };
      for (let s = 0; s < 4; s++) {
        if (scoped) g.scope(step);
        else step();
      }
      const state = opt.stateDict();
      return { weights: params.map((p) => Array.from(p.dataSync())), state, averages: ema.averages().map((a) => Array.from(a)), grads: params.map((p) => Array.from(p.grad!.dataSync())) };
    };
    const plain = trajectory(false);
    const scoped = trajectory(true);
    assert.deepEqual(scoped.weights, plain.weights, `${name}: weights`);
    assert.deepEqual(scoped.state, plain.state, `${name}: optimizer state`);
    assert.deepEqual(scoped.averages, plain.averages, `${name}: EMA averages`);
    assert.deepEqual(scoped.grads, plain.grads, `${name}: the clipped gradients outlive the scope`);
    const adamLike = (plain.state.state[0] as any[]).find((s) => s !== null && typeof s === 'object' && 'm' in s);
    if (adamLike) assert.ok(adamLike.m[0].some((x: number) => x !== 0), `${name}: the state advanced`);
  }
});

test('a loaded state dict is kept too: steps in scopes after loadStateDict continue bit for bit', () => {
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
      const sd = opt.stateDict();
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
  assert.deepEqual(resumed.params.map((p) => Array.from(p.dataSync())), full.params.map((p) => Array.from(p.dataSync())));
});
