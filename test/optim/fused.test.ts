import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { setFusedSteps } from '../../src/optim/fusion.js';
import { allocSlot } from '../../src/optim/slots.js';
import { assertClose, FLOAT32_TOLERANCE, NEEDS_FLOAT64 } from '../helpers.js';
import { COMPOSED_PATH, NEEDS_COMPOSED_PATH, stateDictOf, SYNC_READS } from './helpers.js';

const o = g.optim;
type Dtype = 'float32' | 'float64';
type Make = (groups: g.optim.ParamGroupInput<any>[]) => g.optim.Optimizer<any>;

/**
 * Where the composed path runs. On CPU backends: here, and fused and composed agree bit for bit.
 * On webgpu the composed path cannot run (COMPOSED_PATH), so it runs on the reference backend
 * from the same float32 values and gradients, and the fused side (webgpu's f32 kernels) agrees
 * with it to float32 rounding, not bit for bit (src/backends/webgpu/README.md): those
 * comparisons use the float32 floor (FLOAT32_TOLERANCE) there.
 */
const COMPOSED_ON = SYNC_READS ? g.backendName() : 'reference';

/** A seeded stream in [−0.5, 0.5) (LCG), so runs are reproducible without Math.random. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
}

/**
 * A model covering every per-parameter case: a large weight (over the slot-staggering
 * threshold) and a small one, a noDecay bias, a frozen weight and one that never gets a
 * gradient, split into two groups; the second group runs at lr 0 when `lr0` is set.
 */
function model(dtype: Dtype, seed = 7) {
  const r = rng(seed);
  const make = (n: number, opts: { tags?: ('noDecay')[]; requiresGrad?: boolean } = {}, edit = (v: number[]) => v) =>
    new g.Parameter(g.tensor(edit(Array.from({ length: n }, () => r())), { dtype }), opts);
  const big = make(1500);
  const small = make(12);
  const bias = make(40, { tags: ['noDecay'] });
  const frozen = make(30, { requiresGrad: false });
  const noGrad = make(8);
  const other = make(1100);
  const negZero = make(4, {}, (v) => v.map((x, i) => (i === 0 ? -0 : x)));
  return { params: [big, small, bias, frozen, noGrad, other, negZero], withGrad: [big, small, bias, other, negZero], frozen, r };
}

/** The values of every tensor, concatenated; the reads are issued now (they snapshot), awaited later. */
function readAll(ts: readonly g.Tensor[]): Promise<number[]> {
  const reads = ts.map((t) => t.data());
  return Promise.all(reads).then((as) => as.flatMap((a) => Array.from(a)));
}

/**
 * Runs `steps` steps with seeded gradients; returns weights and state after each step. The
 * composed path (fused false) runs on COMPOSED_ON.
 */
async function run(make: Make, dtype: Dtype, fused: boolean, opts: { steps?: number; lr0?: boolean } = {}) {
  const go = () => {
    const prev = setFusedSteps(fused);
    try {
      const m = model(dtype);
      const [big, small, bias, frozen, noGrad, other, negZero] = m.params;
      const opt = make([
        { params: [big, small, bias, frozen, noGrad] },
        { params: [other, negZero], ...(opts.lr0 ? { lr: 0 } : { lr: 0.03 }) },
      ]);
      const grads = rng(99);
      const trace: Promise<number[]>[] = [];
      for (let s = 0; s < (opts.steps ?? 4); s++) {
        for (const p of m.withGrad) p.grad = g.tensor(Array.from({ length: p.size }, () => grads()), { dtype });
        frozen.grad = g.tensor(Array.from({ length: frozen.size }, () => grads()), { dtype }); // stale grad on a frozen weight
        opt.step();
        // Object.is keeps −0 apart from +0; the arrays compare bit for bit via their doubles.
        trace.push(readAll(m.params));
      }
      void noGrad;
      return { trace, opt, params: m.params };
    } finally {
      setFusedSteps(prev);
    }
  };
  const r = fused ? go() : g.withBackend(COMPOSED_ON, go);
  return { trace: await Promise.all(r.trace), state: await stateDictOf(r.opt), params: r.params };
}

type StepKernel = 'adamUpdate' | 'sgdUpdate' | 'rmspropUpdate' | 'adagradUpdate';

