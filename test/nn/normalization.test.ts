import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertThrowsMsg, expectClose, expectGrad, FLOAT, scalar, values, type ExpectGradOptions } from '../helpers.js';
import { expectModuleGrad } from './grad-util.js';

const { nn } = g;

/**
 * expectModuleGrad for a module with buffers (BatchNorm). CPU backends: expectModuleGrad itself.
 * Without float64 the gradients are compared with a replay on the reference backend, which must
 * not touch the device's running statistics (in training it cannot update them; in eval a
 * reference op reading a webgpu tensor gets NaN): there the objective passes copies of the
 * buffers' current values through functionalCall, made inside it on whichever backend runs it.
 * The objective is expectModuleGrad's own (sum of squares).
 */
async function expectModuleGradWithBuffers(module: g.nn.AnyModule, inputs: g.Tensor[], opts: ExpectGradOptions = {}): Promise<void> {
  if (g.getBackend().float64 !== false) return expectModuleGrad(module, inputs, opts);
  const params = [...module.namedParameters()];
  const buffers = await Promise.all([...module.namedBuffers()].map(async ([n, b]) => ({ n, values: (await b.data()).slice(), shape: b.shape })));
  const n = inputs.length;
  await expectGrad((...xs) => {
    const swap = new Map(params.map(([name], i) => [name, xs[n + i]]));
    for (const b of buffers) swap.set(b.n, g.Tensor.fromArray(b.values, b.shape));
    return g.nn.functionalCall(module, swap, ...xs.slice(0, n)).square().sum();
  }, [...inputs, ...params.map(([, p]) => p)], opts);
}

/** Per-channel statistics of NC… data with plain loops: [mean, biased var, unbiased var] per channel. */
async function channelStats(x: g.Tensor): Promise<[number[], number[], number[]]> {
  const [n, c] = x.shape;
  const inner = x.size / (n * c);
  const d = await x.data();
  const means: number[] = [];
  const vars: number[] = [];
  const unb: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const vals: number[] = [];
    for (let i = 0; i < n; i++) for (let k = 0; k < inner; k++) vals.push(d[(i * c + ch) * inner + k]);
    const m = vals.reduce((a, b) => a + b, 0) / vals.length;
    const ss = vals.reduce((a, b) => a + (b - m) ** 2, 0);
    means.push(m);
    vars.push(ss / vals.length);
    unb.push(ss / (vals.length - 1));
  }
  return [means, vars, unb];
}

/** Reference: (x − mean[c]) / √(var[c] + eps)·γ[c] + β[c] over NC… data. */
async function normRef(x: g.Tensor, mean: number[], variance: number[], eps: number, gamma?: number[], beta?: number[]): Promise<number[]> {
  const [n, c] = x.shape;
  const inner = x.size / (n * c);
  const d = await x.data();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      for (let k = 0; k < inner; k++) {
        const v = (d[(i * c + ch) * inner + k] - mean[ch]) / Math.sqrt(variance[ch] + eps);
        out.push(v * (gamma?.[ch] ?? 1) + (beta?.[ch] ?? 0));
      }
    }
  }
  return out;
}

test('BatchNorm1d training: hand-checked normalization with batch statistics', async () => {
  const bn = new nn.BatchNorm1d(2, { dtype: FLOAT });
  const x = g.tensor([[1, 10], [3, 20], [5, 60]], { dtype: FLOAT });
  // column 0: mean 3, biased var 8/3; column 1: mean 30, biased var 1400/3
  const s0 = Math.sqrt(8 / 3 + 1e-5);
  const s1 = Math.sqrt(1400 / 3 + 1e-5);
  await expectClose(bn.call(x), [-2 / s0, -20 / s1, 0, -10 / s1, 2 / s0, 30 / s1], { atol: 1e-10 });
  // Running stats after one step: 0.9·init + 0.1·batch (unbiased variance).
  await expectClose(bn.runningMean!, [0.3, 3], { atol: 1e-12 });
  await expectClose(bn.runningVar!, [0.9 + 0.1 * 4, 0.9 + 0.1 * 700], { atol: 1e-10 });
  assert.equal(await scalar(bn.numBatchesTracked!), 1);
});

