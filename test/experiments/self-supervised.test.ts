import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GradkitError, Random, Tensor, nn } from '../../src/index.js';
import { loadDigits } from '../../src/digits.js';
import {
  rotationBatch, pretrainRotation, simclrViews, pretrainSimclr, selfSupervisedProbe, digitEncoder, defaultSimclrAugmentation,
} from '../../src/experiments/self-supervised.js';
import { assertThrowsMsg } from '../helpers.js';

/** Slow obvious reference: a counter-clockwise quarter turn of one H×H plane, as nested arrays. */
function rot90Ref(img: number[][]): number[][] {
  const n = img.length;
  // Counter-clockwise: the top row of the result is the right column of the input, read top-down.
  return Array.from({ length: n }, (_, y) => Array.from({ length: n }, (_, x) => img[x][n - 1 - y]));
}

test('rotationBatch: quarter turns match a reference, labels are k for k·90°, four turns give the image back', () => {
  // Two images, two channels, 3×3, all values distinct, so any misplaced pixel shows.
  const n = 2, c = 2, h = 3;
  const data = Float64Array.from({ length: n * c * h * h }, (_, i) => i + 1);
  const x = Tensor.fromArray(data, [n, c, h, h]);
  const { images, labels } = rotationBatch(x);
  assert.deepEqual(images.shape, [4 * n, c, h, h]);
  assert.equal(images.dtype, 'float64');
  assert.deepEqual([...labels.dataSync()], [0, 0, 1, 1, 2, 2, 3, 3]);
  const out = images.dataSync();
  const plane = (buf: ArrayLike<number>, row: number, ch: number): number[][] =>
    Array.from({ length: h }, (_, y) => Array.from({ length: h }, (_, xx) => buf[((row * c + ch) * h + y) * h + xx]));
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      let ref = plane(data, i, ch);
      for (let k = 0; k < 4; k++) {
        assert.deepEqual(plane(out, k * n + i, ch), ref, `image ${i} channel ${ch} at ${90 * k}°`);
        ref = rot90Ref(ref);
      }
      // Four quarter turns are the identity.
      assert.deepEqual(ref, plane(data, i, ch));
    }
  }
  // A known 90° case spelled out: [[1,2],[3,4]] turned counter-clockwise is [[2,4],[1,3]].
  const small = rotationBatch(Tensor.fromArray(new Float32Array([1, 2, 3, 4]), [1, 1, 2, 2]));
  assert.deepEqual([...small.images.dataSync()], [1, 2, 3, 4, 2, 4, 1, 3, 4, 3, 2, 1, 3, 1, 4, 2]);
  // Rotating the 90° copy three more times (via the batch of its own) returns the original.
  const again = rotationBatch(Tensor.fromArray(new Float32Array([2, 4, 1, 3]), [1, 1, 2, 2]));
  assert.deepEqual([...again.images.dataSync()].slice(12), [1, 2, 3, 4]);
});

test('rotationBatch and friends reject bad input with a named error', () => {
  assertThrowsMsg(() => rotationBatch(Tensor.fromArray(new Float32Array(6), [1, 1, 2, 3])), /rotationBatch.*square.*2×3/);
  assertThrowsMsg(() => rotationBatch(Tensor.fromArray(new Float32Array(4), [2, 2])), /rotationBatch.*NCHW.*\[2, ?2\]/);
  const enc = digitEncoder([2, 2, 4], new Random(0));
  const x = Tensor.fromArray(new Float32Array(2 * 28 * 28), [2, 1, 28, 28]);
  assertThrowsMsg(() => pretrainRotation(enc, x, { epochs: 0 }), /pretrainRotation.*epochs.*positive integer.*0/);
  assertThrowsMsg(() => pretrainSimclr(enc, new nn.Identity(), x, { temperature: -1 }), /pretrainSimclr.*temperature.*-1/);
  assert.throws(() => simclrViews(x, defaultSimclrAugmentation(), 3 as unknown as Random), GradkitError);
});

