import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertThrowsMsg, expectClose, expectGrad, expectThrowsMsg, FLOAT, scalar, values } from '../helpers.js';

const L = g.losses;
const f64 = (x: g.NestedArray) => g.tensor(x as number[], { dtype: FLOAT });
const labels = (x: number[]) => g.tensor(x, { dtype: 'int32' });

// Row 0 = [1, 2, 3]: log-sum-exp = 3 + log(1 + e⁻¹ + e⁻²); row 1 = [1, 1, 1]: log-sum-exp = 1 + log 3.
const lse0 = 3 + Math.log(1 + Math.exp(-1) + Math.exp(-2));
const logits = () => f64([[1, 2, 3], [1, 1, 1]]);

/** Slow, obvious cross-entropy with PyTorch's rules, on plain arrays (the test's oracle). */
function refCrossEntropy(x: number[][], t: number[], w: number[] | null, eps: number, ignore: number): number {
  let num = 0;
  let den = 0;
  x.forEach((row, i) => {
    if (t[i] === ignore) return;
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    const logp = row.map((v) => v - lse);
    const c = row.length;
    const wt = (k: number) => (w === null ? 1 : w[k]);
    num += (1 - eps) * -wt(t[i]) * logp[t[i]] + (eps / c) * logp.reduce((s, lp, k) => s - wt(k) * lp, 0);
    den += wt(t[i]);
  });
  return num / den;
}

test('crossEntropy with class indices: hand values, weights (weighted mean), ignoreIndex, reductions', async () => {
  const t = labels([2, 0]);
  await expectClose(L.crossEntropy(logits(), t), [(lse0 - 3 + Math.log(3)) / 2], { atol: 1e-12 });
  await expectClose(L.crossEntropy(logits(), t, { reduction: 'none' }), [lse0 - 3, Math.log(3)], { atol: 1e-12 });
  await expectClose(L.crossEntropy(logits(), t, { reduction: 'sum' }), [lse0 - 3 + Math.log(3)], { atol: 1e-12 });
  // Weighted mean as PyTorch: Σ w_y·ℓ / Σ w_y = (3·ℓ0 + 1·ℓ1) / 4.
  await expectClose(L.crossEntropy(logits(), t, { weight: [1, 2, 3] }), [(3 * (lse0 - 3) + Math.log(3)) / 4], { atol: 1e-12 });
  await expectClose(L.crossEntropy(logits(), labels([2, -100])), [lse0 - 3], { atol: 1e-12 });
  await expectClose(L.crossEntropy(logits(), labels([2, 1]), { ignoreIndex: 1, reduction: 'none' }), [lse0 - 3, 0], { atol: 1e-12 });
  // Everything ignored: a zero loss, not NaN.
  await expectClose(L.crossEntropy(logits(), labels([-100, -100])), [0]);
});

test('label smoothing by value: (1 − ε)·nll + ε/C·Σ(−log p), equal to smoothed one-hot targets', async () => {
  const eps = 0.1;
  const negLogP0 = [lse0 - 1, lse0 - 2, lse0 - 3];
  const sm0 = (1 - eps) * negLogP0[2] + (eps / 3) * (negLogP0[0] + negLogP0[1] + negLogP0[2]);
  const sm1 = (1 - eps) * Math.log(3) + (eps / 3) * 3 * Math.log(3); // uniform row: every −log p is log 3
  await expectClose(L.crossEntropy(logits(), labels([2, 0]), { labelSmoothing: eps, reduction: 'none' }), [sm0, sm1], { atol: 1e-12 });
  const oneHot = f64([[0, 0, 1], [1, 0, 0]]);
  await expectClose(L.crossEntropy(logits(), oneHot, { labelSmoothing: eps, reduction: 'none' }), [sm0, sm1], { atol: 1e-12 });
  // Smoothing with class weights matches the oracle (PyTorch's weighted formula).
  const x = [[0.2, -1, 2, 0.5], [1, 0, -0.3, 0.1], [-2, 0.4, 0.4, 1.5]];
  const w = [0.5, 2, 1, 3];
  const got = L.crossEntropy(f64(x), labels([3, 0, 1]), { weight: w, labelSmoothing: 0.2 });
  await expectClose(got, [refCrossEntropy(x, [3, 0, 1], w, 0.2, -100)], { atol: 1e-12 });
});

