import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random, tensor, type Tensor } from '../../src/index.js';
import { MeanSubtraction, PCA, preprocessorFromJSON, Standardize, symmetricEigen, Whitening } from '../../src/data/index.js';
import { assertClose, assertThrowsMsg } from '../helpers.js';

function gaussian(n: number, d: number, seed: number, mean = 0, std = 1): Tensor {
  const rng = new Random(seed);
  return tensor(Float64Array.from({ length: n * d }, () => rng.normal(mean, std)), { shape: [n, d] });
}

/** Column means and (population) variances of an [N, D] tensor — the slow, obvious way. */
function columnStats(t: Tensor): { mean: number[]; variance: number[] } {
  const rows = t.toArray() as number[][];
  const d = rows[0].length;
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / rows.length);
  const variance = Array.from({ length: d }, (_, j) => rows.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / rows.length);
  return { mean, variance };
}

/** Sample covariance (N − 1) of an [N, D] tensor. */
function covariance(t: Tensor): number[][] {
  const rows = t.toArray() as number[][];
  const { mean } = columnStats(t);
  const d = mean.length;
  return Array.from({ length: d }, (_, a) => Array.from({ length: d }, (_, b) => rows.reduce((s, r) => s + (r[a] - mean[a]) * (r[b] - mean[b]), 0) / (rows.length - 1)));
}

test('Jacobi eigen: hand-checkable matrices', () => {
  const e = symmetricEigen([2, 1, 1, 2], 2);
  assertClose(e.values, [3, 1], { atol: 1e-14 });
  const s = Math.SQRT1_2;
  assertClose(e.vectors, [s, s, s, -s], { atol: 1e-14 });
  // Tridiagonal [2 −1 0; −1 2 −1; 0 −1 2]: eigenvalues 2+√2, 2, 2−√2 with vectors (1, ∓√2, 1)/2, (1, 0, −1)/√2.
  const t = symmetricEigen([2, -1, 0, -1, 2, -1, 0, -1, 2], 3);
  assertClose(t.values, [2 + Math.SQRT2, 2, 2 - Math.SQRT2], { atol: 1e-13 });
  const col = (j: number): number[] => [0, 1, 2].map((i) => t.vectors[i * 3 + j]);
  assertClose(col(0), [-0.5, s, -0.5], { atol: 1e-13 });
  assertClose(col(1), [s, 0, -s], { atol: 1e-13 });
  assertClose(col(2), [0.5, s, 0.5], { atol: 1e-13 });
  assertThrowsMsg(() => symmetricEigen([1, 2, 3, 4], 2), /not symmetric: entry \(0, 1\) = 2 but \(1, 0\) = 3/);
  assertThrowsMsg(() => symmetricEigen([1, 2, 3], 2), /n×n matrix with n=2/);
});

test('Jacobi eigen: V·diag(λ)·Vᵀ reconstructs a random symmetric matrix and V is orthogonal', () => {
  const n = 9;
  const rng = new Random(4);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  const { values, vectors: v } = symmetricEigen(a, n);
  for (let i = 1; i < n; i++) assert.ok(values[i - 1] >= values[i], 'sorted largest first');
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let rec = 0, orth = 0;
    for (let k = 0; k < n; k++) {
      rec += v[i * n + k] * values[k] * v[j * n + k];
      orth += v[k * n + i] * v[k * n + j];
    }
    assert.ok(Math.abs(rec - a[i * n + j]) < 1e-12, `A(${i}, ${j})`);
    assert.ok(Math.abs(orth - (i === j ? 1 : 0)) < 1e-12, `VᵀV(${i}, ${j})`);
  }
  let trace = 0;
  for (let i = 0; i < n; i++) trace += a[i * n + i];
  assert.ok(Math.abs(values.reduce((x, y) => x + y, 0) - trace) < 1e-12);
});

test('mean subtraction per feature, per channel and per image', () => {
  const x = tensor([[1, 10], [3, 30]]);
  const m = new MeanSubtraction().fit(x);
  assertClose(m.mean, [2, 20]);
  assertClose(m.transform(tensor([[0, 0]])), [-2, -20]);
  // NCHW [2, 2, 1, 2]: channel 0 values 1,2,5,6 (mean 3.5); channel 1 values 10,20,50,60 (mean 35).
  const img = tensor([[[[1, 2]], [[10, 20]]], [[[5, 6]], [[50, 60]]]]);
  const c = new MeanSubtraction({ per: 'channel' }).fit(img);
  assertClose(c.mean, [3.5, 35]);
  assertClose(c.transform(img), [-2.5, -1.5, -25, -15, 1.5, 2.5, 15, 25]);
  const p = new MeanSubtraction({ per: 'image' }).fit(img);
  assertClose(p.transform(img), [1 - 8.25, 2 - 8.25, 10 - 8.25, 20 - 8.25, 5 - 30.25, 6 - 30.25, 50 - 30.25, 60 - 30.25]);
  assertThrowsMsg(() => new MeanSubtraction({ per: 'pixel' as never }), /per must be 'feature', 'channel' or 'image'/);
});