/** Counts calls of the current backend's optimizer step kernels into `calls`; returns a restore function. */
function spyStepKernels(calls: Partial<Record<StepKernel, number>>): () => void {
  const k = g.getBackend().kernels as unknown as Record<StepKernel, (...args: unknown[]) => void>;
  const saved = { ...k };
  for (const name of Object.keys(calls) as StepKernel[]) {
    const real = saved[name];
    k[name] = (...args: unknown[]) => {
      calls[name]! += 1;
      real(...args);
    };
  }
  return () => {
    for (const name of Object.keys(calls) as StepKernel[]) k[name] = saved[name];
  };
}

function assertSameBits(a: number[][], b: number[][], what: string): void {
  assert.equal(a.length, b.length);
  a.forEach((row, s) => row.forEach((x, i) => {
    if (!Object.is(x, b[s][i])) assert.fail(`${what}: step ${s + 1}, value ${i}: fused ${x} vs composed ${b[s][i]}`);
  }));
}

/** Fused (here) against composed (COMPOSED_ON): bit for bit on CPU backends, to float32 rounding on webgpu (see COMPOSED_ON). */
function assertSameSteps(a: number[][], b: number[][], what: string): void {
  if (SYNC_READS) return assertSameBits(a, b, what);
  assert.equal(a.length, b.length);
  a.forEach((row, s) => assertClose(row, b[s], { ...FLOAT32_TOLERANCE, msg: `${what}: step ${s + 1}` }));
}

/** Optimizer states (as saved): equal on CPU backends; on webgpu the same structure and counts, the slot values to float32 rounding (see COMPOSED_ON). */
function assertSameState(a: unknown, b: unknown, what: string): void {
  if (SYNC_READS) return assert.deepEqual(a, b, what);
  if (a instanceof Float32Array || a instanceof Float64Array) {
    assert.equal(a.constructor, (b as object).constructor, `${what}: array kind`);
    return assertClose(a, b as Float32Array, { ...FLOAT32_TOLERANCE, msg: what });
  }
  if (a !== null && typeof a === 'object') {
    assert.ok(b !== null && typeof b === 'object', `${what}: ${JSON.stringify(b)} is not an object`);
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b as object).sort(), `${what}: keys`);
    for (const [k, v] of Object.entries(a)) assertSameState(v, (b as Record<string, unknown>)[k], `${what}.${k}`);
    return;
  }
  assert.deepEqual(a, b, what);
}

const RECIPES: Record<string, Make> = {
  'Adam': (p) => new o.Adam(p, { lr: 0.01 }),
  'Adam weightDecay 0.1': (p) => new o.Adam(p, { lr: 0.01, weightDecay: 0.1 }),
  'Adam amsgrad + weightDecay': (p) => new o.Adam(p, { lr: 0.01, weightDecay: 0.05, amsgrad: true }),
  'AdamW (default decay)': (p) => new o.AdamW(p, { lr: 0.01 }),
  'AdamW weightDecay 0': (p) => new o.AdamW(p, { lr: 0.01, weightDecay: 0 }),
  'AdamW includeNoDecay + amsgrad': (p) => new o.AdamW(p, { lr: 0.01, weightDecay: 0.2, includeNoDecay: true, amsgrad: true }),
  'SGD': (p) => new o.SGD(p, { lr: 0.1 }),
  'SGD weightDecay': (p) => new o.SGD(p, { lr: 0.1, weightDecay: 0.01 }),
  'SGD momentum': (p) => new o.SGD(p, { lr: 0.1, momentum: 0.9 }),
  'SGD momentum dampening weightDecay': (p) => new o.SGD(p, { lr: 0.1, momentum: 0.8, dampening: 0.3, weightDecay: 0.02 }),
  'SGD Nesterov': (p) => new o.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
  'RMSprop': (p) => new o.RMSprop(p, { lr: 0.01 }),
  'RMSprop weightDecay': (p) => new o.RMSprop(p, { lr: 0.01, weightDecay: 0.01, momentum: 0.5 }),
  'RMSprop centered': (p) => new o.RMSprop(p, { lr: 0.01, alpha: 0.9, centered: true }),
  'RMSprop centered momentum weightDecay includeNoDecay': (p) =>
    new o.RMSprop(p, { lr: 0.01, alpha: 0.8, eps: 1e-6, centered: true, momentum: 0.9, weightDecay: 0.05, includeNoDecay: true }),
  'Adagrad': (p) => new o.Adagrad(p, { lr: 0.01, weightDecay: 0.01 }),
  'Adagrad lrDecay': (p) => new o.Adagrad(p, { lr: 0.05, lrDecay: 0.1 }),
  'Adagrad lrDecay initialAccumulatorValue eps weightDecay includeNoDecay': (p) =>
    new o.Adagrad(p, { lr: 0.05, lrDecay: 0.3, initialAccumulatorValue: 0.1, eps: 1e-6, weightDecay: 0.02, includeNoDecay: true }),
  'custom chain(scaleByAdam, scaleByLearningRate)': (p) =>
    new o.Optimizer(p, { lr: 0.01, weightDecay: 0, includeNoDecay: false }, (gr) => o.chain(o.scaleByAdam({ betas: [0.8, 0.99] }), o.scaleByLearningRate(() => gr.lr))),
};