test('crossEntropy with soft targets and with extra axes [N, C, d]', async () => {
  const soft = f64([[0.2, 0.3, 0.5], [0.6, 0.4, 0]]);
  const expect0 = 0.2 * (lse0 - 1) + 0.3 * (lse0 - 2) + 0.5 * (lse0 - 3);
  const expect1 = Math.log(3);
  await expectClose(L.crossEntropy(logits(), soft), [(expect0 + expect1) / 2], { atol: 1e-12 });
  // [N=1, C=3, d=2]: position 0 is row [1,2,3], position 1 is row [1,1,1].
  const x3 = f64([[[1, 1], [2, 1], [3, 1]]]);
  await expectClose(L.crossEntropy(x3, g.tensor([[2, 0]], { dtype: 'int32' }), { reduction: 'none' }), [lse0 - 3, Math.log(3)], { atol: 1e-12 });
  assert.deepEqual(L.crossEntropy(x3, g.tensor([[2, 0]], { dtype: 'int32' }), { reduction: 'none' }).shape, [1, 2]);
});

test('crossEntropy and nll gradients match finite differences (float64)', async () => {
  const x = g.randn([4, 5], { dtype: FLOAT, seed: 3 });
  const t = labels([1, 4, -100, 0]);
  // The labels are passed as an (int, unchecked) input so that f can run again on the reference backend.
  await expectGrad((a, tt) => L.crossEntropy(a, tt, { weight: [1, 2, 0.5, 1, 3], labelSmoothing: 0.15 }), [x, t]);
  await expectGrad((a) => L.crossEntropy(a, g.softmax(g.randn([4, 5], { dtype: FLOAT, seed: 4 }), -1)), [x]);
  await expectGrad((a) => L.crossEntropy(a.reshape([2, 5, 2]), g.tensor([[0, 3], [4, 4]], { dtype: 'int32' })), [x]);
  await expectGrad((a, tt) => L.nll(g.logSoftmax(a, -1), tt, { reduction: 'sum' }), [x, t]);
  // nll on log-softmax equals crossEntropy.
  await expectClose(L.nll(g.logSoftmax(x, -1), t), await values(L.crossEntropy(x, t)), { atol: 1e-12 });
});