test('standardization: unit variance on the training data; constant features only centred', () => {
  const x = tensor([[1, 5, 0], [2, 5, 4], [3, 5, 8], [6, 5, 0]], { dtype: 'float64' });
  const s = new Standardize({ eps: 1e-12 }).fit(x);
  const out = s.transform(x);
  assert.equal(out.dtype, 'float64');
  const { mean, variance } = columnStats(out);
  assertClose(mean, [0, 0, 0], { atol: 1e-12 });
  assertClose(variance, [1, 0, 1], { atol: 1e-9 });
  assertClose(s.scale.subarray(1, 2), [1]);
  const ch = new Standardize({ per: 'channel' }).fit(tensor([[[[1, 3]], [[10, 30]]]]));
  assertClose(ch.mean, [2, 20]);
  assertClose(ch.scale, [Math.sqrt(1 + 1e-5), Math.sqrt(100 + 1e-5)]);
});

test('statistics come from the training split only: a shifted test set is not zero-mean', () => {
  const train = gaussian(500, 3, 1);
  const test_ = gaussian(300, 3, 2, 3, 2); // mean 3, std 2
  for (const p of [new MeanSubtraction(), new Standardize(), new Whitening({ method: 'zca' })]) {
    p.fit(train);
    const tr = columnStats(p.transform(train));
    const te = columnStats(p.transform(test_));
    for (let j = 0; j < 3; j++) {
      assert.ok(Math.abs(tr.mean[j]) < 1e-9, `${p.type}: train is centred`);
      assert.ok(te.mean[j] > 2, `${p.type}: test mean ${te.mean[j]} keeps its shift (test statistics were not used)`);
    }
  }
  // Exactly the training statistics are applied: compare with a hand computation.
  const s = new Standardize().fit(train);
  const { mean, variance } = columnStats(train);
  const row = (test_.toArray() as number[][])[0];
  assertClose((s.transform(test_).toArray() as number[][])[0], row.map((v, j) => (v - mean[j]) / Math.sqrt(variance[j] + 1e-5)), { atol: 1e-12 });
});

test('PCA: explained variance, projection and reconstruction', () => {
  // Points near the line t·(1, 2, 2)/3 plus small noise.
  const rng = new Random(3);
  const n = 400;
  const data: number[][] = [];
  for (let i = 0; i < n; i++) {
    const t = rng.normal(0, 5);
    data.push([t / 3 + 0.1 * rng.normal() + 1, (2 * t) / 3 + 0.1 * rng.normal() - 2, (2 * t) / 3 + 0.1 * rng.normal()]);
  }
  const x = tensor(data, { dtype: 'float64' });
  const full = new PCA().fit(x);
  const comps = full.componentMatrix;
  assertClose([...comps.subarray(0, 3)].map(Math.abs), [1 / 3, 2 / 3, 2 / 3], { atol: 0.01 });
  // Explained variances are the sample covariance's eigenvalues: they add up to its trace,
  // and each equals the variance of the projected data along that component.
  const cov = covariance(x);
  const ev = full.explainedVariance;
  assert.ok(Math.abs(ev.reduce((a, b) => a + b, 0) - (cov[0][0] + cov[1][1] + cov[2][2])) < 1e-9);
  const z = full.transform(x);
  assertClose(covariance(z).map((r, i) => r[i]), ev, { rtol: 1e-9, atol: 1e-12 });
  assertClose(covariance(z)[0].slice(1), [0, 0], { atol: 1e-9 });
  // All components: exact reconstruction.
  assertClose(full.inverseTransform(z), data.flat(), { atol: 1e-9 });
  // Keeping k: mean squared reconstruction error = sum of the dropped eigenvalues · (N−1)/N.
  const one = new PCA({ components: 1 }).fit(x);
  const rec = one.inverseTransform(one.transform(x)).dataSync();
  let se = 0;
  data.flat().forEach((v, i) => (se += (v - rec[i]) ** 2));
  assert.ok(Math.abs(se / n - ((ev[1] + ev[2]) * (n - 1)) / n) < 1e-9);
  // varianceKept picks the fewest components reaching the fraction.
  assert.equal(new PCA({ varianceKept: 0.99 }).fit(x).k, 1);
  assert.equal(new PCA({ varianceKept: 1 }).fit(x).k, 3);
  assert.ok(one.explainedVarianceRatio[0] > 0.99);
});

