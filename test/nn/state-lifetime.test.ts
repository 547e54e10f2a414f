/**
 * Module state outlives the scopes that training steps run in: BatchNorm's running statistics
 * and batch counter, parameters made inside a scope, weight-norm's computed weight, and
 * Module.to's converted parameters (same objects).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { expectClose, FLOAT, NEEDS_FLOAT64, scalar, values } from '../helpers.js';

const { nn } = g;

test('BatchNorm running statistics and numBatchesTracked survive step scopes and follow the momentum formula', async () => {
  const bn = new nn.BatchNorm1d(2, { affine: false, dtype: FLOAT });
  const xs = [
    g.tensor([[1, 2], [3, 6], [5, 10]], { dtype: FLOAT }),
    g.tensor([[0, -1], [4, 1], [2, 3]], { dtype: FLOAT }),
  ];
  let mean = [0, 0];
  let variance = [1, 1];
  for (const x of xs) {
    g.scope(() => {
      bn.call(x);
    });
    const d = await x.data();
    for (let c = 0; c < 2; c++) {
      const v = [d[c], d[2 + c], d[4 + c]];
      const m = (v[0] + v[1] + v[2]) / 3;
      const unbiased = v.reduce((s, a) => s + (a - m) ** 2, 0) / 2;
      mean[c] = 0.9 * mean[c] + 0.1 * m;
      variance[c] = 0.9 * variance[c] + 0.1 * unbiased;
    }
    mean = [...mean];
    variance = [...variance];
  }
  assert.equal(bn.runningMean!.isDisposed, false);
  await expectClose(bn.runningMean!, mean, { atol: 1e-12 });
  await expectClose(bn.runningVar!, variance, { atol: 1e-12 });
  assert.equal(await scalar(bn.numBatchesTracked!), 2);
  // The eval forward reads the surviving statistics.
  bn.eval();
  const y = bn.call(g.tensor([[mean[0], mean[1]]], { dtype: FLOAT }));
  await expectClose(y, [0, 0], { atol: 1e-12 });
});

test('BatchNorm with momentum null counts batches on the device across scopes (cumulative average)', async () => {
  const bn = new nn.BatchNorm1d(1, { momentum: null, affine: false, dtype: FLOAT });
  const batches = [[1, 3], [5, 7], [10, 20]];
  for (const b of batches) g.scope(() => void bn.call(g.tensor(b.map((v) => [v]), { dtype: FLOAT })));
  const means = batches.map((b) => (b[0] + b[1]) / 2);
  await expectClose(bn.runningMean!, [means.reduce((a, b) => a + b) / 3], { atol: 1e-12 });
  assert.equal(await scalar(bn.numBatchesTracked!), 3);
});

test('a model built inside a scope keeps its parameters and buffers after it', () => {
  const model = g.scope(() => new nn.Sequential(new nn.Linear(3, 2), new nn.BatchNorm1d(2)));
  for (const p of model.parameters()) assert.equal(p.isDisposed, false, p.name);
  for (const b of model.buffers()) assert.equal(b.isDisposed, false);
  const y = model.call(g.ones([4, 3]));
  assert.deepEqual(y.shape, [4, 2]);
});

test('Parameter shares the buffer of the tensor it wraps (no copy)', async () => {
  const t = g.zeros([2]);
  const p = new nn.Parameter(t);
  t.assign([5, 6]);
  assert.deepEqual(await values(p), [5, 6]);
  t.dispose(); // the parameter holds its own reference to the storage
  assert.deepEqual(await values(p), [5, 6]);
});

// The subject is the conversion float32 → float64 (the only other float dtype): needs float64.
test('Module.to keeps tensor identity, converts values, and the result survives scopes', NEEDS_FLOAT64, async () => {
  const lin = new nn.Linear(2, 2);
  const w = lin.weight;
  const before = await values(w);
  g.scope(() => void lin.to('float64'));
  assert.equal(lin.weight, w);
  assert.equal(w.dtype, 'float64');
  assert.equal(w.isDisposed, false);
  assert.deepEqual(await values(w), before);
});

test('weightNorm: the computed weight survives the scope of the forward that made it', () => {
  const lin = nn.weightNorm(new nn.Linear(3, 2));
  g.scope(() => void lin.call(g.ones([1, 3])));
  assert.equal(lin.weight.isDisposed, false);
  assert.deepEqual(lin.weight.shape, [2, 3]);
});

test('Module.dispose and Optimizer.dispose free every parameter, gradient, buffer and slot at once', () => {
  const before = g.memory();
  // Built in a scope, so that initializers' temporaries are gone and only the state is counted.
  const { model, opt } = g.scope(() => {
    const model = new nn.Sequential(new nn.Linear(3, 4, { dtype: FLOAT }), new nn.BatchNorm1d(4, { dtype: FLOAT }), new nn.PReLU({ dtype: FLOAT }));
    return { model, opt: new g.optim.Adam(model.parameters()) };
  });
  g.scope(() => {
    opt.zeroGrad();
    model.call(g.ones([5, 3], { dtype: FLOAT })).sum().backward();
    opt.step();
  });
  const params = model.parameters();
  // Each of the 5 parameters has a gradient and two Adam slots; BatchNorm has 3 buffers.
  assert.equal(g.memory().tensorBuffers - before.tensorBuffers, 5 * 4 + 3);
  opt.dispose();
  model.dispose();
  assert.deepEqual(g.memory(), before);
  for (const p of params) assert.ok(p.isDisposed && p.grad === null);
  assert.throws(() => opt.step(), /Adam: step\(\) after dispose\(\)/);
  assert.throws(() => opt.stateDict(), /Adam: stateDict\(\) after dispose\(\)/);
  assert.throws(() => opt.addParamGroup({ params: [g.zeros([2], { dtype: FLOAT, requiresGrad: true })] }), /addParamGroup\(\) after dispose\(\)/);
  assert.throws(() => params[0].persist(), /was disposed \(by dispose\(\), Module\/Optimizer.dispose\(\)/);
});

test('weightNorm frees each computed weight once backward has used it; two forwards before one backward still work', async () => {
  const lin = g.scope(() => nn.weightNorm(new nn.Linear(3, 2, { dtype: FLOAT })));
  const x = g.ones([4, 3], { dtype: FLOAT });
  const step = () => g.scope(() => {
    // As the Trainer does: free the last step's gradients, then drop them.
    for (const p of lin.parameters()) p.grad?.dispose();
    lin.zeroGrad();
    lin.call(x).sum().backward();
  });
  step();
  step();
  const base = g.memory().tensorBuffers;
  for (let i = 0; i < 10; i++) step();
  assert.equal(g.memory().tensorBuffers, base, 'no computed weight left behind per step');
  // The first forward's weight has a pending graph when the second forward runs: it must live.
  const grads = (twice: boolean) => g.scope(() => {
    for (const p of lin.parameters()) p.grad?.dispose();
    lin.zeroGrad();
    const y = lin.call(x).sum();
    (twice ? y.add(lin.call(x).sum()) : y.mul(2)).backward();
    return lin.parameters().map((p) => p.grad!.detach());
  });
  const [twice, once] = [grads(true), grads(false)];
  for (let i = 0; i < twice.length; i++) await expectClose(twice[i], await values(once[i]));
});
