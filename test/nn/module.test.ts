import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertClose, assertThrowsMsg, expectClose, expectGrad, FLOAT, NEEDS_FLOAT64, scalar, values } from '../helpers.js';

const { nn } = g;

class MLP extends nn.Module {
  layers = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
  scale = new nn.Parameter(g.ones([2]));
  override forward(x: g.Tensor): g.Tensor {
    return this.layers.call(x).mul(this.scale);
  }
}

test('parameters are found by registration and by field assignment, with dotted names', () => {
  g.manualSeed(1);
  const m = new MLP();
  const names = [...m.namedParameters()].map(([n]) => n);
  assert.deepEqual(names, ['scale', 'layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']);
  assert.equal(m.parameters().length, 5);
  assert.equal(m.numParameters(), 2 + 12 + 4 + 8 + 2);
  m.scale.requiresGrad = false;
  assert.equal(m.numParameters({ trainableOnly: true }), 12 + 4 + 8 + 2);
  assert.deepEqual([...m.namedModules()].map(([n]) => n), ['', 'layers', 'layers.0', 'layers.1', 'layers.2']);
  assert.equal([...m.children()].length, 1);
  // Biases are tagged for optimizers that skip weight decay.
  assert.ok((m.layers.at(0) as g.nn.Linear).bias!.tags.has('noDecay'));
  assert.ok(!((m.layers.at(0) as g.nn.Linear).weight as g.Parameter).tags.has('noDecay'));
});

test('a shared (tied) parameter is listed once; re-assigning a field updates the registration', () => {
  const a = new nn.Linear(2, 2);
  const b = new nn.Linear(2, 2);
  b.weight = a.weight;
  const s = new nn.Sequential(a, b);
  assert.equal(s.parameters().length, 3);
  const fresh = new nn.Parameter(g.zeros([2]));
  a.bias = fresh;
  assert.ok(s.parameters().includes(fresh));
});

test('explicit registration over an existing field updates the field too', () => {
  class M extends nn.Module {
    w = new nn.Parameter(g.zeros([1]));
  }
  const m = new M();
  const other = new nn.Parameter(g.ones([2]));
  m.registerParameter('w', other);
  assert.equal(m.w, other);
  assert.deepEqual(m.parameters(), [other]);
});

test('names are validated', () => {
  const m = new nn.Module();
  assertThrowsMsg(() => m.registerParameter('a.b', new nn.Parameter(g.zeros([1]))), /must not contain '\.'/);
  assertThrowsMsg(() => m.registerParameter('', new nn.Parameter(g.zeros([1]))), /non-empty/);
  m.registerBuffer('stat', g.zeros([1]));
  assertThrowsMsg(() => m.registerParameter('stat', new nn.Parameter(g.zeros([1]))), /already registered as a buffer/);
  assertThrowsMsg(() => m.registerParameter('w', g.zeros([1]) as g.Parameter), /must be a Parameter/);
  assertThrowsMsg(() => m.call(g.zeros([1])), /no forward/);
  assertThrowsMsg(() => m.registerParameter('training', new nn.Parameter(g.zeros([1]))), /'training' is already an attribute of Module \(a boolean\)/);
  assertThrowsMsg(() => m.registerModule('forward', new nn.ReLU()), /'forward' is already an attribute/);
});

test('buffers: persistent ones are saved, non-persistent ones are not', () => {
  const m = new nn.Module();
  m.registerBuffer('running', g.tensor([1, 2]));
  m.registerBuffer('scratch', g.tensor([3]), { persistent: false });
  assert.deepEqual([...m.namedBuffers()].map(([n]) => n), ['running', 'scratch']);
  assert.equal(m.buffers().length, 2);
  assert.deepEqual([...m.stateDict().keys()], ['running']);
});

test('train/eval flips the flag everywhere; apply visits children first', () => {
  const m = new MLP();
  m.eval();
  for (const mod of m.modules()) assert.equal(mod.training, false);
  m.train();
  for (const mod of m.modules()) assert.equal(mod.training, true);
  const order: string[] = [];
  m.apply((x) => order.push(x.constructor.name));
  assert.deepEqual(order, ['Linear', 'ReLU', 'Linear', 'Sequential', 'MLP']);
});

test('forward hooks see module, inputs and output; the remover removes; a return replaces the output', async () => {
  const lin = new nn.Linear(2, 3);
  const seen: number[][] = [];
  const remove = lin.registerForwardHook((mod, inputs, out) => {
    assert.equal(mod, lin);
    seen.push([...inputs[0].shape, ...out.shape]);
  });
  const x = g.ones([5, 2]);
  lin.call(x);
  assert.deepEqual(seen, [[5, 2, 5, 3]]);
  remove();
  lin.call(x);
  assert.equal(seen.length, 1);
  const r2 = lin.registerForwardHook((_m, _i, out) => out.mul(0));
  await expectClose(lin.call(x), new Array(15).fill(0));
  r2();
  const r3 = lin.registerForwardPreHook((_m, inputs) => [inputs[0].mul(0)]);
  const bias = await values(lin.bias!);
  await expectClose(lin.call(x), [...bias, ...bias, ...bias, ...bias, ...bias]);
  r3();
});

