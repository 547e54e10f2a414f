import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertThrowsMsg, byFloat, expectClose, expectGrad, expectThrowsMsg, FLOAT, NEEDS_FLOAT64, values } from '../helpers.js';
import { testAllBackends, testAllBackendsExcept } from './backends.js';

type Float = 'float32' | 'float64';
// Each fused kernel in each float dtype the backend has (webgpu has no float64 kernels to compare).
const FLOATS: Float[] = FLOAT === 'float64' ? ['float32', 'float64'] : ['float32'];
const f64 = { dtype: FLOAT };
// Shapes cover 2-D [N, C], N = 2, odd spatial sizes and a spatial size of 1.
const SHAPES = [[2, 3], [5, 4], [2, 3, 5], [3, 2, 1, 7], [2, 4, 3, 5]];
const tol = (dtype: Float) => (dtype === 'float32' ? { atol: 2e-5, rtol: 2e-4 } : { atol: 1e-12, rtol: 1e-10 });

// ---------------------------------------------------------------------------------------------
// The composed versions the fused ops replace: the oracle.
// ---------------------------------------------------------------------------------------------

const reluGradComposed = (x: g.Tensor, dy: g.Tensor) => g.mul(dy, g.cast(g.gt(x, 0), dy.dtype));

function view(p: g.Tensor, rank: number): g.Tensor {
  return g.reshape(p, [1, p.shape[0], ...new Array<number>(rank - 2).fill(1)]);
}

function statAxes(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
}

/** Training-mode batch norm from broadcasting ops: (x − μ)/√(σ² + eps)·γ + β. */
function bnComposed(x: g.Tensor, gamma: g.Tensor | null, beta: g.Tensor | null, eps = 1e-5): g.Tensor {
  const axes = statAxes(x.rank);
  const centered = g.sub(x, g.mean(x, axes, { keepDims: true }));
  const variance = g.mean(g.square(centered), axes, { keepDims: true });
  let y = g.div(centered, g.sqrt(g.add(variance, eps)));
  if (gamma) y = g.mul(y, view(gamma, x.rank));
  if (beta) y = g.add(y, view(beta, x.rank));
  return y;
}

/** Eval-mode batch norm from broadcasting ops with constant statistics. */
function bnEvalComposed(x: g.Tensor, rm: g.Tensor, rv: g.Tensor, gamma: g.Tensor | null, beta: g.Tensor | null, eps = 1e-5): g.Tensor {
  let y = g.div(g.sub(x, view(rm, x.rank)), g.sqrt(g.add(view(rv, x.rank), eps)));
  if (gamma) y = g.mul(y, view(gamma, x.rank));
  if (beta) y = g.add(y, view(beta, x.rank));
  return y;
}

/** Forward value and gradients of (x, γ, β) under upstream gradient dy, for either implementation. */
async function run(f: (x: g.Tensor, gm: g.Tensor, bt: g.Tensor) => g.Tensor, x: g.Tensor, gm: g.Tensor, bt: g.Tensor, dy: g.Tensor) {
  const leaves = [x, gm, bt].map((t) => {
    const l = t.detach();
    l.requiresGrad = true;
    return l;
  });
  const y = f(leaves[0], leaves[1], leaves[2]);
  y.backward(dy);
  return { y: await y.data(), grads: await Promise.all(leaves.map((l) => l.grad!.data())) };
}

// ---------------------------------------------------------------------------------------------
// ReLU backward
// ---------------------------------------------------------------------------------------------

testAllBackends('reluBackward kernel equals the composed gt → cast → mul, float32 and float64', async () => {
  for (const dtype of FLOATS) {
    const x = g.randn([3, 7, 5], { seed: 1, dtype });
    // Exact zeros and -0 must take the ≤ 0 branch (gradient 0 at the kink, as gt(x, 0) gives).
    const xb = (await x.data()).slice();
    xb[0] = 0;
    xb[1] = -0;
    const xz = g.tensor(Array.from(xb), { dtype }).reshape([3, 7, 5]);
    const dy = g.randn([3, 7, 5], { seed: 2, dtype });
    const out = new g.Tensor(g.getBackend().kernels.reluBackward(xz.handle, dy.handle), xz.shape);
    assert.equal(out.dtype, dy.dtype, 'result keeps the dtype');
    const got = await out.data();
    await expectClose(got, await values(reluGradComposed(xz, dy)), { atol: 0, rtol: 0 });
    assert.ok(Array.from(got).some((v) => v !== 0) && Array.from(got).some((v) => v === 0), 'both branches taken');
    // Through the op: relu's gradient rule now uses the kernel.
    const leaf = xz.detach();
    leaf.requiresGrad = true;
    g.relu(leaf).backward(dy);
    await expectClose(leaf.grad!, await values(reluGradComposed(xz, dy)), { atol: 0, rtol: 0 });
  }
});