test('BatchNorm2d running statistics after N steps equal the momentum formula; eval uses them', async () => {
  const rng = new g.Random(1);
  const bn = new nn.BatchNorm2d(3, { momentum: 0.2, dtype: FLOAT });
  bn.weight!.assign([1, 2, 0.5]);
  bn.bias!.assign([0, -1, 3]);
  let rm = [0, 0, 0];
  let rv = [1, 1, 1];
  for (let step = 0; step < 5; step++) {
    const x = g.randn([4, 3, 3, 2], { dtype: FLOAT, rng, mean: step, std: 1 + step });
    const y = bn.call(x);
    const [m, v, u] = await channelStats(x);
    await expectClose(y, await normRef(x, m, v, 1e-5, [1, 2, 0.5], [0, -1, 3]), { atol: 1e-9, msg: `train step ${step}` });
    rm = rm.map((r, c) => 0.8 * r + 0.2 * m[c]);
    rv = rv.map((r, c) => 0.8 * r + 0.2 * u[c]);
  }
  await expectClose(bn.runningMean!, rm, { atol: 1e-10 });
  await expectClose(bn.runningVar!, rv, { atol: 1e-10 });
  bn.eval();
  const x = g.randn([2, 3, 2, 2], { dtype: FLOAT, rng });
  await expectClose(bn.call(x), await normRef(x, rm, rv, 1e-5, [1, 2, 0.5], [0, -1, 3]), { atol: 1e-10 });
  await expectClose(bn.runningMean!, rm, { atol: 1e-10, msg: 'eval does not update running stats' });
  // A single sample is fine in eval: it only reads the running statistics.
  const one = g.randn([1, 3, 1, 1], { dtype: FLOAT, rng });
  await expectClose(bn.call(one), await normRef(one, rm, rv, 1e-5, [1, 2, 0.5], [0, -1, 3]), { atol: 1e-10 });
});

test('BatchNorm: momentum null is a cumulative average; affine false has no parameters; state dict keys', async () => {
  const bn = new nn.BatchNorm1d(2, { momentum: null, affine: false, dtype: FLOAT });
  assert.equal(bn.parameters().length, 0);
  const batches = [g.tensor([[0, 1], [2, 3]], { dtype: FLOAT }), g.tensor([[4, 4], [6, 8]], { dtype: FLOAT })];
  for (const b of batches) bn.call(b);
  await expectClose(bn.runningMean!, [(1 + 5) / 2, (2 + 6) / 2]);
  await expectClose(bn.runningVar!, [(2 + 2) / 2, (2 + 8) / 2]);
  assert.deepEqual([...new nn.BatchNorm2d(4).stateDict().keys()], ['weight', 'bias', 'runningMean', 'runningVar', 'numBatchesTracked']);
});

test('BatchNorm1d on [N, C, L] pools over N and L; trackRunningStats false uses batch statistics in eval too', async () => {
  const rng = new g.Random(11);
  const bn = new nn.BatchNorm1d(2, { dtype: FLOAT });
  const x = g.randn([3, 2, 4], { dtype: FLOAT, rng, mean: 1 });
  const [m, v, u] = await channelStats(x);
  await expectClose(bn.call(x), await normRef(x, m, v, 1e-5), { atol: 1e-10 });
  await expectClose(bn.runningMean!, m.map((t) => 0.1 * t), { atol: 1e-12 });
  await expectClose(bn.runningVar!, u.map((t) => 0.9 + 0.1 * t), { atol: 1e-12 });
  const free = new nn.BatchNorm1d(2, { trackRunningStats: false, dtype: FLOAT });
  assert.equal(free.buffers().length, 0);
  free.eval();
  await expectClose(free.call(x), await normRef(x, m, v, 1e-5), { atol: 1e-10 });
});