test('stateDict round-trips into a fresh model with identical outputs; it is a copy', async () => {
  g.manualSeed(2);
  const a = new MLP();
  const x = g.randn([4, 3]);
  const ya = await a.call(x).data();
  const sd = a.stateDict();
  assert.deepEqual([...sd.keys()], ['scale', 'layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']);
  g.manualSeed(99);
  const b = new MLP();
  assert.notDeepEqual(await b.call(x).data(), ya);
  const weightBefore = (b.layers.at(0) as g.nn.Linear).weight;
  b.loadStateDict(sd);
  assert.equal((b.layers.at(0) as g.nn.Linear).weight, weightBefore, 'loaded in place');
  assert.deepEqual(await b.call(x).data(), ya);
  // Changing the model afterwards does not change the saved dict.
  (a.layers.at(0) as g.nn.Linear).weight.assign(new Float32Array(12));
  assert.notDeepEqual(await sd.get('layers.0.weight')!.data(), new Float32Array(12));
  // Plain objects load too.
  b.loadStateDict(Object.fromEntries(sd));
  assert.deepEqual(await b.call(x).data(), ya);
});

test('loadStateDict lists missing, unexpected and wrong-shaped keys; non-strict reports them', async () => {
  const m = new MLP();
  const sd = m.stateDict();
  sd.delete('scale');
  sd.set('extra.weight', g.zeros([1]));
  sd.set('layers.0.bias', g.zeros([5]));
  assertThrowsMsg(() => m.loadStateDict(sd), /missing keys: scale/, /unexpected keys: extra\.weight/, /wrong shapes: layers\.0\.bias \(checkpoint \[5\], model \[4\]\)/);
  sd.set('layers.0.bias', g.zeros([4]));
  const r = m.loadStateDict(sd, { strict: false });
  assert.deepEqual(r.missingKeys, ['scale']);
  assert.deepEqual(r.unexpectedKeys, ['extra.weight']);
  await expectClose((m.layers.at(0) as g.nn.Linear).bias!, [0, 0, 0, 0]);
});

test('toString is a PyTorch-like tree', () => {
  const s = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2, { bias: false }));
  assert.equal(
    s.toString(),
    'Sequential(\n  (0): Linear(inFeatures=3, outFeatures=4, bias=true)\n  (1): ReLU()\n  (2): Linear(inFeatures=4, outFeatures=2, bias=false)\n)',
  );
  const m = new MLP();
  assert.match(m.toString(), /^MLP\(\n  \(layers\): Sequential\(\n    \(0\): Linear/);
});

test('zeroGrad clears gradients', () => {
  g.manualSeed(3);
  const m = new MLP();
  m.call(g.randn([2, 3])).sum().backward();
  assert.ok(m.parameters().every((p) => p.grad !== null));
  m.zeroGrad();
  assert.ok(m.parameters().every((p) => p.grad === null));
});

// The subject is float64 storage itself, which webgpu does not have.
test('to(float64) converts in place', NEEDS_FLOAT64, () => {
  g.manualSeed(3);
  const m = new MLP();
  const w = (m.layers.at(0) as g.nn.Linear).weight;
  const before = Array.from(w.dataSync());
  m.to('float64');
  assert.equal((m.layers.at(0) as g.nn.Linear).weight, w);
  assert.equal(w.dtype, 'float64');
  assert.ok(w.dataSync() instanceof Float64Array);
  assertClose(w, before, { atol: 0, rtol: 0 });
  assert.equal(m.call(g.randn([2, 3], { dtype: 'float64' })).dtype, 'float64');
});

test('ModuleList and ModuleDict register their children', () => {
  const list = new nn.ModuleList([new nn.Linear(2, 2), new nn.Linear(2, 2)]);
  assert.equal(list.length, 2);
  assert.deepEqual([...list.namedParameters()].map(([n]) => n), ['0.weight', '0.bias', '1.weight', '1.bias']);
  const dict = new nn.ModuleDict({ enc: new nn.Linear(2, 3), dec: new nn.Linear(3, 2) });
  assert.deepEqual([...dict.namedParameters()].map(([n]) => n), ['enc.weight', 'enc.bias', 'dec.weight', 'dec.bias']);
  assert.equal(dict.get('enc').outFeatures, 3);
  assertThrowsMsg(() => dict.get('nope'), /no module named 'nope'; have enc, dec/);
  assertThrowsMsg(() => list.at(5), /out of range/);
});

