import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertClose, assertThrowsMsg } from '../helpers.js';
import { param, setGrad, vals } from './helpers.js';

const { clipGradNorm, clipGradValue, applyMaxNorm, EMA, SGD } = g.optim;

test('clipGradNorm scales all gradients together and returns the pre-clip norm', () => {
  const a = param([0, 0]);
  const b = param([0]);
  const untouched = param([5]);
  setGrad(a, [3, 0]);
  setGrad(b, [4]); // global norm 5
  const norm = clipGradNorm([a, b, untouched], 1);
  assert.equal(norm, 5);
  const c = 1 / (5 + 1e-6);
  assertClose(a.grad!, [3 * c, 0], { atol: 1e-15 });
  assertClose(b.grad!, [4 * c], { atol: 1e-15 });
  assert.equal(untouched.grad, null);
  // Under the limit: nothing changes.
  setGrad(a, [0.3, 0]);
  setGrad(b, [0.4]);
  assert.ok(Math.abs(clipGradNorm([a, b], 1) - 0.5) < 1e-15);
  assert.deepEqual(vals(a.grad!), [0.3, 0]);
  // Infinity norm: max |g|.
  setGrad(a, [-6, 1]);
  setGrad(b, [2]);
  assert.equal(clipGradNorm([a, b], 3, { normType: Infinity }), 6);
  assertClose(a.grad!, [-6 * (3 / (6 + 1e-6)), 3 / (6 + 1e-6)], { atol: 1e-15 });
  // A NaN gradient is named instead of spreading through the scale.
  setGrad(b, [Number.NaN]);
  assertThrowsMsg(() => clipGradNorm([a, b], 1), /clipGradNorm/, /parameter 1 holds NaN or Inf/);
  assert.ok(Number.isNaN(clipGradNorm([a, b], 1, { errorIfNonfinite: false })));
});

test('clipGradValue clamps each gradient element; clipping then SGD gives the clipped step', () => {
  const p = param([0, 0, 0]);
  setGrad(p, [-5, 0.25, 2]);
  clipGradValue([p], 1);
  assert.deepEqual(vals(p.grad!), [-1, 0.25, 1]);
  new SGD([p], { lr: 0.5 }).step();
  assert.deepEqual(vals(p), [0.5, -0.125, -0.5]);
  assertThrowsMsg(() => clipGradValue([p], -1), /clipValue must be in \[0, inf\), got -1/);
});

test('applyMaxNorm renormalizes each unit\'s incoming weights (rows of [out, in]) to at most c', () => {
  // Row norms: 5, 0.5, 13.
  const w = g.tensor([[3, 4], [0.3, 0.4], [5, 12]], { dtype: 'float64' });
  assert.equal(applyMaxNorm(w, 2), 2);
  assertClose(w, [3 * 0.4, 4 * 0.4, 0.3, 0.4, 5 * (2 / 13), 12 * (2 / 13)], { atol: 1e-15 });
  // unitAxis 1 for an [in, out] layout: columns are units. Column norms: 5, 1.
  const v = g.tensor([[3, 1], [4, 0]], { dtype: 'float64' });
  applyMaxNorm(v, 1, { unitAxis: 1 });
  assertClose(v, [0.6, 1, 0.8, 0], { atol: 1e-15 });
  // Conv weights [out, in, kH, kW]: every filter's whole kernel is one vector.
  const k = g.ones([2, 1, 2, 2], { dtype: 'float64' }); // each filter has norm 2
  applyMaxNorm(k, 1);
  assertClose(k, new Array(8).fill(0.5), { atol: 1e-15 });
  assertThrowsMsg(() => applyMaxNorm(g.tensor([1, 2]), 1), /at least 2 axes/, /\[2\]/);
  assertThrowsMsg(() => applyMaxNorm(w, 0), /maxValue must be in \(0, inf\)/);
});

test('EMA: averages by hand, swapIn/swapOut restore the live weights, warmup ramps the decay', () => {
  const p = param([0, 10]);
  const ema = new EMA([p], { decay: 0.9 });
  p.assign([1, 0]);
  ema.update(); // 0.9·[0,10] + 0.1·[1,0] = [0.1, 9]
  p.assign([2, 0]);
  ema.update(); // 0.9·[0.1, 9] + 0.1·[2, 0] = [0.29, 8.1]
  assertClose(ema.averages()[0], [0.29, 8.1], { atol: 1e-14 });
  const seen = ema.withAverages(() => vals(p));
  assertClose(seen, [0.29, 8.1], { atol: 1e-14 });
  assert.deepEqual(vals(p), [2, 0]);
  ema.swapIn();
  assertThrowsMsg(() => ema.update(), /swapped in/);
  assertThrowsMsg(() => ema.swapIn(), /already swapped in/);
  ema.swapOut();
  assertThrowsMsg(() => ema.swapOut(), /swapIn\(\) first/);
  const target = param([0, 0]);
  ema.copyTo([target]);
  assertClose(target, [0.29, 8.1], { atol: 1e-14 });
  assertThrowsMsg(() => ema.copyTo([param([0])]), /shape \[1\] but the averaged parameter has \[2\]/);

  const q = param([0]);
  const warm = new EMA([q], { decay: 0.99, warmup: true });
  assert.equal(warm.currentDecay(), 1 / 10);
  q.assign([1]);
  warm.update(); // decay 0.1: 0.1·0 + 0.9·1
  assertClose(warm.averages()[0], [0.9], { atol: 1e-15 });
  assert.equal(warm.currentDecay(), 2 / 11);
});

test('EMA state dict round trip resumes exactly; mismatches are rejected', () => {
  const p = param([1, 2, 3]);
  const a = new EMA([p], { decay: 0.8, warmup: true });
  for (let i = 0; i < 3; i++) {
    p.assign([i, -i, i * i]);
    a.update();
  }
  const sd = a.stateDict();
  const b = new EMA([p], { decay: 0.8, warmup: true });
  b.loadStateDict(sd);
  for (const e of [a, b]) {
    p.assign([7, 8, 9]);
    e.update();
  }
  assert.deepEqual(Array.from(b.averages()[0]), Array.from(a.averages()[0]));
  assertThrowsMsg(() => new EMA([param([1])], { decay: 0.8, warmup: true }).loadStateDict(sd), /average 0 holds 3 values/);
  assertThrowsMsg(() => new EMA([p], { decay: 0.5 }).loadStateDict(sd), /decay 0.8/);
  assertThrowsMsg(() => new EMA([p], { decay: 1.5 }), /decay must be in \[0, 1\]/);
});