test('whitening: identity covariance on the training data (PCA and ZCA)', () => {
  const rng = new Random(8);
  const rows: number[][] = [];
  for (let i = 0; i < 300; i++) {
    const a = rng.normal(), b = rng.normal(), c = rng.normal();
    rows.push([3 * a + 1, a + 0.5 * b, 0.2 * c - b]);
  }
  const x = tensor(rows, { dtype: 'float64' });
  const pcaW = new Whitening({ method: 'pca', eps: 0 }).fit(x);
  const zp = pcaW.transform(x);
  assert.deepEqual(zp.shape, [300, 3]);
  covariance(zp).forEach((r, i) => assertClose(r, [0, 1, 2].map((j) => (i === j ? 1 : 0)), { atol: 1e-9 }));
  const zca = new Whitening({ method: 'zca', eps: 0 }).fit(x);
  const zz = zca.transform(x);
  covariance(zz).forEach((r, i) => assertClose(r, [0, 1, 2].map((j) => (i === j ? 1 : 0)), { atol: 1e-9 }));
  // ZCA = PCA whitening rotated back: zz = zp·Vᵀ, so both have the same row norms.
  const norms = (t: Tensor): number[] => (t.toArray() as number[][]).map((r) => Math.hypot(...r));
  assertClose(norms(zz), norms(zp), { atol: 1e-9 });
  // With eps the variances shrink to λ/(λ+eps).
  const eps = 0.5;
  const shrunk = covariance(new Whitening({ method: 'pca', eps }).fit(x).transform(x));
  const lam = new PCA().fit(x).explainedVariance;
  assertClose(shrunk.map((r, i) => r[i]), [...lam].map((l) => l / (l + eps)), { atol: 1e-9 });
  // Image-shaped input keeps its shape under ZCA.
  const imgs = tensor(Float32Array.from({ length: 50 * 4 }, () => rng.normal()), { shape: [50, 1, 2, 2] });
  assert.deepEqual(new Whitening().fitTransform(imgs).shape, [50, 1, 2, 2]);
  assertThrowsMsg(() => new Whitening({ method: 'zca', components: 2 }), /ZCA whitening keeps every component/);
});

test('transform before fit and shape mismatches are clear errors', () => {
  for (const p of [new MeanSubtraction(), new Standardize(), new PCA(), new Whitening()]) {
    assertThrowsMsg(() => p.transform(tensor([[1, 2]])), new RegExp(`${p.type}.transform: not fitted yet: call fit\\(x\\)`));
    p.fit(gaussian(10, 3, 1));
    assertThrowsMsg(() => p.transform(tensor([[1, 2]])), new RegExp(`${p.type}.transform`), /input shape \[1, 2\] does not match the fitted data: expected \[N, 3\]/);
  }
  assertThrowsMsg(() => new PCA({ components: 5 }).fit(gaussian(10, 3, 1)), /components must be an integer in 1..3/);
  assertThrowsMsg(() => new PCA({ components: 1, varianceKept: 0.5 }), /either components or varianceKept/);
  assertThrowsMsg(() => new PCA().fit(gaussian(1, 3, 1)), /at least 2 samples/);
  assertThrowsMsg(() => new Standardize().fit(tensor([1, 2], { dtype: 'int32' })), /expected a float tensor, got int32/);
});

test('toJSON / fromJSON round-trips every preprocessor (through a JSON string)', () => {
  const train = gaussian(40, 4, 5, 2, 3);
  const probe = gaussian(5, 4, 6);
  const fitted = [
    new MeanSubtraction({ per: 'feature' }).fit(train),
    new Standardize({ eps: 1e-3 }).fit(train),
    new PCA({ components: 2 }).fit(train),
    new Whitening({ method: 'pca', varianceKept: 0.9 }).fit(train),
    new Whitening({ method: 'zca', eps: 0.1 }).fit(train),
  ];
  for (const p of fitted) {
    const restored = preprocessorFromJSON(JSON.parse(JSON.stringify(p)));
    assert.equal(restored.type, p.type);
    assert.deepEqual([...restored.transform(probe).dataSync()], [...p.transform(probe).dataSync()], p.type);
  }
  const unfitted = preprocessorFromJSON(JSON.parse(JSON.stringify(new Standardize())));
  assert.equal(unfitted.fitted, false);
  assertThrowsMsg(() => preprocessorFromJSON({ type: 'Nope', version: 1, options: {}, state: null }), /unknown preprocessor type "Nope"/);
  const bad = JSON.parse(JSON.stringify(fitted[1]));
  bad.state.mean = [1, 2];
  assertThrowsMsg(() => preprocessorFromJSON(bad), /Standardize.fromJSON: state.mean has 2 values, expected 4/);
  assertThrowsMsg(() => PCA.fromJSON(fitted[1].toJSON()), /this JSON is for Standardize, not PCA/);
});