test('BatchNorm errors: batch size 1 in training (fine in eval), wrong channels or rank', async () => {
  const bn = new nn.BatchNorm1d(3);
  assertThrowsMsg(() => bn.call(g.ones([1, 3])), /more than 1 value per channel/, /\[1, 3\]/, /batch size 1/);
  bn.eval();
  await expectClose(bn.call(g.ones([1, 3])), [1, 1, 1].map((v) => v / Math.sqrt(1 + 1e-5)), { atol: 1e-6 });
  assertThrowsMsg(() => bn.call(g.ones([4, 2])), /BatchNorm1d/, /\[N, 3\]/, /\[4, 2\]/);
  assertThrowsMsg(() => new nn.BatchNorm2d(3).call(g.ones([4, 3])), /BatchNorm2d/, /\[N, 3, H, W\]/);
  assertThrowsMsg(() => new nn.BatchNorm1d(3, { momentum: 2 }), /momentum must be in \[0, 1\]/);
});

test('BatchNorm gradients (input, γ, β) in training and eval mode', async () => {
  const rng = new g.Random(2);
  const bn = new nn.BatchNorm2d(2, { dtype: FLOAT });
  nn.init.normal(bn.weight!, { rng });
  nn.init.normal(bn.bias!, { rng });
  const x = g.randn([3, 2, 2, 2], { dtype: FLOAT, rng });
  await expectModuleGradWithBuffers(bn, [x]);
  bn.call(x);
  bn.eval();
  await expectModuleGradWithBuffers(bn, [x]);
  const bn1 = new nn.BatchNorm1d(3, { dtype: FLOAT });
  await expectModuleGradWithBuffers(bn1, [g.randn([4, 3, 2], { dtype: FLOAT, rng })]);
});

test('LayerNorm: per-sample statistics over the trailing axes; gradient', async () => {
  const ln = new nn.LayerNorm(3, { dtype: FLOAT });
  const x = g.tensor([[1, 2, 3], [10, 10, 40]], { dtype: FLOAT });
  const s0 = Math.sqrt(2 / 3 + 1e-5);
  const s1 = Math.sqrt(200 + 1e-5);
  await expectClose(ln.call(x), [-1 / s0, 0, 1 / s0, -10 / s1, -10 / s1, 20 / s1], { atol: 1e-10 });
  ln.weight!.assign([1, 2, 3]);
  ln.bias!.assign([0, 1, 0]);
  await expectClose(ln.call(x), [-1 / s0, 1, 3 / s0, -10 / s1, -20 / s1 + 1, 60 / s1], { atol: 1e-10 });
  await expectModuleGrad(ln, [g.randn([2, 4, 3], { dtype: FLOAT, seed: 3 })]);
  const ln2 = new nn.LayerNorm([2, 3], { dtype: FLOAT });
  await expectModuleGrad(ln2, [g.randn([2, 2, 3], { dtype: FLOAT, seed: 4 })]);
  assertThrowsMsg(() => ln.call(g.ones([2, 4])), /must end with the normalized shape \[3\]/);
});

test('GroupNorm: statistics per (sample, group); InstanceNorm2d = one group per channel; errors', async () => {
  const rng = new g.Random(5);
  const x = g.randn([2, 4, 3, 3], { dtype: FLOAT, rng });
  const gn = new nn.GroupNorm(2, 4, { dtype: FLOAT });
  // Reference: regroup to [N·G, C/G·H·W] rows, normalize each row.
  const d = await x.data();
  const rowLen = 2 * 9;
  const expected: number[] = [];
  for (let r = 0; r < 4; r++) {
    const vals = Array.from(d.slice(r * rowLen, (r + 1) * rowLen));
    const m = vals.reduce((a, b) => a + b, 0) / rowLen;
    const v = vals.reduce((a, b) => a + (b - m) ** 2, 0) / rowLen;
    expected.push(...vals.map((t) => (t - m) / Math.sqrt(v + 1e-5)));
  }
  await expectClose(gn.call(x), expected, { atol: 1e-10 });
  nn.init.normal(gn.weight!, { rng });
  await expectModuleGrad(gn, [x], { maxElementsPerInput: 30 });
  assertThrowsMsg(() => new nn.GroupNorm(3, 4), /numChannels \(4\) must be divisible by numGroups \(3\)/);
  assertThrowsMsg(() => nn.groupNorm(g.ones([2, 6, 2]), 4), /channels \(6\) must be divisible by numGroups \(4\)/);
  const inorm = new nn.InstanceNorm2d(4, { dtype: FLOAT });
  assert.equal(inorm.parameters().length, 0);
  const per: number[] = [];
  for (let r = 0; r < 8; r++) {
    const vals = Array.from(d.slice(r * 9, (r + 1) * 9));
    const m = vals.reduce((a, b) => a + b, 0) / 9;
    const v = vals.reduce((a, b) => a + (b - m) ** 2, 0) / 9;
    per.push(...vals.map((t) => (t - m) / Math.sqrt(v + 1e-5)));
  }
  await expectClose(inorm.call(x), per, { atol: 1e-10 });
  inorm.eval();
  await expectClose(inorm.call(x), per, { atol: 1e-10, msg: 'same in eval' });
  await expectModuleGrad(new nn.InstanceNorm2d(4, { affine: true, dtype: FLOAT }), [x], { maxElementsPerInput: 30 });
});

