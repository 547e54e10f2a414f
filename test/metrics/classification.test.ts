import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { accuracy, confusionMatrix, expectedCalibrationError, precisionRecallF1, topK } from '../../src/metrics/index.js';
import { assertThrowsMsg } from '../helpers.js';

const scores = [
  [0.1, 0.7, 0.2], // pred 1
  [0.8, 0.1, 0.1], // pred 0
  [0.2, 0.3, 0.5], // pred 2
  [0.5, 0.4, 0.1], // pred 0
  [0.3, 0.6, 0.1], // pred 1
];
const target = [1, 0, 1, 1, 2];

test('accuracy: from scores (argmax) and from labels, Tensor or array', () => {
  assert.equal(accuracy(scores, target), 2 / 5);
  assert.equal(accuracy([1, 0, 2, 0, 1], target), 2 / 5);
  assert.equal(accuracy(g.tensor(scores), g.tensor(target, { dtype: 'int32' })), 2 / 5);
  assertThrowsMsg(() => accuracy(scores, [1, 0]), /accuracy/, /5 rows but there are 2 targets/);
});

test('topK: target among the k highest scores', () => {
  // Sample ranks of the target: 1st, 1st, 2nd (0.3 < 0.5), 2nd, 2nd-or-3rd → 0.1 is last.
  assert.equal(topK(scores, target, 1), 2 / 5);
  assert.equal(topK(scores, target, 2), 4 / 5);
  assert.equal(topK(scores, target, 3), 1);
  assertThrowsMsg(() => topK(scores, target, 4), /topK/, /k must be an integer in 1\.\.3/);
  assertThrowsMsg(() => topK(scores, [1, 0, 1, 1, 3], 1), /target\[4\] = 3/);
});

test('confusionMatrix: rows truth, columns prediction', () => {
  assert.deepEqual(confusionMatrix(scores, target), [
    [1, 0, 0],
    [1, 1, 1],
    [0, 1, 0],
  ]);
  assert.deepEqual(confusionMatrix([0, 0], [0, 0], 3), [[2, 0, 0], [0, 0, 0], [0, 0, 0]]);
  assertThrowsMsg(() => confusionMatrix([0, 3], [0, 0], 3), /class 3 is outside 0\.\.2/);
});

test('precisionRecallF1: per class, macro and weighted by hand', () => {
  const r = precisionRecallF1(scores, target);
  // class 0: predicted twice (1 right) → P 1/2; actual 1 → R 1; F1 = 2/3.
  // class 1: predicted twice (1 right) → P 1/2; actual 3 → R 1/3; F1 = 2·(1/6)/(5/6) = 0.4.
  // class 2: predicted once, wrong → P 0; actual 1 → R 0; F1 0.
  const close = (a: number[], e: number[]): void => a.forEach((v, i) => assert.ok(Math.abs(v - e[i]) < 1e-12, `${a} vs ${e}`));
  close(r.precision, [0.5, 0.5, 0]);
  close(r.recall, [1, 1 / 3, 0]);
  close(r.f1, [2 / 3, 0.4, 0]);
  assert.deepEqual(r.support, [1, 3, 1]);
  close([r.macro.precision, r.macro.recall, r.macro.f1], [1 / 3, 4 / 9, (2 / 3 + 0.4) / 3]);
  close([r.weighted.precision, r.weighted.recall, r.weighted.f1], [(0.5 + 1.5) / 5, (1 + 1) / 5, (2 / 3 + 1.2) / 5]);
  assert.equal(r.accuracy, 2 / 5);
});

test('expectedCalibrationError: hand-computed bins', () => {
  const probs = [
    [0.9, 0.1], // conf 0.9, correct
    [0.8, 0.2], // conf 0.8, wrong
    [0.3, 0.7], // conf 0.7, correct
    [0.45, 0.55], // conf 0.55, wrong
  ];
  const t = [0, 1, 1, 0];
  const r = expectedCalibrationError(probs, t, { bins: 2 });
  // Bin (0, 0.5] is empty; bin (0.5, 1] holds all 4: accuracy 0.5, confidence 0.7375.
  assert.equal(r.bins[0].count, 0);
  assert.equal(r.bins[1].count, 4);
  assert.ok(Math.abs(r.ece - 0.2375) < 1e-12, String(r.ece));
  const r5 = expectedCalibrationError(probs, t, { bins: 5 });
  // (0.4,0.6]: 0.55 wrong → |0−0.55|; (0.6,0.8]: 0.7 right, 0.8 wrong → |0.5−0.75|; (0.8,1]: 0.9 right → |1−0.9|.
  assert.ok(Math.abs(r5.ece - (0.55 + 2 * 0.25 + 0.1) / 4) < 1e-12, String(r5.ece));
  // A perfectly calibrated confident model: all correct at confidence 1.
  assert.equal(expectedCalibrationError([[1, 0], [0, 1]], [0, 1]).ece, 0);
  assertThrowsMsg(() => expectedCalibrationError([[2, -1]], [0]), /not a probability/);
  assertThrowsMsg(() => expectedCalibrationError([[0.2, 0.2]], [0]), /sums to 0\.4/);
});
