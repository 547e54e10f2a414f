import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertThrowsMsg, expectClose, expectGrad, FLOAT, scalar } from '../helpers.js';

const { nn } = g;
const F = nn.functional;
const xs = [-3, -1, -0.5, 0.25, 1, 2.5];
const f64 = (v: number[] | number[][], shape?: number[]) => {
  const t = g.tensor(v as number[], { dtype: FLOAT });
  return shape ? t.reshape(shape) : t;
};
/** Inputs away from kinks, for finite differences. */
const gx = () => g.tensor([-2.1, -0.7, -0.3, 0.2, 0.9, 1.7], { dtype: FLOAT });

/** Applies a scalar reference function elementwise (the slow obvious oracle). */
const ref = (f: (v: number) => number) => xs.map(f);

/** erf by its Maclaurin series (converges for |x| ≤ 3), independent of the op under test. */
function erfRef(x: number): number {
  let sum = 0;
  let term = x;
  for (let n = 0; n < 80; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

test('sigmoid, tanh, relu modules and functions', async () => {
  const x = f64(xs);
  await expectClose(new nn.Sigmoid().call(x), ref((v) => 1 / (1 + Math.exp(-v))), { atol: 1e-12 });
  await expectClose(new nn.Tanh().call(x), ref(Math.tanh), { atol: 1e-12 });
  await expectClose(new nn.ReLU().call(x), [0, 0, 0, 0.25, 1, 2.5]);
  await expectGrad((a) => F.sigmoid(a).mul(F.tanh(a)).add(F.relu(a)).sum(), [gx()]);
});

test('LeakyReLU: default slope 0.01, custom slope, gradient', async () => {
  await expectClose(new nn.LeakyReLU().call(f64(xs)), [-0.03, -0.01, -0.005, 0.25, 1, 2.5], { atol: 1e-12 });
  await expectClose(new nn.LeakyReLU(0.2).call(f64(xs)), [-0.6, -0.2, -0.1, 0.25, 1, 2.5], { atol: 1e-12 });
  await expectGrad((a) => F.leakyRelu(a, 0.2).square().sum(), [gx()]);
  assert.equal(new nn.LeakyReLU(0.2).toString(), 'LeakyReLU(negativeSlope=0.2)');
});

test('PReLU: shared and per-channel alpha (init 0.25), gradient w.r.t. input and alpha', async () => {
  const shared = new nn.PReLU({ dtype: FLOAT });
  await expectClose(shared.weight, [0.25]);
  await expectClose(shared.call(f64(xs)), [-0.75, -0.25, -0.125, 0.25, 1, 2.5], { atol: 1e-12 });
  const per = new nn.PReLU({ numParameters: 3, dtype: FLOAT });
  per.weight.assign([0.1, 0.2, 0.3]);
  const x = f64([-1, -1, -1, 2, -2, -2], [2, 3]);
  await expectClose(per.call(x), [-0.1, -0.2, -0.3, 2, -0.4, -0.6], { atol: 1e-12 });
  await expectGrad((a, w) => F.prelu(a, w).square().sum(), [gx().reshape([2, 3]), per.weight]);
  const img = g.randn([2, 3, 2, 2], { dtype: FLOAT, seed: 1 });
  await expectGrad((a, w) => F.prelu(a, w).square().sum(), [img, per.weight]);
  assert.ok(per.weight.tags.has('noDecay'));
  assertThrowsMsg(() => per.call(g.ones([2, 4])), /prelu/, /3 channels/, /\[2, 4\]/);
});

test('ELU and SELU (self-normalizing constants)', async () => {
  await expectClose(new nn.ELU().call(f64(xs)), ref((v) => (v > 0 ? v : Math.exp(v) - 1)), { atol: 1e-12 });
  await expectClose(new nn.ELU(0.5).call(f64(xs)), ref((v) => (v > 0 ? v : 0.5 * (Math.exp(v) - 1))), { atol: 1e-12 });
  const l = 1.0507009873554805;
  const a = 1.6732632423543772;
  await expectClose(new nn.SELU().call(f64(xs)), ref((v) => l * (v > 0 ? v : a * (Math.exp(v) - 1))), { atol: 1e-12 });
  await expectGrad((t) => F.elu(t, 0.7).mul(F.selu(t)).sum(), [gx()]);
  // Large positive inputs must not produce NaN gradients through the unused exp branch.
  const big = g.tensor([1000, -1000], { dtype: FLOAT, requiresGrad: true });
  F.elu(big).sum().backward();
  await expectClose(big.grad!, [1, 0]);
});

test('SELU keeps a standard normal input near mean 0 and variance 1 through lecun-initialized layers', async () => {
  const rng = new g.Random(3);
  let h = g.randn([512, 128], { rng });
  for (let i = 0; i < 4; i++) h = F.selu(new nn.Linear(128, 128, { init: 'lecun', rng }).call(h));
  const m = await scalar(h.mean());
  const v = await scalar(h.var(undefined, { correction: 0 }));
  assert.ok(Math.abs(m) < 0.1 && Math.abs(v - 1) < 0.15, `mean ${m}, variance ${v}`);
});

test('Swish/SiLU: fixed and learnable beta', async () => {
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  await expectClose(new nn.SiLU().call(f64(xs)), ref((v) => v * sig(v)), { atol: 1e-12 });
  await expectClose(new nn.Swish({ beta: 2 }).call(f64(xs)), ref((v) => v * sig(2 * v)), { atol: 1e-12 });
  const learn = new nn.Swish({ beta: 1.5, learnable: true, dtype: FLOAT });
  assert.equal(learn.parameters().length, 1);
  await expectClose(learn.call(f64(xs)), ref((v) => v * sig(1.5 * v)), { atol: 1e-12 });
  await expectGrad((t, b) => F.swish(t, b).sum(), [gx(), learn.beta as g.Tensor]);
  await expectGrad((t) => F.silu(t).sum(), [gx()]);
  assert.equal(new nn.Swish().parameters().length, 0);
});

test('GELU: exact (erf) and tanh approximation', async () => {
  await expectClose(new nn.GELU().call(f64(xs)), ref((v) => 0.5 * v * (1 + erfRef(v / Math.SQRT2))), { atol: 1e-7 });
  const tanhRef = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  await expectClose(new nn.GELU({ approximate: 'tanh' }).call(f64(xs)), ref(tanhRef), { atol: 1e-12 });
  await expectGrad((t) => F.gelu(t).sum(), [gx()]);
  await expectGrad((t) => F.gelu(t, { approximate: 'tanh' }).sum(), [gx()]);
  assertThrowsMsg(() => F.gelu(gx(), { approximate: 'fast' as never }), /approximate must be 'none' or 'tanh'/);
});

test('Softplus with beta and threshold; Softmax / LogSoftmax along an axis', async () => {
  await expectClose(new nn.Softplus().call(f64(xs)), ref((v) => Math.log(1 + Math.exp(v))), { atol: 1e-12 });
  await expectClose(new nn.Softplus({ beta: 2 }).call(f64(xs)), ref((v) => Math.log(1 + Math.exp(2 * v)) / 2), { atol: 1e-12 });
  await expectClose(F.softplus(f64([30, 100])), [30, 100]);
  await expectGrad((t) => F.softplus(t, { beta: 2 }).sum(), [gx()]);
  const x = f64([1, 2, 3, 1, 1, 1], [2, 3]);
  const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
  const z = e[0] + e[1] + e[2];
  await expectClose(new nn.Softmax().call(x), [e[0] / z, e[1] / z, e[2] / z, 1 / 3, 1 / 3, 1 / 3], { atol: 1e-12 });
  const c1 = Math.exp(2) / (Math.exp(2) + Math.exp(1));
  const c2 = Math.exp(3) / (Math.exp(3) + Math.exp(1));
  await expectClose(new nn.Softmax(0).call(x), [0.5, c1, c2, 0.5, 1 - c1, 1 - c2], { atol: 1e-12 });
  await expectClose(new nn.LogSoftmax().call(x).slice([1, 0], [2, 3]), [-Math.log(3), -Math.log(3), -Math.log(3)], { atol: 1e-12 });
});

test('Maxout: max over k linear pieces, hand-checked, with gradient', async () => {
  await expectClose(F.maxout(f64([1, 5, 3, 2, -1, -4], [1, 6]), 2), [5, 3, -1]);
  await expectClose(F.maxout(f64([1, 5, 3, 2, -1, -4], [1, 6]), 3), [5, 2]);
  const m = new nn.Maxout(2, 2, { k: 3, dtype: FLOAT });
  assert.deepEqual(m.linear.weight.shape, [6, 2]);
  m.linear.weight.assign([1, 0, 0, 1, -1, 0, 0, 0, 1, 1, 0, -1]);
  m.linear.bias!.assign([0, 0, 0, 0.5, 0, 0]);
  // x = [2, 3]: pieces unit0 = [2, 3, -2] → 3; unit1 = [0.5, 5, -3] → 5
  await expectClose(m.call(f64([2, 3], [1, 2])), [3, 5]);
  const x = g.randn([3, 2], { dtype: FLOAT, seed: 4 });
  await expectGrad((a, w, b) => F.maxout(F.linear(a, w, b), 3).sum(), [x, m.linear.weight, m.linear.bias!]);
  assertThrowsMsg(() => F.maxout(g.ones([2, 5]), 2), /divisible by k=2/);
  assert.equal(m.toString(), 'Maxout(\n  inFeatures=2, outFeatures=2, k=3\n  (linear): Linear(inFeatures=2, outFeatures=6, bias=true)\n)');
});
