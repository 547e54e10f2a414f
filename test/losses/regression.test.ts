import { test } from 'node:test';
import * as g from '../../src/index.js';
import { assertThrowsMsg, expectClose, expectGrad, FLOAT, values } from '../helpers.js';

const L = g.losses;
const f64 = (x: g.NestedArray) => g.tensor(x as number[], { dtype: FLOAT });

test('mse, l1, huber and smoothL1 by value', async () => {
  const x = f64([1, 2]);
  const y = f64([3, 5]); // d = [−2, −3]
  await expectClose(L.mse(x, y), [(4 + 9) / 2], { atol: 1e-15 });
  await expectClose(L.mse(x, y, { reduction: 'sum' }), [13], { atol: 1e-15 });
  await expectClose(L.l1(x, y, { reduction: 'none' }), [2, 3], { atol: 1e-15 });
  const a = f64([0.5, -2]);
  const zero = f64([0, 0]);
  // huber δ=1: 0.5·0.25 inside; 1·(2 − 0.5) outside. δ=2: −2 is on the boundary → linear piece 2·(2 − 1).
  await expectClose(L.huber(a, zero, { reduction: 'none' }), [0.125, 1.5], { atol: 1e-15 });
  await expectClose(L.huber(a, zero, { delta: 2, reduction: 'none' }), [0.125, 2], { atol: 1e-15 });
  // smoothL1 β=2: 0.5·0.25/2 inside; 2 − 1 outside; it is huber/β.
  await expectClose(L.smoothL1(a, zero, { beta: 2, reduction: 'none' }), [0.0625, 1], { atol: 1e-15 });
  await expectClose(L.smoothL1(a, zero, { beta: 0, reduction: 'none' }), [0.5, 2], { atol: 1e-15 });
  const r = g.randn([5], { dtype: FLOAT, seed: 1 }).mul(3);
  await expectClose(L.smoothL1(r, zero.slice([0], [1]).expand([5]), { beta: 1.5 }), await values(L.huber(r, g.zeros([5], { dtype: FLOAT }), { delta: 1.5 }).div(1.5)), { atol: 1e-14 });
});

test('regression loss gradients match finite differences; shape mismatch is an error', async () => {
  const x = g.randn([3, 4], { dtype: FLOAT, seed: 7 }).mul(2);
  const y = g.randn([3, 4], { dtype: FLOAT, seed: 8 });
  await expectGrad((a, b) => L.mse(a, b), [x, y]);
  await expectGrad((a, b) => L.l1(a, b, { reduction: 'sum' }), [x, y]);
  await expectGrad((a, b) => L.huber(a, b, { delta: 0.7 }), [x, y]);
  await expectGrad((a, b) => L.smoothL1(a, b, { beta: 0.5 }), [x, y]);
  assertThrowsMsg(() => L.mse(x, y.reshape([4, 3])), /mse/, /input \[3, 4\] and target \[4, 3\] must have the same shape/);
  assertThrowsMsg(() => L.huber(x, y, { delta: 0 }), /delta must be a finite number > 0, got 0/);
  assertThrowsMsg(() => L.l1(x, g.zeros([3, 4], { dtype: 'int32' })), /target must be a float tensor, got int32/);
});

test('klDiv by value (0·log 0 = 0), batchmean, logTarget, gradients', async () => {
  const input = g.log(f64([[0.5, 0.5], [0.25, 0.75]]));
  const target = f64([[0.9, 0.1], [1, 0]]);
  const row0 = 0.9 * Math.log(0.9 / 0.5) + 0.1 * Math.log(0.1 / 0.5);
  const row1 = 1 * Math.log(1 / 0.25);
  await expectClose(L.klDiv(input, target, { reduction: 'batchmean' }), [(row0 + row1) / 2], { atol: 1e-12 });
  await expectClose(L.klDiv(input, target, { reduction: 'sum' }), [row0 + row1], { atol: 1e-12 });
  await expectClose(L.klDiv(input, target), [(row0 + row1) / 4], { atol: 1e-12 });
  await expectClose(L.klDiv(input, target, { reduction: 'none' }).slice([1, 1], [2, 2]), [0]);
  const lt = g.log(f64([[0.9, 0.1], [0.5, 0.5]]));
  await expectClose(L.klDiv(input, lt, { logTarget: true, reduction: 'none' }), await values(L.klDiv(input, g.exp(lt), { reduction: 'none' })), { atol: 1e-12 });
  const x = g.randn([3, 4], { dtype: FLOAT, seed: 9 });
  const t = g.softmax(g.randn([3, 4], { dtype: FLOAT, seed: 10 }), -1);
  await expectGrad((a, b) => L.klDiv(g.logSoftmax(a, -1), b, { reduction: 'batchmean' }), [x, t]);
  assertThrowsMsg(() => L.klDiv(x, t, { reduction: 'avg' as any }), /'batchmean'/);
});

test('l1Penalty / l2Penalty: values, noDecay skipped by default, and coeff λ/2 reproduces weight decay λ', async () => {
  const w = new g.Parameter(f64([1, -2, 3]));
  const b = new g.Parameter(f64([5]), { tags: ['noDecay'] });
  await expectClose(L.l1Penalty([w, b]), [6]);
  await expectClose(L.l1Penalty([w, b], { includeNoDecay: true }), [11]);
  await expectClose(L.l2Penalty([w, b], { coeff: 0.5 }), [7]);
  const lambda = 0.1;
  L.l2Penalty([w], { coeff: lambda / 2 }).backward();
  await expectClose(w.grad!, [0.1, -0.2, 0.3], { atol: 1e-15 });
  await expectGrad((a) => L.l1Penalty([a], { coeff: 0.3 }).add(L.l2Penalty([a], { coeff: 0.2 })), [f64([0.5, -1.5, 2])]);
  assertThrowsMsg(() => L.l2Penalty([w], { coeff: -1 }), /coeff must be a finite number >= 0/);
});