testAllBackends('reluBackward: NaN input gives a NaN gradient (relu passes NaN through)', async () => {
  const x = g.tensor([NaN, 1, -1, 0], f64);
  x.requiresGrad = true;
  const y = g.relu(x);
  assert.ok(Number.isNaN((await y.data())[0]));
  y.backward(g.tensor([2, 3, 4, 5], f64));
  await expectClose(x.grad!, [NaN, 3, 0, 0]);
});

testAllBackends('relu gradient matches finite differences away from the kink', async () => {
  const x = g.randn([4, 6], { seed: 3, ...f64 });
  // Keep every value at least 0.1 from 0 so the finite difference does not straddle the kink.
  const safe = g.add(x, g.mul(g.sign(x), 0.1));
  await expectGrad((t) => g.relu(t).square().sum(), [safe]);
});

// ---------------------------------------------------------------------------------------------
// Batch norm: values and gradients against the composed ops
// ---------------------------------------------------------------------------------------------

testAllBackends('batchNorm training: output and dx, dγ, dβ equal the composed ops (float32, float64; 2-D to 4-D)', async () => {
  let seed = 10;
  for (const dtype of FLOATS) {
    for (const shape of SHAPES) {
      const c = shape[1];
      const x = g.randn(shape, { seed: seed++, dtype, mean: 3, std: 2 });
      const gm = g.randn([c], { seed: seed++, dtype });
      const bt = g.randn([c], { seed: seed++, dtype });
      const dy = g.randn(shape, { seed: seed++, dtype });
      const fused = await run((a, w, b) => g.batchNorm(a, null, null, w, b), x, gm, bt, dy);
      const ref = await run((a, w, b) => bnComposed(a, w, b), x, gm, bt, dy);
      const msg = `${dtype} ${JSON.stringify(shape)}`;
      await expectClose(fused.y, ref.y, { ...tol(dtype), msg: `${msg} y` });
      for (const [i, name] of ['dx', 'dgamma', 'dbeta'].entries()) await expectClose(fused.grads[i], ref.grads[i], { ...tol(dtype), msg: `${msg} ${name}` });
    }
  }
});

testAllBackends('batchNorm without affine and eval mode equal the composed ops', async () => {
  let seed = 100;
  for (const dtype of FLOATS) {
    for (const shape of SHAPES) {
      const c = shape[1];
      const x = g.randn(shape, { seed: seed++, dtype });
      const dy = g.randn(shape, { seed: seed++, dtype });
      const xl = x.detach();
      xl.requiresGrad = true;
      const y = g.batchNorm(xl, null, null);
      y.backward(dy);
      const xr = x.detach();
      xr.requiresGrad = true;
      const yr = bnComposed(xr, null, null);
      yr.backward(dy);
      await expectClose(y, await values(yr), tol(dtype));
      await expectClose(xl.grad!, await values(xr.grad!), tol(dtype));

      const rm = g.randn([c], { seed: seed++, dtype });
      const rv = g.rand([c], { seed: seed++, dtype }).add(0.5);
      const gm = g.randn([c], { seed: seed++, dtype });
      const bt = g.randn([c], { seed: seed++, dtype });
      const before = [(await rm.data()).slice(), (await rv.data()).slice()];
      const fused = await run((a, w, b) => g.batchNorm(a, rm, rv, w, b, { training: false }), x, gm, bt, dy);
      const ref = await run((a, w, b) => bnEvalComposed(a, rm, rv, w, b), x, gm, bt, dy);
      await expectClose(fused.y, ref.y, tol(dtype));
      for (const [i, gr] of fused.grads.entries()) await expectClose(gr, ref.grads[i], { ...tol(dtype), msg: `eval grad ${i}` });
      assert.deepEqual([await rm.data(), await rv.data()], before, 'eval does not touch the running statistics');
    }
  }
});

