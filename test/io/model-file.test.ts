import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nn, manualSeed, randn, randint, Random, type Tensor, tensor, train, type DataArray } from '../../src/index.js';
import type { AnyModule } from '../../src/nn/index.js';
import { loadModelWeights, readModelFile, saveModel, saveSafetensors, loadSafetensors, saveModelFile, loadModelFile, MODEL_FORMAT } from '../../src/io/index.js';
import { assertThrowsMsg } from '../helpers.js';

/** Moves every float parameter/buffer away from its init, so a load that did nothing would show. */
function perturb(model: AnyModule, seed: number): void {
  const rng = new Random(seed);
  for (const [, t] of [...model.namedParameters(), ...model.namedBuffers()]) {
    if (t.dtype !== 'float32' && t.dtype !== 'float64') continue;
    const v = t.dataSync().slice() as DataArray;
    for (let i = 0; i < v.length; i++) v[i] = v[i] + 0.3 * rng.normal() + (t.shape.length === 1 ? 0.5 : 0);
    // Running variances must stay positive.
    for (let i = 0; i < v.length; i++) v[i] = Math.abs(v[i]) + 0.05;
    t.assign(v);
  }
}

interface Case {
  name: string;
  make: () => AnyModule;
  input: () => unknown[];
  out: (m: AnyModule, inputs: unknown[]) => Tensor;
}

const call = (m: AnyModule, xs: unknown[]): Tensor => m.call(...xs) as Tensor;
const img = (c: number): (() => Tensor[]) => () => [randn([2, c, 6, 6], { rng: new Random(1) })];

const cases: Case[] = [
  { name: 'Linear', make: () => new nn.Linear(5, 3), input: () => [randn([4, 5], { rng: new Random(1) })], out: call },
  { name: 'Conv2d', make: () => new nn.Conv2d(3, 4, 3, { padding: 1, stride: 2 }), input: img(3), out: call },
  { name: 'BatchNorm2d (running stats)', make: () => new nn.BatchNorm2d(3), input: img(3), out: call },
  { name: 'BatchNorm1d', make: () => new nn.BatchNorm1d(4), input: () => [randn([5, 4], { rng: new Random(1) })], out: call },
  { name: 'LayerNorm', make: () => new nn.LayerNorm([4]), input: () => [randn([3, 4], { rng: new Random(1) })], out: call },
  { name: 'GroupNorm', make: () => new nn.GroupNorm(2, 4), input: img(4), out: call },
  { name: 'InstanceNorm2d', make: () => new nn.InstanceNorm2d(3, { affine: true }), input: img(3), out: call },
  { name: 'Embedding', make: () => new nn.Embedding(10, 4), input: () => [randint(0, 10, [2, 3], { rng: new Random(1) })], out: call },
  { name: 'PReLU', make: () => new nn.PReLU({ numParameters: 3 }), input: img(3), out: call },
  { name: 'Maxout', make: () => new nn.Maxout(4, 3), input: () => [randn([2, 4], { rng: new Random(1) })], out: call },
  { name: 'RNN', make: () => new nn.RNN(3, 4), input: () => [randn([2, 5, 3], { rng: new Random(1) })], out: (m, xs) => (m.call(...xs) as { output: Tensor }).output },
  { name: 'LSTM (2 layers, bidirectional)', make: () => new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true }), input: () => [randn([2, 5, 3], { rng: new Random(1) })], out: (m, xs) => (m.call(...xs) as { output: Tensor }).output },
  { name: 'GRU', make: () => new nn.GRU(3, 4), input: () => [randn([2, 5, 3], { rng: new Random(1) })], out: (m, xs) => (m.call(...xs) as { hidden: Tensor }).hidden },
  { name: 'MultiheadAttention', make: () => new nn.MultiheadAttention(8, 2), input: () => [randn([2, 3, 8], { rng: new Random(1) })], out: (m, xs) => (m.call(...xs) as { output: Tensor }).output },
  { name: 'TransformerEncoderLayer', make: () => new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 }), input: () => [randn([2, 3, 8], { rng: new Random(1) })], out: call },
  { name: 'BasicBlock (projection)', make: () => new nn.BasicBlock(3, 4, { stride: 2 }), input: img(3), out: call },
  { name: 'ResNet', make: () => nn.resnet({ inChannels: 1, numClasses: 3, widths: [4, 8], blocksPerStage: 1 }), input: img(1), out: call },
  { name: 'weightNorm(Linear)', make: () => nn.weightNorm(new nn.Linear(4, 3)), input: () => [randn([2, 4], { rng: new Random(1) })], out: call },
  {
    name: 'Sequential CNN',
    make: () => new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Dropout({ p: 0.5 }), new nn.Linear(16, 2)),
    input: img(1),
    out: call,
  },
];