/** The recipes that have no fused step (they always take the composed path). */
const WITHOUT_FUSED_STEP = ['custom chain(scaleByAdam, scaleByLearningRate)'];

for (const dtype of ['float32', 'float64'] as const) {
  // The float64 case is about float64 parameters and slots, which webgpu does not have.
  test(`fused steps equal the composed transforms bit for bit (${dtype}; groups, frozen, no grad, noDecay, −0)`, dtype === 'float64' ? NEEDS_FLOAT64 : {}, async (t) => {
    // A custom chain has no fused step: both runs take the composed path, which webgpu cannot run.
    const recipes = Object.entries(RECIPES).filter(([name]) => SYNC_READS || !WITHOUT_FUSED_STEP.includes(name));
    if (recipes.length < Object.keys(RECIPES).length) t.diagnostic(`${WITHOUT_FUSED_STEP.join(' and ')} skipped on webgpu: ${COMPOSED_PATH}`);
    for (const [name, make] of recipes) {
      for (const lr0 of [false, true]) {
        const fused = await run(make, dtype, true, { lr0 });
        const composed = await run(make, dtype, false, { lr0 });
        assertSameSteps(fused.trace, composed.trace, `${name}${lr0 ? ' (group 2 at lr 0)' : ''}`);
        assertSameState(fused.state, composed.state, `${name}: optimizer state`);
      }
    }
  });
}

test('lr 0 leaves weights bit for bit unchanged on the fused path (−0 stays −0) while the state advances', async () => {
  const before = await Promise.all(model('float32').params.map(async (p) => Array.from(await p.data())));
  const { trace, state } = await run(RECIPES['AdamW (default decay)'], 'float32', true, { lr0: true, steps: 2 });
  const sizes = model('float32').params.map((p) => p.size);
  const start = sizes[0] + sizes[1] + sizes[2] + sizes[3] + sizes[4];
  const group2 = trace[1].slice(start);
  assertSameBits([group2], [[...before[5], ...before[6]]], 'lr-0 group');
  assert.ok(Object.is(group2[sizes[5]], -0), 'the −0 weight must stay −0');
  const adam = (state.state[1] as any)[0];
  assert.deepEqual(adam.count, [2, 2]);
  assert.ok(adam.m[0].some((x: number) => x !== 0), 'the first moment must advance at lr 0');
});

test('the fused kernels are the ones that run for float32, and a swapped step kernel turns fusion off', async (t) => {
  const calls = { fused: 0, adam: 0 };
  const spied = { adamUpdate: 0 };
  const unspy = spyStepKernels(spied);
  try {
    await run(RECIPES['Adam'], 'float32', true, { steps: 2 });
    calls.fused = spied.adamUpdate;
    assert.equal(calls.fused, 2 * 5, 'five float32 parameters with gradients, two steps');
    if (!SYNC_READS) {
      // With a registered adamStep the step takes the composed path, which webgpu cannot run.
      t.diagnostic(`the registered-kernel half is skipped on webgpu: ${COMPOSED_PATH}`);
      return;
    }
    o.registerOptimKernels({
      adamStep: (...args: Parameters<g.optim.OptimKernels['adamStep']>) => {
        calls.adam++;
        o.referenceOptimKernels.adamStep(...args);
      },
    });
    await run(RECIPES['Adam'], 'float32', true, { steps: 1 });
    calls.fused = spied.adamUpdate;
    assert.equal(calls.adam, 5, 'a registered adamStep must run');
    assert.equal(calls.fused, 10, 'and the fused kernel must not');
  } finally {
    unspy();
    o.registerOptimKernels(o.referenceOptimKernels);
  }
});