testAllBackends('batchNorm gradients match finite differences (float64) for x, γ, β in training and eval', async () => {
  for (const shape of [[2, 3], [3, 2, 5], [2, 2, 3, 3]]) {
    const c = shape[1];
    const x = g.randn(shape, { seed: 200, ...f64 });
    const gm = g.randn([c], { seed: 201, ...f64 });
    const bt = g.randn([c], { seed: 202, ...f64 });
    // The constants (w, the running statistics) are made inside each f from their seeds:
    // expectGrad replays f on the reference backend.
    const w = () => g.randn(shape, { seed: 203, ...f64 });
    // A weighted sum makes every output element matter (Σy alone is constant in x).
    const loss = (y: g.Tensor) => g.mul(y, w()).sum().add(y.square().sum().mul(0.1));
    await expectGrad((a, ga, b) => loss(g.batchNorm(a, null, null, ga, b)), [x, gm, bt]);
    await expectGrad((a) => loss(g.batchNorm(a, null, null)), [x]);
    const rm = () => g.randn([c], { seed: 204, ...f64 });
    const rv = () => g.rand([c], { seed: 205, ...f64 }).add(0.5);
    await expectGrad((a, ga, b) => loss(g.batchNorm(a, rm(), rv(), ga, b, { training: false })), [x, gm, bt]);
  }
});

// ---------------------------------------------------------------------------------------------
// Running statistics
// ---------------------------------------------------------------------------------------------

/** Per-channel mean and unbiased variance of x [N, C, ...], straight from the numbers. */
async function channelStats(x: g.Tensor): Promise<{ mean: number[]; unbiased: number[] }> {
  const [n, c] = x.shape;
  const s = x.size / (n * c);
  const d = await x.data();
  const mean: number[] = [];
  const unbiased: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const vals: number[] = [];
    for (let b = 0; b < n; b++) for (let i = 0; i < s; i++) vals.push(d[(b * c + ch) * s + i]);
    const mu = vals.reduce((a, v) => a + v, 0) / vals.length;
    mean.push(mu);
    unbiased.push(vals.reduce((a, v) => a + (v - mu) ** 2, 0) / (vals.length - 1));
  }
  return { mean, unbiased };
}

testAllBackends('batchNorm running statistics follow the momentum formula (unbiased variance), and the cumulative average for momentum null', async () => {
  for (const momentum of [0.3, null]) {
    const rm = g.zeros([3], f64);
    const rv = g.ones([3], f64);
    let em = [0, 0, 0];
    let ev = [1, 1, 1];
    for (let step = 0; step < 3; step++) {
      const x = g.randn([2, 3, 3, 1], { seed: 300 + step, ...f64, mean: step, std: 1 + step });
      g.batchNorm(x, rm, rv, null, null, { momentum, batchesTracked: step });
      const { mean, unbiased } = await channelStats(x);
      const f = momentum === null ? 1 / (step + 1) : momentum;
      em = em.map((v, i) => (1 - f) * v + f * mean[i]);
      ev = ev.map((v, i) => (1 - f) * v + f * unbiased[i]);
      await expectClose(rm, em, { atol: 1e-12, msg: `mean, momentum ${momentum} step ${step}` });
      await expectClose(rv, ev, { atol: 1e-12, msg: `var, momentum ${momentum} step ${step}` });
    }
  }
  // float32 buffers and input: the same formula within float32 rounding.
  const rm = g.zeros([2]);
  const rv = g.ones([2]);
  const x = g.randn([5, 2], { seed: 310 });
  g.batchNorm(x, rm, rv);
  const { mean, unbiased } = await channelStats(x);
  await expectClose(rm, mean.map((m) => 0.1 * m), { atol: 1e-6 });
  await expectClose(rv, unbiased.map((v) => 0.9 + 0.1 * v), { atol: 1e-6 });
});