for (const c of cases) {
  test(`model file: save → load gives identical outputs for ${c.name}`, () => {
    manualSeed(11);
    const a = c.make();
    perturb(a, 3);
    // A training-mode pass moves BatchNorm running statistics (and its batch counter).
    a.train();
    c.out(a, c.input());
    a.eval();
    const bytes = saveModel(a);
    manualSeed(99);
    const b = c.make();
    b.eval();
    const xs = c.input();
    const before = c.out(b, xs).dataSync();
    const ya = c.out(a, xs).dataSync();
    assert.notDeepEqual([...before], [...ya], 'a fresh model must differ, or the test proves nothing');
    loadModelWeights(b, bytes);
    assert.deepEqual([...c.out(b, xs).dataSync()], [...ya]);
    for (const [k, t] of a.stateDict()) assert.deepEqual([...b.stateDict().get(k)!.dataSync()], [...t.dataSync()], k);
  });
}

test('model file: architecture, preprocessing and metadata ride in __metadata__ as JSON strings', () => {
  const m = new nn.Linear(2, 2);
  const arch = { kind: 'linear', inFeatures: 2, outFeatures: 2, nested: [1, { a: null }] };
  const pre = { kind: 'standardize', mean: [0.5, 1], std: [2, 3] };
  const bytes = saveModel(m, { architecture: arch, preprocessing: pre, metadata: { author: 'test' } });
  const raw = loadSafetensors(bytes);
  assert.equal(raw.metadata.format, MODEL_FORMAT);
  assert.equal(raw.metadata.architecture, JSON.stringify(arch));
  assert.equal(raw.metadata.author, 'test');
  const file = readModelFile(bytes);
  assert.deepEqual(file.architecture, arch);
  assert.deepEqual(file.preprocessing, pre);
  assert.deepEqual([...file.stateDict.keys()].sort(), ['bias', 'weight']);
  assertThrowsMsg(() => saveModel(m, { metadata: { format: 'x' } }), /saveModel/, /'format' is reserved/);
  assertThrowsMsg(() => saveModel(m, { architecture: { big: 1n } as never }), /architecture is not JSON-serializable/);
});

test('model file: loading is strict and all-or-nothing', () => {
  manualSeed(1);
  const model = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4), new nn.Linear(4, 2));
  const original = model.stateDict();
  const snapshot = (): number[][] => [...model.stateDict().values()].map((t) => [...t.dataSync()]);
  const before = snapshot();
  // Every float entry 7 (integer buffers such as BatchNorm's batch counter kept as they are).
  const good: Record<string, Tensor> = Object.fromEntries([...original].map(([k, t]) => [k, t.dtype === 'float32' ? t.mul(0).add(7) : t]));

  const missing = { ...good };
  delete missing['2.bias'];
  assertThrowsMsg(() => loadModelWeights(model, saveSafetensors(missing)), /loadModelWeights/, /missing from the file: 2\.bias/, /Nothing was loaded/);
  assert.deepEqual(snapshot(), before, 'a failed load changed nothing');

  assertThrowsMsg(() => loadModelWeights(model, saveSafetensors({ ...good, 'head.weight': tensor([1]) })), /not in the model: head\.weight/);
  assert.deepEqual(snapshot(), before);

  assertThrowsMsg(() => loadModelWeights(model, saveSafetensors({ ...good, '0.weight': tensor([[1, 2, 3]]) })), /'0\.weight' has shape \[1, 3\] in the file but \[4, 3\] in the model/);
  assert.deepEqual(snapshot(), before);

  assertThrowsMsg(() => loadModelWeights(model, saveSafetensors({ ...good, '0.bias': tensor([1, 2, 3, 4], { dtype: 'int32' }) })), /'0\.bias' is int32 in the file but float32/);
  assert.deepEqual(snapshot(), before);

  const truncated = saveModel(model).slice(0, 50);
  assertThrowsMsg(() => loadModelWeights(model, truncated), /loadSafetensors/);
  assert.deepEqual(snapshot(), before);

  // A float64 file loads into a float32 model (values cast), as PyTorch's load_state_dict does.
  const f64 = Object.fromEntries(Object.entries(good).map(([k, t]) => [k, t.dtype === 'float32' ? t.cast('float64') : t]));
  loadModelWeights(model, saveSafetensors(f64));
  assert.equal((model.at(0) as nn.Linear).weight.dtype, 'float32');
  assert.deepEqual([...(model.at(0) as nn.Linear).weight.dataSync()], new Array(12).fill(7));
  assertThrowsMsg(() => loadModelWeights({} as AnyModule, saveModel(model)), /expected an nn.Module/);
});

test('model file: written and read through a Storage (memory here; nodeStorage() on Node)', async () => {
  manualSeed(2);
  const a = new nn.Linear(3, 2);
  const storage = train.memoryStorage();
  await saveModelFile(storage, 'models/a.safetensors', a, { architecture: { kind: 'linear' } });
  const b = new nn.Linear(3, 2);
  const file = await loadModelFile(storage, 'models/a.safetensors', b);
  assert.deepEqual(file.architecture, { kind: 'linear' });
  assert.deepEqual([...b.weight.dataSync()], [...a.weight.dataSync()]);
});