test('weightNorm: w = g·v/‖v‖ per output unit, output unchanged at init, gradients w.r.t. g, v, bias', async () => {
  const rng = new g.Random(6);
  const lin = new nn.Linear(3, 2, { dtype: FLOAT, rng });
  const x = g.randn([4, 3], { dtype: FLOAT, rng });
  const before = await values(lin.call(x));
  nn.weightNorm(lin);
  assert.deepEqual([...lin.namedParameters()].map(([n]) => n).sort(), ['bias', 'weightG', 'weightV']);
  await expectClose(lin.call(x), before, { atol: 1e-12 });
  const [gp, vp] = [lin.parameters().find((p) => p.name === 'weightG')!, lin.parameters().find((p) => p.name === 'weightV')!];
  gp.assign([2, 3]);
  vp.assign([3, 4, 0, 0, 0, 5]);
  lin.call(x);
  await expectClose(lin.weight, [2 * 0.6, 2 * 0.8, 0, 0, 0, 3]);
  await expectModuleGrad(lin, [x]);
  const conv = nn.weightNorm(new nn.Conv2d(2, 3, 2, { dtype: FLOAT, rng }));
  assert.deepEqual(conv.parameters().find((p) => p.name === 'weightG')!.shape, [3]);
  await expectModuleGrad(conv, [g.randn([1, 2, 3, 3], { dtype: FLOAT, rng })]);
  assertThrowsMsg(() => nn.weightNorm(lin), /no 'weight' parameter/);
});

test('fuseBatchNorm: fused Conv2d/Linear + eval BatchNorm give the unfused outputs', async () => {
  const rng = new g.Random(7);
  const model = new nn.Sequential(
    new nn.Conv2d(2, 4, 3, { padding: 1, rng }), new nn.BatchNorm2d(4), new nn.ReLU(),
    new nn.Flatten(), new nn.Linear(4 * 4 * 4, 5, { rng, bias: false }), new nn.BatchNorm1d(5),
  );
  // Give the BatchNorms non-trivial running statistics and affine parameters.
  for (let i = 0; i < 3; i++) model.call(g.randn([6, 2, 4, 4], { rng, mean: 1, std: 2 }));
  for (const m of model.modules()) if (m instanceof nn.BatchNorm1d || m instanceof nn.BatchNorm2d) {
    nn.init.normal(m.weight!, { rng, mean: 1 });
    nn.init.normal(m.bias!, { rng });
  }
  model.eval();
  const x = g.randn([3, 2, 4, 4], { rng });
  const expected = await values(model.call(x));
  assertThrowsMsg(() => nn.fuseBatchNorm(model.train()), /eval mode/);
  model.eval();
  const { fused } = nn.fuseBatchNorm(model);
  assert.equal(fused, 2);
  assert.ok(model.at(0) instanceof nn.Conv2d && model.at(1) instanceof nn.Identity && model.at(5) instanceof nn.Identity);
  assert.equal([...model.modules()].filter((m) => m instanceof nn.BatchNorm2d || m instanceof nn.BatchNorm1d).length, 0);
  await expectClose(model.call(x), expected, { atol: 1e-5, rtol: 1e-4 });
  assert.match(model.toString(), /\(1\): Identity\(\)/);
});