testAllBackends('batchNorm training output has zero mean and unit (biased) variance per channel, scaled by γ and shifted by β', async () => {
  const x = g.randn([4, 2, 3], { seed: 400, ...f64, mean: 5, std: 3 });
  const y = g.batchNorm(x, null, null, g.tensor([2, 1], f64), g.tensor([0, -1], f64), { eps: 0 });
  const { mean, unbiased } = await channelStats(y);
  // Statistics of a float32 y in a float32 run, summed on the host into plain numbers (which
  // expectClose cannot tell from float64 ones): float32's floor, given explicitly.
  const stat = { atol: byFloat(1e-12, 1e-5), rtol: byFloat(1e-5, 1e-4) };
  await expectClose(mean, [0, -1], stat);
  // Biased variance = unbiased·(M − 1)/M with M = 12: γ² and 1.
  await expectClose(unbiased.map((v) => (v * 11) / 12), [4, 1], stat);
});

// Its subject is float32/float64 promotion, which a backend without float64 cannot show.
testAllBackendsExcept('batchNorm promotes mixed float dtypes and returns gradients in each input dtype', { webgpu: NEEDS_FLOAT64.skip }, async () => {
  const x = g.randn([3, 2, 2], { seed: 500, ...f64 });
  x.requiresGrad = true;
  const gm = g.randn([2], { seed: 501 });
  gm.requiresGrad = true;
  const y = g.batchNorm(x, null, null, gm, null);
  assert.equal(y.dtype, 'float64');
  y.square().sum().backward();
  assert.equal(gm.grad!.dtype, 'float32');
  assert.equal(x.grad!.dtype, 'float64');
  const ref = bnComposed(x.detach(), g.cast(gm.detach(), 'float64'), null);
  await expectClose(y, await values(ref), { atol: 1e-12 });
});

testAllBackends('batchNorm errors name the op, the shapes and what was expected', async () => {
  const x = g.randn([4, 3, 2]);
  assertThrowsMsg(() => g.batchNorm(g.randn([3]), null, null), /batchNorm/, /at least 2-D/, /\[3\]/);
  assertThrowsMsg(() => g.batchNorm(x, null, null, g.ones([2])), /weight must have shape \[3\]/, /\[4, ?3, ?2\]/, /\[2\]/);
  assertThrowsMsg(() => g.batchNorm(x, g.zeros([3]), null), /runningMean and runningVar must be given together/);
  assertThrowsMsg(() => g.batchNorm(x, g.zeros([3]), g.ones([4])), /runningVar must have shape \[3\]/);
  assertThrowsMsg(() => g.batchNorm(g.randn([1, 3]), null, null), /more than 1 value per channel/, /\[1, ?3\]/);
  assertThrowsMsg(() => g.batchNorm(x, null, null, null, null, { eps: -1 }), /eps must be a non-negative number, got -1/);
  assertThrowsMsg(() => g.batchNorm(x, null, null, null, null, { momentum: 1.5 }), /momentum must be in \[0, 1\] or null, got 1.5/);
  assertThrowsMsg(() => g.batchNorm(x, null, null, null, null, { batchesTracked: -1 }), /batchesTracked/);
  assertThrowsMsg(() => g.batchNorm(g.zeros([2, 3], { dtype: 'int32' }), null, null), /batchNorm/, /float/);
  // Batch size 1 is fine in eval (running statistics).
  assert.deepEqual(g.batchNorm(g.randn([1, 3]), g.zeros([3]), g.ones([3]), null, null, { training: false }).shape, [1, 3]);
});

// ---------------------------------------------------------------------------------------------
// Softmax + cross-entropy
// ---------------------------------------------------------------------------------------------

/** The composed version: −(1−ε)·logp[label] − ε·mean(logp), with ignored rows zeroed. */
function sceComposed(z: g.Tensor, labels: number[], eps = 0, ignore: number | null = null): g.Tensor {
  const [, c] = z.shape;
  const keep = labels.map((l) => (l === ignore ? 0 : 1));
  const idx = g.tensor(labels.map((l) => (l === ignore ? 0 : l)), { dtype: 'int32' }).reshape([labels.length, 1]);
  const logp = g.logSoftmax(z, 1);
  const nll = g.neg(g.gather(logp, 1, idx)).reshape([labels.length]);
  const smooth = g.neg(g.sum(logp, 1)).mul(eps / c);
  return g.mul(g.add(nll.mul(1 - eps), smooth), g.tensor(keep, { dtype: z.dtype }));
}

