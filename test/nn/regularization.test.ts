import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertThrowsMsg, expectClose, expectGrad, FLOAT, scalar, values } from '../helpers.js';

const { nn } = g;
const F = nn.functional;

test('Dropout (inverted): zeros about p of the elements, scales the rest by 1/(1−p); identity in eval', async () => {
  const d = new nn.Dropout({ p: 0.3, rng: new g.Random(1) });
  const x = g.full([100, 100], 2);
  const y = await d.call(x).data();
  let zeros = 0;
  for (const v of y) {
    if (v === 0) zeros++;
    else assert.ok(Math.abs(v - 2 / 0.7) < 1e-6, `kept value ${v}`);
  }
  assert.ok(Math.abs(zeros / 1e4 - 0.3) < 0.02, `dropped fraction ${zeros / 1e4}`);
  let s = 0;
  for (const v of y) s += v;
  assert.ok(Math.abs(s / 1e4 - 2) < 0.06, 'expected activation is preserved');
  d.eval();
  assert.equal(d.call(x), x);
  assert.equal(new nn.Dropout().p, 0.5);
  assertThrowsMsg(() => new nn.Dropout({ p: 1 }), /p must be in \[0, 1\), got 1/);
});

test('Dropout is reproducible from the seed (global RNG by default) and its gradient is the mask', async () => {
  g.manualSeed(5);
  const a = await new nn.Dropout().call(g.ones([50])).data();
  g.manualSeed(5);
  const b = await new nn.Dropout().call(g.ones([50])).data();
  assert.deepEqual(a, b);
  const x = g.randn([4, 5], { dtype: FLOAT, seed: 2 });
  await expectGrad((t) => F.dropout(t, { p: 0.4, rng: new g.Random(3) }).square().sum(), [x]);
  const leaf = g.ones([20], { requiresGrad: true });
  const out = F.dropout(leaf, { p: 0.5, rng: new g.Random(4) });
  out.sum().backward();
  await expectClose(leaf.grad!, await values(out)); // d(sum(x·m))/dx = m = out for x = 1
});

test('AlphaDropout keeps mean 0 and variance 1 of a standardized input; dropped units take one value; eval identity', async () => {
  const p = 0.2;
  const rng = new g.Random(6);
  const x = g.randn([200, 200], { rng });
  const ad = new nn.AlphaDropout({ p, rng });
  const y = ad.call(x);
  const m = await scalar(y.mean());
  const v = await scalar(y.var(undefined, { correction: 0 }));
  assert.ok(Math.abs(m) < 0.02 && Math.abs(v - 1) < 0.03, `mean ${m}, variance ${v}`);
  // Dropped units all equal a·α' + b; kept units are a·x + b.
  const alphaP = -1.0507009873554805 * 1.6732632423543772;
  const a = 1 / Math.sqrt((1 - p) * (1 + p * alphaP * alphaP));
  const b = -a * alphaP * p;
  const xd = await x.data();
  const yd = await y.data();
  let dropped = 0;
  for (let i = 0; i < yd.length; i++) {
    if (Math.abs(yd[i] - (a * alphaP + b)) < 1e-5) dropped++;
    else assert.ok(Math.abs(yd[i] - (a * xd[i] + b)) < 1e-4, `element ${i}`);
  }
  assert.ok(Math.abs(dropped / yd.length - p) < 0.01, `dropped fraction ${dropped / yd.length}`);
  ad.eval();
  assert.equal(ad.call(x), x);
  await expectGrad((t) => F.alphaDropout(t, { p: 0.3, rng: new g.Random(7) }).square().sum(), [g.randn([3, 4], { dtype: FLOAT, seed: 8 })]);
});

test('GaussianNoise adds N(0, std²) in training only', async () => {
  const gn = new nn.GaussianNoise({ std: 0.5, rng: new g.Random(9) });
  const x = g.full([100, 100], 3);
  const noise = gn.call(x).sub(x);
  const m = await scalar(noise.mean());
  const s = await scalar(noise.std());
  assert.ok(Math.abs(m) < 0.02 && Math.abs(s - 0.5) < 0.02, `noise mean ${m}, std ${s}`);
  gn.eval();
  assert.equal(gn.call(x), x);
  assertThrowsMsg(() => new nn.GaussianNoise({ std: -1 }), /std must be a non-negative number/);
  await expectGrad((t) => F.gaussianNoise(t, { std: 0.1, rng: new g.Random(1) }).square().sum(), [g.randn([5], { dtype: FLOAT, seed: 2 })]);
});

test('DropConnect drops weights (one mask per call, shared by the batch), not activations; eval uses the full weight', async () => {
  const lin = new nn.Linear(30, 20, { rng: new g.Random(10), dtype: FLOAT });
  const dc = new nn.DropConnect(lin, { p: 0.5, rng: new g.Random(11) });
  // Identical rows in, identical rows out: activations are not dropped independently.
  const row = g.randn([1, 30], { dtype: FLOAT, seed: 12 });
  const x = g.concat([row, row, row], 0);
  const y = dc.call(x);
  const yd = await y.data();
  for (let j = 0; j < 20; j++) assert.equal(yd[j], yd[40 + j]);
  // It equals the layer with the same mask applied to W (mask drawn from the same seed).
  const mask = F.dropoutMask([20, 30], 0.5, FLOAT, new g.Random(11));
  await expectClose(y, await values(F.linear(x, lin.weight.mul(mask), lin.bias)), { atol: 1e-12 });
  const maskData = await mask.data();
  const dropped = maskData.filter((v) => v === 0).length / maskData.length;
  assert.ok(dropped > 0.4 && dropped < 0.6, `dropped weight fraction ${dropped}`);
  assert.ok(Math.abs(await scalar(y.sub(lin.call(x)).abs().max())) > 1e-3, 'training output differs from the plain layer');
  let hookCalls = 0;
  lin.registerForwardHook(() => void hookCalls++);
  dc.call(x);
  assert.equal(hookCalls, 1, "the wrapped layer's hooks fire in training too");
  assert.ok(lin.weight instanceof g.Parameter, 'the real weight is restored after the call');
  dc.eval();
  await expectClose(dc.call(x), await values(lin.call(x)));
  assertThrowsMsg(() => new nn.DropConnect(nn.weightNorm(new nn.Linear(2, 2))), /no 'weight' parameter/);
  assert.deepEqual([...dc.namedParameters()].map(([n]) => n), ['layer.weight', 'layer.bias']);
  // Gradient through the dropped weights (the same mask every call via a fresh seeded rng).
  dc.train();
  await expectGrad((t, w, b) => F.linear(t, w.mul(F.dropoutMask([20, 30], 0.5, FLOAT, new g.Random(11))), b).sum(),
    [x, lin.weight, lin.bias!], { maxElementsPerInput: 30 });
});
