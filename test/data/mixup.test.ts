import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random, tensor } from '../../src/index.js';
import { cutmix, DataLoader, mixup, mixupTransform, sampleBeta, sampleGamma, TensorDataset } from '../../src/data/index.js';
import { assertClose, assertThrowsMsg } from '../helpers.js';

function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let m = 0, s = 0;
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) m += xs[i] = draw();
  m /= n;
  for (const x of xs) s += (x - m) ** 2;
  return { mean: m, variance: s / (n - 1) };
}

test('Gamma sampler (Marsaglia–Tsang) has mean k and variance k', () => {
  const rng = new Random(1);
  for (const k of [0.3, 1, 2.5, 9]) {
    const { mean, variance } = moments(() => sampleGamma(rng, k), 40000);
    assert.ok(Math.abs(mean - k) < 0.03 * k + 0.01, `Gamma(${k}) mean ${mean}`);
    assert.ok(Math.abs(variance - k) < 0.08 * k + 0.01, `Gamma(${k}) variance ${variance}`);
  }
  assertThrowsMsg(() => sampleGamma(rng, 0), /shape must be a positive finite number, got 0/);
});

test('Beta sampler mean and variance match a/(a+b) and ab/((a+b)²(a+b+1))', () => {
  const rng = new Random(2);
  for (const [a, b] of [[0.2, 0.2], [1, 1], [2, 5]]) {
    const { mean, variance } = moments(() => sampleBeta(rng, a, b), 40000);
    const m = a / (a + b);
    const v = (a * b) / ((a + b) ** 2 * (a + b + 1));
    assert.ok(Math.abs(mean - m) < 0.01, `Beta(${a}, ${b}) mean ${mean} vs ${m}`);
    assert.ok(Math.abs(variance - v) < 0.06 * v, `Beta(${a}, ${b}) variance ${variance} vs ${v}`);
  }
  assertThrowsMsg(() => sampleBeta(rng, 1, -1), /must be positive/);
});

test('mixup: x̃ = λx + (1−λ)x[perm], targets one-hot mixed and summing to 1', () => {
  const x = tensor([[1, 2], [3, 4], [5, 6], [7, 8]]);
  const y = tensor([0, 1, 2, 1], { dtype: 'int32' });
  const r = mixup(x, y, { alpha: 0.4, numClasses: 3, seed: 3 });
  const { lambda: l, permutation: p } = r;
  assert.ok(l >= 0 && l <= 1);
  assert.deepEqual([...p].sort(), [0, 1, 2, 3]);
  const xv = x.dataSync();
  const want: number[] = [];
  for (let i = 0; i < 4; i++) for (let k = 0; k < 2; k++) want.push(l * xv[i * 2 + k] + (1 - l) * xv[p[i] * 2 + k]);
  assertClose(r.x, want);
  const yv = y.dataSync();
  const wantY: number[] = [];
  for (let i = 0; i < 4; i++) for (let c = 0; c < 3; c++) wantY.push(l * (yv[i] === c ? 1 : 0) + (1 - l) * (yv[p[i]] === c ? 1 : 0));
  assertClose(r.y, wantY);
  const ym = r.y.dataSync();
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(ym[3 * i] + ym[3 * i + 1] + ym[3 * i + 2] - 1) < 1e-6);
  // Soft targets are mixed as given; same seed → same mix.
  const soft = tensor([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0, 1]]);
  const s1 = mixup(x, soft, { seed: 4 });
  const s2 = mixup(x, soft, { seed: 4 });
  assert.deepEqual([...s1.y.dataSync()], [...s2.y.dataSync()]);
  assert.equal(s1.lambda, s2.lambda);
  assertThrowsMsg(() => mixup(x, y, { alpha: 1 }), /numClasses \(a positive integer\) is needed/);
  assertThrowsMsg(() => mixup(x, y, { numClasses: 2 }), /label 2 at index 2 is outside 0..1/);
  assertThrowsMsg(() => mixup(x, tensor([0, 1], { dtype: 'int32' }), { numClasses: 3 }), /disagree on the batch size \(2 vs 4\)/);
  assertThrowsMsg(() => mixup(x, y, { alpha: 0, numClasses: 3 }), /alpha must be a positive number, got 0/);
});

test('cutmix pastes a box from the partner and weights targets by its area', () => {
  const n = 3, h = 8, w = 8;
  const x = tensor(Array.from({ length: n * h * w }, (_, i) => Math.floor(i / (h * w)) + 1), { shape: [n, 1, h, w] });
  const y = tensor([0, 1, 2], { dtype: 'int32' });
  const r = cutmix(x, y, { alpha: 1, numClasses: 3, seed: 11 });
  const [y0, x0, y1, x1] = r.box;
  const area = (y1 - y0) * (x1 - x0);
  assert.ok(Math.abs(r.lambda - (1 - area / (h * w))) < 1e-12);
  const out = r.x.dataSync();
  for (let i = 0; i < n; i++) {
    for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < w; xx++) {
      const inBox = yy >= y0 && yy < y1 && xx >= x0 && xx < x1;
      assert.equal(out[i * 64 + yy * 8 + xx], inBox ? r.permutation[i] + 1 : i + 1);
    }
  }
  const yv = r.y.dataSync();
  for (let i = 0; i < n; i++) {
    const row = [yv[3 * i], yv[3 * i + 1], yv[3 * i + 2]];
    assert.ok(Math.abs(row[0] + row[1] + row[2] - 1) < 1e-6);
    const want = [0, 0, 0];
    want[i] += r.lambda;
    want[r.permutation[i]] += 1 - r.lambda;
    assertClose(row, want);
  }
});

test('mixupTransform plugs into a DataLoader and is skipped in eval mode', () => {
  const ds = new TensorDataset(tensor(new Float32Array(6 * 4).map((_, i) => i), { shape: [6, 1, 2, 2] }), tensor([0, 1, 0, 1, 0, 1], { dtype: 'int32' }));
  const loader = new DataLoader(ds, { batchSize: 3, seed: 1, batchTransform: mixupTransform({ alpha: 1, numClasses: 2 }) });
  for (const [xb, yb] of loader) {
    assert.deepEqual(yb.shape, [3, 2]);
    assert.deepEqual(xb.shape, [3, 1, 2, 2]);
  }
  loader.eval();
  for (const [, yb] of loader) assert.equal(yb.dtype, 'int32');
  const cm = new DataLoader(ds, { batchSize: 3, seed: 1, batchTransform: mixupTransform({ mode: 'cutmix', numClasses: 2 }) });
  assert.deepEqual([...cm][0][1].shape, [3, 2]);
  assertThrowsMsg(() => mixupTransform({ mode: 'blend' as never }), /mode must be 'mixup' or 'cutmix'/);
});