testAllBackends('softmaxCrossEntropy: loss and gradient equal logSoftmax → gather → neg (float32, float64; smoothing; ignoreIndex)', async () => {
  let seed = 600;
  for (const dtype of FLOATS) {
    for (const [n, c] of [[2, 3], [5, 7], [4, 1]]) {
      for (const [eps, ignore] of [[0, null], [0.1, null], [0, -100], [0.2, 1]] as const) {
        const z = g.randn([n, c], { seed: seed++, dtype, std: 3 });
        const labels = Array.from(await g.randint(0, c, [n], { seed: seed++ }).data());
        if (ignore !== null) labels[0] = ignore;
        const lt = g.tensor(labels, { dtype: 'int32' });
        const dl = g.randn([n], { seed: seed++, dtype });
        const a = z.detach();
        a.requiresGrad = true;
        const la = g.softmaxCrossEntropy(a, lt, { labelSmoothing: eps, ignoreIndex: ignore ?? undefined });
        la.backward(dl);
        const b = z.detach();
        b.requiresGrad = true;
        const lb = sceComposed(b, labels, eps, ignore);
        lb.backward(dl);
        const msg = `${dtype} [${n}, ${c}] ε=${eps} ignore=${ignore}`;
        await expectClose(la, await values(lb), { ...tol(dtype), msg });
        await expectClose(a.grad!, await values(b.grad!), { ...tol(dtype), msg: `${msg} grad` });
        if (ignore !== null && labels[0] === ignore) {
          assert.equal((await la.data())[0], 0);
          assert.ok((await values(a.grad!)).slice(0, c).every((v) => v === 0), 'ignored row gets no gradient');
        }
      }
    }
  }
});

testAllBackends('softmaxCrossEntropy: gradCheck in float64; large logits do not overflow', async () => {
  const z = g.randn([3, 4], { seed: 700, ...f64 });
  // Labels and weights made inside f: expectGrad replays f on the reference backend.
  const labels = () => g.tensor([3, 0, 2], { dtype: 'int32' });
  const w = () => g.tensor([1, -2, 0.5], f64);
  await expectGrad((t) => g.mul(g.softmaxCrossEntropy(t, labels(), { labelSmoothing: 0.1 }), w()).sum(), [z]);
  // −log softmax([1000, 0])[1] = 1000 exactly (log(1 + e^−1000) underflows to 0).
  await expectClose(g.softmaxCrossEntropy(g.tensor([[1000, 0], [0, 1000]]), g.tensor([1, 1], { dtype: 'int32' })), [1000, 0], { atol: 1e-3 });
});

testAllBackends('softmaxCrossEntropy errors name the op, the shapes and the bad label', async () => {
  const z = g.randn([3, 4]);
  const ok = g.tensor([0, 1, 2], { dtype: 'int32' });
  assertThrowsMsg(() => g.softmaxCrossEntropy(g.randn([3, 4, 1]), ok), /softmaxCrossEntropy/, /2-D/, /\[3, ?4, ?1\]/);
  assertThrowsMsg(() => g.softmaxCrossEntropy(z, g.tensor([0, 1], { dtype: 'int32' })), /labels must have shape \[3\]/, /\[2\]/);
  assertThrowsMsg(() => g.softmaxCrossEntropy(z, g.tensor([0, 1, 2])), /labels must be int32/, /float32/);
  await expectThrowsMsg(() => g.softmaxCrossEntropy(z, g.tensor([0, 4, 2], { dtype: 'int32' })), /label 4 at row 1 is out of range for 4 classes/);
  await expectThrowsMsg(() => g.softmaxCrossEntropy(z, g.tensor([0, -1, 2], { dtype: 'int32' }), { ignoreIndex: -100 }), /label -1/, /ignoreIndex -100/);
  assertThrowsMsg(() => g.softmaxCrossEntropy(z, ok, { labelSmoothing: 1 }), /labelSmoothing must be in \[0, 1\), got 1/);
});

// ---------------------------------------------------------------------------------------------
// Bias + activation
// ---------------------------------------------------------------------------------------------

