/** Per-batch classification counts computed on the device (metrics/device.ts) and the checkLabels kernel behind them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';

const { metrics } = g;
const int = (v: number[]): g.Tensor => g.tensor(v, { dtype: 'int32' });

test('correctCounts: top-k counts with ties broken by class index; NaN/Inf rows and bad labels count as wrong', () => {
  const scores = g.tensor([
    [0.1, 0.7, 0.2], // label 1: rank 0
    [0.5, 0.5, 0.0], // label 1: tie with class 0 at a lower index → rank 1
    [0.3, 0.2, 0.1], // label 2: rank 2
    [NaN, 1, 0], // non-finite row: never correct
    [Infinity, 0, 0], // non-finite row
    [0.2, 0.3, 0.1], // label 5 is out of range: never correct
  ]);
  const labels = int([1, 1, 2, 1, 0, 5]);
  assert.deepEqual(Array.from(metrics.targetRanks(scores, labels).dataSync()), [0, 1, 2, 3, 3, 3]);
  assert.deepEqual(Array.from(metrics.correctCounts(scores, labels, [1, 2, 3]).dataSync()), [1, 2, 3]);
  // Soft targets: their argmax is the label.
  const soft = g.tensor([[0, 1, 0], [0.2, 0.8, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 1]]);
  assert.deepEqual(Array.from(metrics.correctCounts(scores, soft, [1, 3]).dataSync()), [1, 4]);
  // k = 1 agrees with accuracy (argmax, first on ties).
  assert.equal(metrics.correctCounts(scores, int([1, 0, 0, 1, 0, 1]), [1]).dataSync()[0] / 6, metrics.accuracy(scores, int([1, 0, 0, 1, 0, 1])));
});

test('labelCheck: counts labels that are not ignoreIndex and finds the first invalid one', () => {
  assert.deepEqual(Array.from(metrics.labelCheck(int([0, 2, -100, 1]), 3, -100).dataSync()), [3, -1]);
  assert.deepEqual(Array.from(metrics.labelCheck(int([0, 3, -1]), 3).dataSync()), [3, 1]);
  assert.deepEqual(Array.from(metrics.labelCheck(g.tensor([0, 1.5, 2]), Infinity).dataSync()), [3, 1]);
  assert.deepEqual(Array.from(metrics.labelCheck(int([]), 3).dataSync()), [0, -1]);
});

test('correctCounts errors name the problem', () => {
  assert.throws(() => metrics.correctCounts(g.zeros([2, 3]), int([0, 1]), [4]), /k must be an integer in 1\.\.3/);
  assert.throws(() => metrics.correctCounts(g.zeros([2, 3]), int([0, 1, 2])), /target must be int32 labels \[2\] or soft targets \[2, 3\]/);
});
