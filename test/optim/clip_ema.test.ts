import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertThrowsMsg, byFloat, expectClose, expectThrowsMsg, FLOAT } from '../helpers.js';
import { averagesOf, clipNorm, param, setGrad, stateDictOf, stored, SYNC_READS, vals } from './helpers.js';

const { clipGradValue, applyMaxNorm, applyMaxNormAsync, EMA, SGD } = g.optim;

test('clipGradNorm scales all gradients together and returns the pre-clip norm', async () => {
  const a = param([0, 0]);
  const b = param([0]);
  const untouched = param([5]);
  setGrad(a, [3, 0]);
  setGrad(b, [4]); // global norm 5
  const norm = await clipNorm([a, b, untouched], 1);
  assert.equal(norm, 5);
  const c = 1 / (5 + 1e-6);
  await expectClose(a.grad!, [3 * c, 0], { atol: 1e-15 });
  await expectClose(b.grad!, [4 * c], { atol: 1e-15 });
  assert.equal(untouched.grad, null);
  // Under the limit: nothing changes.
  setGrad(a, [0.3, 0]);
  setGrad(b, [0.4]);
  // float32: 0.3 and 0.4 are stored rounded, and the norm is a float32 sum and sqrt (0.5 to ~3e-8).
  assert.ok(Math.abs((await clipNorm([a, b], 1)) - 0.5) < byFloat(1e-15, 1e-7));
  assert.deepEqual(await vals(a.grad!), [stored(0.3), 0]);
  // Infinity norm: max |g|.
  setGrad(a, [-6, 1]);
  setGrad(b, [2]);
  assert.equal(await clipNorm([a, b], 3, { normType: Infinity }), 6);
  await expectClose(a.grad!, [-6 * (3 / (6 + 1e-6)), 3 / (6 + 1e-6)], { atol: 1e-15 });
  // A NaN gradient is named instead of spreading through the scale.
  setGrad(b, [Number.NaN]);
  await expectThrowsMsg(() => clipNorm([a, b], 1), /clipGradNorm/, /parameter 1 holds NaN or Inf/);
  assert.ok(Number.isNaN(await clipNorm([a, b], 1, { errorIfNonfinite: false })));
});

test('clipGradValue clamps each gradient element; clipping then SGD gives the clipped step', async () => {
  const p = param([0, 0, 0]);
  setGrad(p, [-5, 0.25, 2]);
  clipGradValue([p], 1);
  assert.deepEqual(await vals(p.grad!), [-1, 0.25, 1]);
  new SGD([p], { lr: 0.5 }).step();
  assert.deepEqual(await vals(p), [0.5, -0.125, -0.5]);
  assertThrowsMsg(() => clipGradValue([p], -1), /clipValue must be in \[0, inf\), got -1/);
});

test('applyMaxNorm renormalizes each unit\'s incoming weights (rows of [out, in]) to at most c; applyMaxNormAsync the same on any backend', async () => {
  // The synchronous host version where reads are synchronous, and the device version everywhere.
  const variants: [string, (w: g.Tensor, c: number, opts?: g.optim.MaxNormOptions) => Promise<number>][] = [
    ['applyMaxNormAsync', (w, c, opts) => applyMaxNormAsync(w, c, opts)],
  ];
  if (SYNC_READS) variants.push(['applyMaxNorm', async (w, c, opts) => applyMaxNorm(w, c, opts)]);
  for (const [name, apply] of variants) {
    const w = g.tensor([[3, 4], [0.3, 0.4], [5, 12]], { dtype: FLOAT });
    // Row norms: 5, 0.5, 13.
    assert.equal(await apply(w, 2), 2, name);
    await expectClose(w, [3 * 0.4, 4 * 0.4, 0.3, 0.4, 5 * (2 / 13), 12 * (2 / 13)], { atol: 1e-15, msg: name });
    // unitAxis 1 for an [in, out] layout: columns are units. Column norms: 5, 1.
    const v = g.tensor([[3, 1], [4, 0]], { dtype: FLOAT });
    assert.equal(await apply(v, 1, { unitAxis: 1 }), 1, name);
    await expectClose(v, [0.6, 1, 0.8, 0], { atol: 1e-15, msg: name });
    // Conv weights [out, in, kH, kW]: every filter's whole kernel is one vector.
    const k = g.ones([2, 1, 2, 2], { dtype: FLOAT }); // each filter has norm 2
    assert.equal(await apply(k, 1), 2, name);
    await expectClose(k, new Array(8).fill(0.5), { atol: 1e-15, msg: name });
  }
  if (!SYNC_READS) assertThrowsMsg(() => applyMaxNorm(g.ones([2, 2]), 1), /use await optim\.applyMaxNormAsync/);
  // The argument checks come before any read: on every backend.
  const w = g.tensor([[3, 4]], { dtype: FLOAT });
  assertThrowsMsg(() => applyMaxNorm(g.tensor([1, 2]), 1), /at least 2 axes/, /\[2\]/);
  assertThrowsMsg(() => applyMaxNorm(w, 0), /maxValue must be in \(0, inf\)/);
  await assert.rejects(applyMaxNormAsync(w, 1, { unitAxis: 2 }), /unitAxis 2 is out of range for shape \[1, 2\]/);
});