testAllBackends('biasAct: act(x + bias) and its gradients equal add → relu, on every axis (float32, float64)', async () => {
  let seed = 800;
  for (const dtype of FLOATS) {
    for (const [shape, axis] of [[[2, 5], 1], [[4, 3], -1], [[2, 3, 5, 3], 1], [[3, 2, 5], 0], [[2, 3, 5], 2]] as const) {
      for (const activation of ['none', 'relu'] as const) {
        const ax = axis < 0 ? axis + shape.length : axis;
        const x = g.randn([...shape], { seed: seed++, dtype });
        const b = g.randn([shape[ax]], { seed: seed++, dtype });
        const dy = g.randn([...shape], { seed: seed++, dtype });
        const leaves = () => [x, b].map((t) => {
          const l = t.detach();
          l.requiresGrad = true;
          return l;
        });
        const [xa, ba] = leaves();
        const ya = g.biasAct(xa, ba, { axis, activation });
        ya.backward(dy);
        const [xb, bb] = leaves();
        const view = g.reshape(bb, shape.map((d, i) => (i === ax ? d : 1)));
        const sum = g.add(xb, view);
        const yb = activation === 'relu' ? g.relu(sum) : sum;
        yb.backward(dy);
        const msg = `${dtype} ${JSON.stringify(shape)} axis ${axis} ${activation}`;
        await expectClose(ya, await values(yb), { ...tol(dtype), msg });
        await expectClose(xa.grad!, await values(xb.grad!), { ...tol(dtype), msg: `${msg} dx` });
        await expectClose(ba.grad!, await values(bb.grad!), { ...tol(dtype), msg: `${msg} dbias` });
      }
    }
  }
});

testAllBackends('biasAct: gradCheck (float64); relu keeps NaN and maps −∞ to 0; errors', async () => {
  const x = g.randn([3, 4], { seed: 900, ...f64 });
  // Shift values away from the kink at x + b = 0 so finite differences stay on one side.
  const safe = g.add(x, g.mul(g.sign(x), 0.2));
  const b = g.zeros([4], f64);
  await expectGrad((t, bb) => g.biasAct(t, bb, { activation: 'relu' }).square().sum(), [safe, b]);
  await expectGrad((t, bb) => g.biasAct(t, bb).square().sum(), [x, g.randn([4], { seed: 901, ...f64 })]);
  await expectClose(g.biasAct(g.tensor([[NaN, -Infinity, -1, 2]]), g.tensor([0, 0, 0.5, 0.5]), { activation: 'relu' }), [NaN, 0, 0, 2.5]);
  assertThrowsMsg(() => g.biasAct(g.randn([2, 3]), g.randn([2])), /biasAct/, /bias must have shape \[3\]/, /\[2\]/);
  assertThrowsMsg(() => g.biasAct(g.randn([2, 3]), g.randn([3]), { axis: 2 }), /axis 2 is out of range/, /\[2, ?3\]/);
  assertThrowsMsg(() => g.biasAct(g.randn([2, 3]), g.randn([3]), { activation: 'gelu' as 'relu' }), /activation must be 'none' or 'relu', got 'gelu'/);
});

testAllBackends('batchNorm statistics stay accurate when |mean| ≫ std, and a constant channel gives variance 0 (no NaN)', async () => {
  const x = g.add(g.randn([4, 2, 5], { seed: 1000, ...f64, std: 1e-3 }), 1e6);
  const rm = g.zeros([2], f64);
  const rv = g.zeros([2], f64);
  g.batchNorm(x, rm, rv, null, null, { momentum: 1 });
  // In a float32 run 1e6 + 1e-3·randn rounds to 1e6 itself (float32's spacing there is 1/16), so
  // there the channel is constant: the same check, a degenerate input.
  const { mean, unbiased } = await channelStats(x);
  await expectClose(rm, mean, { atol: 0, rtol: 1e-14 });
  await expectClose(rv, unbiased, { atol: 0, rtol: 1e-6 });
  const flat = g.full([3, 2, 2], 7, f64);
  const y = g.batchNorm(flat, rm, rv, null, g.tensor([1, -2], f64), { momentum: 1 });
  await expectClose(y, [1, 1, -2, -2, 1, 1, -2, -2, 1, 1, -2, -2], { atol: 0 });
  await expectClose(rv, [0, 0], { atol: 0 });
});