test('chain() is plain composition; the named optimizers bring their fused step themselves', async (t) => {
  const has = (t: g.optim.GradientTransform<any>) => typeof t.fusedStep === 'function';
  assert.ok(!has(o.chain(o.addL2ToGradient(0.1), o.scaleByAdam(), o.addDecayedWeights(0.1), o.scaleByLearningRate(0.1))), 'no recipe detection in chain()');
  assert.ok(!has(o.chain(o.trace(), o.scaleByLearningRate(0.1))));
  const spied = { adamUpdate: 0, sgdUpdate: 0, rmspropUpdate: 0, adagradUpdate: 0 };
  const restore = spyStepKernels(spied);
  try {
    const count = async (make: Make) => {
      spied.adamUpdate = spied.sgdUpdate = spied.rmspropUpdate = spied.adagradUpdate = 0;
      await run(make, 'float32', true, { steps: 1 });
      return { adam: spied.adamUpdate, sgd: spied.sgdUpdate, rms: spied.rmspropUpdate, ada: spied.adagradUpdate };
    };
    // The user chain takes the composed path, which webgpu cannot run.
    if (SYNC_READS) assert.deepEqual(await count(RECIPES['custom chain(scaleByAdam, scaleByLearningRate)']), { adam: 0, sgd: 0, rms: 0, ada: 0 }, 'a user chain takes the composed path');
    else t.diagnostic(`the custom chain count is skipped on webgpu: ${COMPOSED_PATH}`);
    for (const name of ['Adam', 'AdamW (default decay)']) assert.deepEqual(await count(RECIPES[name]), { adam: 5, sgd: 0, rms: 0, ada: 0 }, name);
    for (const name of ['SGD', 'SGD momentum', 'SGD Nesterov']) assert.deepEqual(await count(RECIPES[name]), { adam: 0, sgd: 5, rms: 0, ada: 0 }, name);
    for (const name of ['RMSprop', 'RMSprop centered', 'RMSprop weightDecay']) assert.deepEqual(await count(RECIPES[name]), { adam: 0, sgd: 0, rms: 5, ada: 0 }, name);
    for (const name of ['Adagrad', 'Adagrad lrDecay initialAccumulatorValue eps weightDecay includeNoDecay']) {
      assert.deepEqual(await count(RECIPES[name]), { adam: 0, sgd: 0, rms: 0, ada: 5 }, name);
    }
  } finally {
    restore();
  }
});

for (const recipe of ['AdamW includeNoDecay + amsgrad', 'RMSprop centered momentum weightDecay includeNoDecay', 'Adagrad lrDecay initialAccumulatorValue eps weightDecay includeNoDecay']) test(`a run resumed from a state dict on the fused path matches the uninterrupted run bit for bit (${recipe})`, async () => {
  const make = RECIPES[recipe];
  const full = await run(make, 'float32', true, { steps: 5 });
  // Same model and gradients, but a fresh optimizer takes over after step 3.
  const m = model('float32');
  const [big, small, bias, frozen, noGrad, other, negZero] = m.params;
  const groups = () => [{ params: [big, small, bias, frozen, noGrad] }, { params: [other, negZero], lr: 0.03 }];
  let opt = make(groups());
  const grads = rng(99);
  for (let s = 0; s < 5; s++) {
    if (s === 3) {
      const sd = await stateDictOf(opt);
      opt = make(groups());
      opt.loadStateDict(sd);
    }
    for (const p of m.withGrad) p.grad = g.tensor(Array.from({ length: p.size }, () => grads()), { dtype: 'float32' });
    frozen.grad = g.tensor(Array.from({ length: frozen.size }, () => grads()), { dtype: 'float32' });
    opt.step();
  }
  assertSameBits([await readAll(m.params)], [full.trace[4]], 'resumed run');
});