test('crossEntropy/nll reject bad targets with messages naming the problem', async () => {
  await expectThrowsMsg(() => L.crossEntropy(logits(), labels([3, 0])), /crossEntropy/, /target 3 at position 0 is not a class index in \[0, 3\)/);
  assertThrowsMsg(() => L.crossEntropy(logits(), labels([1, 0, 2])), /shape \[2\].*got \[3\]/);
  assertThrowsMsg(() => L.crossEntropy(logits(), f64([[1, 0, 0]])), /input's shape \[2, 3\], got \[1, 3\]/);
  assertThrowsMsg(() => L.crossEntropy(logits(), labels([1, 0]), { weight: [1, 2] }), /weight must hold one value per class \(3\)/);
  assertThrowsMsg(() => L.crossEntropy(logits(), labels([1, 0]), { labelSmoothing: 1.5 }), /labelSmoothing must be in \[0, 1\], got 1.5/);
  assertThrowsMsg(() => L.crossEntropy(f64([1, 2, 3]), labels([1])), /\[N, C\]/, /got \[3\]/);
  assertThrowsMsg(() => L.crossEntropy(logits(), labels([1, 0]), { reduction: 'avg' as any }), /reduction must be one of/);
  assertThrowsMsg(() => L.nll(logits(), f64([1, 0])), /nll/, /int32/);
});

test('binary cross-entropy: probabilities and logits by value, posWeight, stability, gradients', async () => {
  const p = f64([0.8, 0.3]);
  const t = f64([1, 0]);
  await expectClose(L.binaryCrossEntropy(p, t), [(-Math.log(0.8) - Math.log(0.7)) / 2], { atol: 1e-12 });
  await expectClose(L.binaryCrossEntropy(f64([0, 1]), f64([1, 0]), { reduction: 'none' }), [100, 100], { atol: 1e-9 }); // logs floored at −100
  // At the floor the gradient is finite (log 0 is never taken), on a GPU too (which flushes denormals).
  const edge = g.tensor([0, 1], { dtype: FLOAT, requiresGrad: true });
  L.binaryCrossEntropy(edge, f64([1, 0]), { reduction: 'sum' }).backward();
  assert.ok((await values(edge.grad!)).every(Number.isFinite), 'finite gradient at p = 0 and p = 1');
  const x = f64([2, -1]);
  const bce = [Math.log(1 + Math.exp(-2)), Math.log(1 + Math.exp(-1))]; // −log σ(2), −log(1 − σ(−1))
  await expectClose(L.binaryCrossEntropyWithLogits(x, t, { reduction: 'none' }), bce, { atol: 1e-12 });
  await expectClose(L.binaryCrossEntropyWithLogits(x, t, { posWeight: 3, reduction: 'none' }), [3 * bce[0], bce[1]], { atol: 1e-12 });
  await expectClose(L.binaryCrossEntropyWithLogits(x, t, { weight: f64([2, 0.5]), reduction: 'sum' }), [2 * bce[0] + 0.5 * bce[1]], { atol: 1e-12 });
  // Large logits stay finite: the loss of a confident mistake is |x|.
  await expectClose(L.binaryCrossEntropyWithLogits(g.tensor([100, -100]), g.tensor([0, 1]), { reduction: 'none' }), [100, 100], { rtol: 1e-6 });
  // Both forms agree through the sigmoid.
  const z = g.randn([3, 2], { dtype: FLOAT, seed: 5 });
  // The targets are made inside f (same seed, same values) so that f can run again on the reference backend.
  const targets = () => g.rand([3, 2], { dtype: FLOAT, seed: 6 });
  const tz = targets();
  await expectClose(L.binaryCrossEntropy(g.sigmoid(z), tz), await values(L.binaryCrossEntropyWithLogits(z, tz)), { atol: 1e-12 });
  await expectGrad((a) => L.binaryCrossEntropyWithLogits(a, targets(), { posWeight: f64([0.5, 2]) }), [z]);
  await expectGrad((a) => L.binaryCrossEntropy(g.sigmoid(a), targets()), [z]);
  await expectThrowsMsg(() => L.binaryCrossEntropy(f64([1.5]), f64([1])), /element 0 is 1.5/);
  assertThrowsMsg(() => L.binaryCrossEntropyWithLogits(z, tz, { posWeight: f64([1, 2, 3]) }), /posWeight must be a number or a \[2\] tensor/);
});

test('mixup targets: crossEntropy of λ·onehot(a) + (1 − λ)·onehot(b) is λ·CE(a) + (1 − λ)·CE(b); float32 agrees with float64', async () => {
  const x = g.randn([4, 5], { dtype: FLOAT, seed: 21 });
  const [la, lb] = [[0, 3, 2, 4], [1, 3, 0, 2]];
  const a = labels(la);
  const b = labels(lb);
  const lam = 0.7;
  const mixed = g.oneHot(a, 5).mul(lam).add(g.oneHot(b, 5).mul(1 - lam)).cast(FLOAT);
  const expected = lam * (await scalar(L.crossEntropy(x, a))) + (1 - lam) * (await scalar(L.crossEntropy(x, b)));
  await expectClose(L.crossEntropy(x, mixed), [expected], { atol: 1e-12 });
  // On webgpu x is float32 already: there the comparison is float32 with float32.
  const x32 = x.cast('float32');
  const got32 = L.crossEntropy(x32, a, { labelSmoothing: 0.1, weight: [1, 2, 1, 0.5, 1] });
  assert.equal(got32.dtype, 'float32');
  await expectClose(got32, await values(L.crossEntropy(x, a, { labelSmoothing: 0.1, weight: [1, 2, 1, 0.5, 1] })), { atol: 1e-6, rtol: 1e-6 });
});
