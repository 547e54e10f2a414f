import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nn, Random, Tensor, tensor, losses, noGrad, randn } from '../../src/index.js';
import { linearProbe, extractFeatures, cutAt, freeze } from '../../src/transfer/index.js';
import { assertThrowsMsg } from '../helpers.js';

/** Three Gaussian blobs in 4-D, linearly separable. */
function blobs(n: number, seed: number): { x: Tensor; y: Tensor } {
  const rng = new Random(seed);
  const centers = [[3, 0, 0, 1], [0, 3, 0, -1], [0, 0, 3, 0]];
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let d = 0; d < 4; d++) x[i * 4 + d] = centers[y[i]][d] + 0.5 * rng.normal();
  }
  return { x: Tensor.fromArray(x, [n, 4]), y: Tensor.fromArray(y, [n]) };
}

test('linearProbe: fits separable features, loss falls, deterministic per seed', () => {
  const train = blobs(90, 1);
  const test_ = blobs(60, 2);
  const probe = linearProbe(train.x, train.y, { epochs: 60, lr: 0.05, batchSize: 32, seed: 3 });
  assert.equal(probe.losses.length, 60);
  assert.ok(probe.losses[59] < probe.losses[0] / 4, `loss fell: ${probe.losses[0]} → ${probe.losses[59]}`);
  assert.ok(probe.accuracy(test_.x, test_.y) >= 0.95, `held-out accuracy ${probe.accuracy(test_.x, test_.y)}`);
  // predict is the argmax of the classifier's logits, computed here independently from its weights.
  const w = probe.classifier.weight.dataSync();
  const b = probe.classifier.bias!.dataSync();
  const xs = test_.x.dataSync();
  const pred = probe.predict(test_.x).dataSync();
  for (let i = 0; i < 60; i++) {
    let best = -1;
    let bestV = -Infinity;
    for (let c = 0; c < 3; c++) {
      let v = b[c];
      for (let d = 0; d < 4; d++) v += w[c * 4 + d] * xs[i * 4 + d];
      if (v > bestV) [best, bestV] = [c, v];
    }
    assert.equal(pred[i], best, `row ${i}`);
  }
  // The reported final loss is the classifier's actual cross-entropy (full batch here).
  const again = linearProbe(train.x, train.y, { epochs: 60, lr: 0.05, batchSize: 32, seed: 3 });
  assert.deepEqual([...again.classifier.weight.dataSync()], [...w], 'same seed, same probe');
  const full = linearProbe(train.x, train.y, { epochs: 5, lr: 0.05, seed: 1 });
  assert.equal(full.classifier.weight.requiresGrad, true);
  const ce = noGrad(() => losses.crossEntropy(full.classifier.call(train.x), train.y).item());
  assert.ok(ce < full.losses[0], 'training lowered the loss below the first epoch');
});

test('linearProbe on frozen CNN features end to end', () => {
  const rng = new Random(4);
  // Class 0: bright top half; class 1: bright bottom half.
  const n = 40;
  const x = new Float32Array(n * 36);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let p = 0; p < 36; p++) x[i * 36 + p] = 0.3 * rng.normal() + ((p < 18) === (y[i] === 0) ? 1 : 0);
  }
  const images = Tensor.fromArray(x, [n, 1, 6, 6]);
  const cnn = new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1, rng: new Random(5) }), new nn.ReLU(), new nn.MaxPool2d(3), new nn.Flatten(), new nn.Linear(16, 2));
  freeze(cnn);
  const feats = extractFeatures(cutAt(cnn, '3'), images, { flatten: true });
  assert.deepEqual(feats.shape, [n, 16]);
  const probe = linearProbe(feats, Tensor.fromArray(y, [n]), { epochs: 100, lr: 0.05 });
  assert.ok(probe.accuracy(feats, Tensor.fromArray(y, [n])) >= 0.9);
});

test('linearProbe: bad input is a clear error', () => {
  const x = randn([4, 3]);
  assertThrowsMsg(() => linearProbe(randn([4, 3, 2]), tensor([0, 1, 0, 1], { dtype: 'int32' })), /linearProbe/, /\[N, D\]/, /\[4, 3, 2\]/);
  assertThrowsMsg(() => linearProbe(x, tensor([0, 1, 0])), /labels must be int32 \[4\]/);
  assertThrowsMsg(() => linearProbe(x, tensor([0, 1, 0, -1], { dtype: 'int32' })), /label -1 at row 3/);
  assertThrowsMsg(() => linearProbe(x, tensor([0, 1, 0, 5], { dtype: 'int32' }), { numClasses: 3 }), /label 5 is out of range for numClasses 3/);
  assertThrowsMsg(() => linearProbe(x, tensor([0, 1, 0, 1], { dtype: 'int32' }), { epochs: 0 }), /epochs must be a positive integer/);
  const p = linearProbe(x, tensor([0, 1, 0, 1], { dtype: 'int32' }), { epochs: 1 });
  assertThrowsMsg(() => p.predict(randn([2, 5])), /expected features \[N, 3\]/);
});