test('Linear: hand-checked forward and gradCheck on input, weight and bias', async () => {
  const lin = new nn.Linear(2, 3, { dtype: FLOAT });
  lin.weight.assign([1, 2, 3, 4, 5, 6]);
  lin.bias!.assign([0.5, -1, 0]);
  const y = lin.call(g.tensor([[1, -1], [2, 0.5]], { dtype: FLOAT }));
  // rows of W: [1,2], [3,4], [5,6]
  await expectClose(y, [1 - 2 + 0.5, 3 - 4 - 1, 5 - 6, 2 + 1 + 0.5, 6 + 2 - 1, 10 + 3]);
  const x = g.randn([4, 2], { dtype: FLOAT, seed: 5 });
  await expectGrad((xx, w, b) => nn.functional.linear(xx, w, b).tanh().sum(), [x, lin.weight, lin.bias!]);
  // Batched (3-D) input, against the plain composition x·Wᵀ + b, in FLOAT (float64 on CPU backends) and float32.
  const x3 = g.randn([2, 3, 2], { dtype: FLOAT, seed: 6 });
  await expectClose(lin.call(x3), await values(x3.matmul(lin.weight.T).add(lin.bias!)), { atol: 1e-12 });
  await expectGrad((xx, w, b) => nn.functional.linear(xx, w, b).square().sum(), [x3, lin.weight, lin.bias!]);
  const big = new nn.Linear(37, 29, { rng: new g.Random(1) });
  const xb = g.randn([5, 37], { seed: 7 });
  await expectClose(big.call(xb), await values(xb.matmul(big.weight.T).add(big.bias!)), { atol: 1e-4 });
  const xl = g.randn([5, 37], { seed: 8, requiresGrad: true });
  big.call(xl).square().sum().backward();
  const gy = big.call(xl).mul(2).detach();
  await expectClose(xl.grad!, await values(gy.matmul(big.weight)), { atol: 1e-3, rtol: 1e-4 });
  await expectClose(big.weight.grad!, await values(gy.T.matmul(xl.detach())), { atol: 1e-3, rtol: 1e-4 });
  assertThrowsMsg(() => lin.call(g.ones([2, 5])), /Linear/, /\[\.\.\., 2\]/, /\[2, 5\]/);
  assertThrowsMsg(() => new nn.Linear(0, 2), /inFeatures must be a positive integer/);
});

test('stateDict round-trip of a conv/BatchNorm model includes buffers; outputs identical in eval', async () => {
  const build = (seed: number) => new nn.Sequential(
    new nn.Conv2d(2, 3, 3, { padding: 1, rng: new g.Random(seed) }), new nn.BatchNorm2d(3), new nn.ReLU(),
    new nn.Flatten(), new nn.Linear(3 * 4 * 4, 2, { rng: new g.Random(seed + 1) }),
  );
  const a = build(1);
  for (let i = 0; i < 3; i++) a.call(g.randn([4, 2, 4, 4], { seed: 10 + i, mean: 2 }));
  a.eval();
  const sd = a.stateDict();
  assert.deepEqual([...sd.keys()], ['0.weight', '0.bias', '1.weight', '1.bias', '1.runningMean', '1.runningVar', '1.numBatchesTracked', '4.weight', '4.bias']);
  const b = build(50).eval();
  const x = g.randn([2, 2, 4, 4], { seed: 20 });
  assert.notDeepEqual(await b.call(x).data(), await a.call(x).data());
  b.loadStateDict(sd);
  assert.deepEqual(await b.call(x).data(), await a.call(x).data());
  assert.equal(await scalar((b.at(1) as g.nn.BatchNorm2d).numBatchesTracked!), 3);
});

test('freeze/unfreeze set requiresGrad on every parameter', () => {
  const m = new MLP();
  m.layers.at(0).freeze();
  assert.equal(m.numParameters({ trainableOnly: true }), 2 + 8 + 2);
  const frozen = m.layers.at(0) as g.nn.Linear;
  m.call(g.randn([2, 3], { seed: 1 })).sum().backward();
  assert.equal((frozen.weight as g.Parameter).grad, null);
  m.unfreeze();
  assert.equal(m.numParameters({ trainableOnly: true }), m.numParameters());
});

test('reprs of the layers read like PyTorch', () => {
  const model = new nn.Sequential(
    new nn.Conv2d(3, 8, 3, { stride: 1, padding: 'same' }), new nn.BatchNorm2d(8), new nn.LeakyReLU(0.1), new nn.MaxPool2d(2),
    new nn.Dropout({ p: 0.25 }), new nn.GlobalAvgPool2d(), new nn.Linear(8, 4), new nn.GELU({ approximate: 'tanh' }), new nn.LayerNorm(4),
  );
  assert.equal(model.toString(), [
    'Sequential(',
    "  (0): Conv2d(3, 8, kernelSize=[3,3], stride=[1,1], padding='same', bias=true)",
    '  (1): BatchNorm2d(8, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)',
    '  (2): LeakyReLU(negativeSlope=0.1)',
    '  (3): MaxPool2d(kernelSize=[2,2], stride=[2,2], padding=[0,0])',
    '  (4): Dropout(p=0.25)',
    '  (5): GlobalAvgPool2d()',
    '  (6): Linear(inFeatures=8, outFeatures=4, bias=true)',
    "  (7): GELU(approximate='tanh')",
    '  (8): LayerNorm([4], eps=0.00001, elementwiseAffine=true)',
    ')',
  ].join('\n'));
  assert.equal(model.call(g.randn([2, 3, 6, 6], { seed: 3 })).shape.join(','), '2,4');
});