test('slot buffers of large parameters start off the page boundary; small ones are plain', () => {
  const a = allocSlot('float32', 5000);
  const b = allocSlot('float32', 5000);
  const d = allocSlot('float64', 3000);
  for (const s of [a, b, d]) {
    assert.notEqual(s.byteOffset % 4096, 0);
    assert.equal(s.byteOffset % 64, 0, 'cache-line aligned shift');
    assert.ok(s.every((x) => x === 0));
  }
  assert.equal(a.length, 5000);
  assert.ok(d instanceof Float64Array && d.length === 3000);
  assert.notEqual(a.byteOffset, b.byteOffset, 'consecutive slots get different shifts');
  assert.equal(allocSlot('float32', 10).byteOffset, 0);
});

for (const [opt, recipe, keys] of [
  ['RMSprop', 'RMSprop centered momentum weightDecay includeNoDecay', ['buf', 'gAvg', 'sq']],
  ['Adagrad', 'Adagrad lrDecay initialAccumulatorValue eps weightDecay includeNoDecay', ['count', 'sum']],
] as const) test(`${opt}: a state dict written by the composed path loads into the fused path and continues bit for bit`, async () => {
  const make = RECIPES[recipe];
  const full = await run(make, 'float32', false, { steps: 5 });
  // The first three steps take the composed path, on COMPOSED_ON (the reference backend on webgpu).
  let m = g.withBackend(COMPOSED_ON, () => model('float32'));
  const groups = () => {
    const [big, small, bias, frozen, noGrad, other, negZero] = m.params;
    return [{ params: [big, small, bias, frozen, noGrad] }, { params: [other, negZero], lr: 0.03 }];
  };
  const grads = rng(99);
  let opt = g.withBackend(COMPOSED_ON, () => make(groups()));
  const prev = setFusedSteps(false);
  try {
    for (let s = 0; s < 5; s++) {
      if (s === 3) {
        // The checkpoint the composed chain wrote (the layout before the fused step existed).
        const sd = structuredClone(await stateDictOf(opt));
        assert.deepEqual(Object.keys((sd.state[1] as any)[1]).sort(), keys);
        setFusedSteps(true);
        if (COMPOSED_ON !== g.backendName()) {
          // webgpu: the same model here, holding the weights the composed steps reached.
          const here = model('float32');
          const reached = await Promise.all(m.params.map((p) => p.data()));
          here.params.forEach((p, i) => p.assign(reached[i]));
          m = here;
        }
        opt = make(groups());
        opt.loadStateDict(sd);
      }
      g.withBackend(s < 3 ? COMPOSED_ON : g.backendName(), () => {
        for (const p of m.withGrad) p.grad = g.tensor(Array.from({ length: p.size }, () => grads()), { dtype: 'float32' });
        m.frozen.grad = g.tensor(Array.from({ length: m.frozen.size }, () => grads()), { dtype: 'float32' });
        opt.step();
      });
    }
  } finally {
    setFusedSteps(prev);
  }
  // Bit for bit on CPU backends; on webgpu the last two steps ran on its f32 kernel (see COMPOSED_ON).
  assertSameSteps([await readAll(m.params)], [full.trace[4]], 'composed checkpoint resumed on the fused path');
});

// A registered step kernel runs on the composed path: skipped on webgpu (see COMPOSED_PATH).
for (const [opt, recipe, hostKernel, stepKernel] of [
  ['RMSprop', 'RMSprop centered', 'rmsStep', 'rmspropUpdate'],
  ['Adagrad', 'Adagrad lrDecay initialAccumulatorValue eps weightDecay includeNoDecay', 'adagradStep', 'adagradUpdate'],
] as const) test(`${opt}: a registered ${hostKernel} turns its fused step off (the user kernel really runs)`, NEEDS_COMPOSED_PATH, async () => {
  const calls = { fused: 0, host: 0 };
  const spied = { [stepKernel]: 0 };
  const unspy = spyStepKernels(spied);
  const reference = o.referenceOptimKernels[hostKernel] as (...args: unknown[]) => void;
  const restore = o.registerOptimKernels({
    [hostKernel]: (...args: unknown[]) => {
      calls.host++;
      reference(...args);
    },
  });
  try {
    await run(RECIPES[recipe], 'float32', true, { steps: 2 });
    calls.fused = spied[stepKernel]!;
    assert.deepEqual(calls, { fused: 0, host: 10 }, `five parameters with gradients, two steps, all on the registered ${hostKernel}`);
  } finally {
    unspy();
    o.registerOptimKernels(restore);
    o.registerOptimKernels(o.referenceOptimKernels);
  }
});