test('EMA: averages by hand, swapIn/swapOut restore the live weights, warmup ramps the decay', async () => {
  const p = param([0, 10]);
  const ema = new EMA([p], { decay: 0.9 });
  p.assign([1, 0]);
  ema.update(); // 0.9·[0,10] + 0.1·[1,0] = [0.1, 9]
  p.assign([2, 0]);
  ema.update(); // 0.9·[0.1, 9] + 0.1·[2, 0] = [0.29, 8.1]
  await expectClose((await averagesOf(ema))[0], [0.29, 8.1], { atol: 1e-14 });
  // The read is issued inside withAverages (reads snapshot when called), awaited after the swap back.
  const seen = await ema.withAverages(() => vals(p));
  await expectClose(seen, [0.29, 8.1], { atol: 1e-14 });
  assert.deepEqual(await vals(p), [2, 0]);
  ema.swapIn();
  assertThrowsMsg(() => ema.update(), /swapped in/);
  assertThrowsMsg(() => ema.swapIn(), /already swapped in/);
  ema.swapOut();
  assertThrowsMsg(() => ema.swapOut(), /swapIn\(\) first/);
  const target = param([0, 0]);
  ema.copyTo([target]);
  await expectClose(target, [0.29, 8.1], { atol: 1e-14 });
  assertThrowsMsg(() => ema.copyTo([param([0])]), /shape \[1\] but the averaged parameter has \[2\]/);

  const q = param([0]);
  const warm = new EMA([q], { decay: 0.99, warmup: true });
  assert.equal(warm.currentDecay(), 1 / 10);
  q.assign([1]);
  warm.update(); // decay 0.1: 0.1·0 + 0.9·1
  await expectClose((await averagesOf(warm))[0], [0.9], { atol: 1e-15 });
  assert.equal(warm.currentDecay(), 2 / 11);
});

test('EMA state dict round trip resumes exactly; mismatches are rejected', async () => {
  const p = param([1, 2, 3]);
  const a = new EMA([p], { decay: 0.8, warmup: true });
  for (let i = 0; i < 3; i++) {
    p.assign([i, -i, i * i]);
    a.update();
  }
  const sd = await stateDictOf(a);
  const b = new EMA([p], { decay: 0.8, warmup: true });
  b.loadStateDict(sd);
  for (const e of [a, b]) {
    p.assign([7, 8, 9]);
    e.update();
  }
  assert.deepEqual(Array.from((await averagesOf(b))[0]), Array.from((await averagesOf(a))[0]));
  assertThrowsMsg(() => new EMA([param([1])], { decay: 0.8, warmup: true }).loadStateDict(sd), /average 0 holds 3 values/);
  assertThrowsMsg(() => new EMA([p], { decay: 0.5 }).loadStateDict(sd), /decay 0.8/);
  assertThrowsMsg(() => new EMA([p], { decay: 1.5 }), /decay must be in \[0, 1\]/);
});