test('simclrViews: two different views of the same images; seeded, so reproducible', () => {
  const x = Tensor.fromArray(Float32Array.from({ length: 3 * 28 * 28 }, (_, i) => (i % 29) / 29), [3, 1, 28, 28]);
  const aug = defaultSimclrAugmentation();
  const [a, b] = simclrViews(x, aug, new Random(5));
  assert.deepEqual(a.shape, x.shape);
  assert.deepEqual(b.shape, x.shape);
  assert.notDeepEqual([...a.dataSync()], [...b.dataSync()]);
  assert.notDeepEqual([...a.dataSync()], [...x.dataSync()]);
  const [a2, b2] = simclrViews(x, aug, new Random(5));
  assert.deepEqual([...a2.dataSync()], [...a.dataSync()]);
  assert.deepEqual([...b2.dataSync()], [...b.dataSync()]);
});

function snapshot(m: nn.Module): Float64Array[] {
  return m.parameters().map((p) => Float64Array.from(p.dataSync() as ArrayLike<number>));
}
function changed(before: Float64Array[], m: nn.Module): number {
  const after = snapshot(m);
  let moved = 0;
  before.forEach((b, i) => { if (b.some((v, j) => v !== after[i][j])) moved++; });
  return moved;
}

test('pretrainSimclr: NT-Xent falls over a few epochs on 200 digits and every encoder weight moves', async () => {
  const { xTrain } = await loadDigits({ trainSize: 200, testSize: 10, seed: 3 });
  const rng = new Random(1);
  const encoder = digitEncoder([4, 8, 16], rng);
  const head = new nn.Sequential(new nn.Linear(16, 16, { rng }), new nn.ReLU(), new nn.Linear(16, 8, { rng }));
  const before = snapshot(encoder);
  const { losses } = pretrainSimclr(encoder, head, xTrain, { epochs: 4, batchSize: 50, lr: 3e-3, temperature: 0.5, seed: 2 });
  assert.equal(losses.length, 4);
  assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
  // Chance level for 2N = 100 rows is log(99) ≈ 4.6; learning pushes the loss below the first epoch's.
  assert.ok(losses[3] < losses[0] - 0.05, `NT-Xent did not fall: ${losses}`);
  assert.equal(changed(before, encoder), before.length, 'every encoder parameter should have been updated');
  assert.equal(encoder.training, false);
});

test('pretrainRotation: loss falls, the pretext is learned above chance and the encoder changes', async () => {
  const { xTrain } = await loadDigits({ trainSize: 200, testSize: 10, seed: 4 });
  const encoder = digitEncoder([4, 8, 16], new Random(2));
  const before = snapshot(encoder);
  const r = pretrainRotation(encoder, xTrain, { epochs: 3, batchSize: 32, lr: 3e-3, seed: 1 });
  assert.deepEqual(r.head.weight.shape, [4, 16]);
  assert.equal(r.losses.length, 3);
  assert.ok(r.losses[2] < r.losses[0], `rotation loss did not fall: ${r.losses}`);
  // Upright vs turned digits are easy to tell apart; chance is 0.25.
  assert.ok(r.accuracy > 0.5, `rotation accuracy ${r.accuracy}`);
  assert.equal(changed(before, encoder), before.length);
});

test('selfSupervisedProbe: runs all three arms and returns accuracies in [0, 1]', async () => {
  const r = await selfSupervisedProbe({
    unlabelledSize: 200, shotsPerClass: 3, testSize: 200, width: [4, 8, 16], pretrainEpochs: 1, probeEpochs: 30, batchSize: 50, seed: 0,
  });
  for (const acc of [r.random, r.rotation, r.simclr]) assert.ok(acc >= 0 && acc <= 1 && Number.isFinite(acc), `accuracy ${acc}`);
  // A probe on 30 labelled digits beats 10-class chance even on a random encoder's features.
  assert.ok(r.random > 0.15, `random-encoder probe ${r.random}`);
  assert.equal(r.rotationLosses.length, 1);
  assert.equal(r.simclrLosses.length, 1);
  assert.equal(r.shotsPerClass, 3);
  assert.equal(r.testSize, 200);
  await assert.rejects(selfSupervisedProbe({ shotsPerClass: 0 }), (e: Error) => e instanceof GradkitError && /selfSupervisedProbe.*shotsPerClass.*0/.test(e.message));
});
