/** exportOnnx's contract: the protobuf it writes, its options, its errors and the converter registry. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { nn, manualSeed, randn, Random, type Tensor } from '../../src/index.js';
import { Module, type AnyModule } from '../../src/nn/module.js';
import { decodeOnnxModel, exportOnnx, readFloatTensor, registerOnnxConverter, OnnxDataType, onnxAttr } from '../../src/io/onnx/index.js';
import { assertThrowsMsg } from '../helpers.js';
import { compareWithOrt, maxAbsDiff } from './onnx-helpers.js';

function smallCnn(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(4 * 4 * 4, 3),
  );
}

test('round trip: the bytes decode with the schema into the expected ops, initializers, opset and symbolic batch', () => {
  manualSeed(1);
  const model = smallCnn();
  const bytes = exportOnnx(model, { inputShape: [1, 1, 8, 8] });
  const m = decodeOnnxModel(bytes);
  assert.equal(m.irVersion, 8);
  assert.equal(m.producerName, 'gradkit');
  assert.deepEqual(m.opsetImport.map((o) => o.version), [17]);
  assert.deepEqual(m.graph.node.map((n) => n.opType), ['Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'Flatten', 'Gemm']);
  // The last node writes the graph output directly; each node reads what the one before wrote.
  const nodes = m.graph.node;
  assert.equal(nodes[0].input[0], 'input');
  for (let i = 1; i < nodes.length; i++) assert.equal(nodes[i].input[0], nodes[i - 1].output[0]);
  assert.deepEqual(nodes[nodes.length - 1].output, ['output']);
  // Initializers are the state dict (minus numBatchesTracked), same names, shapes and float32 values.
  const state = model.stateDict();
  const inits = new Map(m.graph.initializer.map((t) => [t.name, t]));
  assert.deepEqual([...inits.keys()].sort(), [...state.keys()].filter((k) => !k.endsWith('numBatchesTracked')).sort());
  for (const [name, t] of inits) {
    assert.equal(t.dataType, OnnxDataType.FLOAT, name);
    assert.deepEqual(t.dims, [...state.get(name)!.shape], name);
    assert.deepEqual(Array.from(readFloatTensor(t)), Array.from(state.get(name)!.dataSync()), name);
  }
  const conv = nodes[0].attribute;
  assert.deepEqual(conv.find((a) => a.name === 'pads')?.ints, [1, 1, 1, 1]);
  assert.deepEqual(conv.find((a) => a.name === 'kernel_shape')?.ints, [3, 3]);
  const dims = (v: (typeof m.graph.input)[number]): unknown[] => v.type.tensorType.shape.dim.map((d) => d.dimParam ?? d.dimValue);
  assert.deepEqual(dims(m.graph.input[0]), ['batch', 1, 8, 8]);
  assert.deepEqual(dims(m.graph.output[0]), ['batch', 3]);
});

test('dynamicBatch false fixes the batch size; custom input and output names; producer and doc string', async () => {
  manualSeed(2);
  const model = new nn.Sequential(new nn.Linear(3, 2), new nn.Tanh());
  const bytes = exportOnnx(model, { inputShape: [2, 3], dynamicBatch: false, inputName: 'x', outputName: 'probs', producerName: 'me', docString: 'a test' });
  const m = decodeOnnxModel(bytes);
  assert.deepEqual(m.graph.input[0].type.tensorType.shape.dim, [{ dimValue: 2 }, { dimValue: 3 }]);
  assert.equal(m.graph.input[0].name, 'x');
  assert.equal(m.graph.output[0].name, 'probs');
  assert.equal(m.producerName, 'me');
  assert.equal(m.docString, 'a test');
  const session = await ort.InferenceSession.create(bytes);
  const x = randn([2, 3], { rng: new Random(3) });
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x.dataSync()), [2, 3]) });
  assert.ok(maxAbsDiff(out.probs.data as Float32Array, (model.eval().call(x) as Tensor).dataSync()) < 1e-6);
  // Another batch size is refused by ONNX Runtime: the graph's batch axis is fixed at 2.
  await assert.rejects(session.run({ x: new ort.Tensor('float32', new Float32Array(9), [3, 3]) }));
});

test('a model that returns its input still gets a graph output (an Identity node)', async () => {
  const { maxDiff, bytes } = await compareWithOrt(new nn.Sequential(new nn.Dropout()), [1, 4], { runShape: [3, 4] });
  assert.equal(maxDiff, 0);
  assert.deepEqual(decodeOnnxModel(bytes).graph.node.map((n) => [n.opType, n.input[0], n.output[0]]), [['Identity', 'input', 'output']]);
});

test('a float64 model is exported as float32 (documented): float initializers, outputs within 1e-4', async () => {
  manualSeed(4);
  const model = new nn.Sequential(new nn.Linear(5, 6), new nn.BatchNorm1d(6), new nn.GELU(), new nn.Linear(6, 2)).to('float64');
  const bytes = exportOnnx(model, { inputShape: [1, 5] });
  assert.ok(decodeOnnxModel(bytes).graph.initializer.every((t) => t.dataType === OnnxDataType.FLOAT));
  const { maxDiff } = await compareWithOrt(model, [1, 5], { input: randn([4, 5], { rng: new Random(5), dtype: 'float64' }) });
  assert.ok(maxDiff < 1e-4, `max abs diff ${maxDiff}`);
});

test('tied weights become one initializer', () => {
  manualSeed(6);
  const a = new nn.Linear(4, 4);
  const b = new nn.Linear(4, 4);
  b.weight = a.weight;
  const m = decodeOnnxModel(exportOnnx(new nn.Sequential(a, new nn.ReLU(), b), { inputShape: [1, 4] }));
  const gemms = m.graph.node.filter((n) => n.opType === 'Gemm');
  assert.equal(gemms[0].input[1], gemms[1].input[1]);
  assert.equal(m.graph.initializer.filter((t) => t.name.endsWith('weight')).length, 1);
});

class Scale extends Module {
  constructor(readonly factor: number) { super(); }
  override forward(x: Tensor): Tensor { return x.mul(this.factor); }
}

class Encoder extends Module {
  encoder: nn.Sequential;
  constructor(last: AnyModule) {
    super();
    this.encoder = new nn.Sequential(new nn.Linear(4, 4), new nn.ReLU(), new nn.Linear(4, 4), last);
  }
  override forward(x: Tensor): Tensor { return this.encoder.call(x); }
}
registerOnnxConverter(Encoder, (m, x, ctx) => ctx.convert(m.encoder, x, 'encoder').name);

test('an unsupported module is named by its dotted path and class', () => {
  manualSeed(7);
  // The forward fails on this input too (an LSTM wants a sequence), but the missing converter is reported.
  assertThrowsMsg(() => exportOnnx(new Encoder(new nn.LSTM(4, 3)), { inputShape: [1, 4] }), /exportOnnx: no ONNX converter for module 'encoder\.3' \(LSTM\); register one with registerOnnxConverter/);
  // A module that runs fine but has no converter.
  assertThrowsMsg(() => exportOnnx(new Encoder(new Scale(2)), { inputShape: [1, 4] }), /no ONNX converter for module 'encoder\.3' \(Scale\)/);
  assertThrowsMsg(() => exportOnnx(new Scale(2), { inputShape: [1, 4] }), /no ONNX converter for the root module \(Scale\)/);
});

test('registerOnnxConverter: a user converter is used, and subclasses that keep forward() inherit converters', async () => {
  manualSeed(8);
  registerOnnxConverter(Scale, (m, x, ctx) => ctx.node('Mul', [x.name, ctx.scalar(m.factor)]));
  const { maxDiff } = await compareWithOrt(new Encoder(new Scale(-1.5)), [1, 4], { runShape: [3, 4] });
  assert.ok(maxDiff < 1e-5, `max abs diff ${maxDiff}`);
  class MyStack extends nn.Sequential {}
  assert.ok((await compareWithOrt(new MyStack(new nn.Linear(3, 2), new nn.Sigmoid()), [1, 3])).maxDiff < 1e-5);
  // A subclass with its own forward computes something else: no inherited converter.
  class Shifted extends nn.ReLU {
    override forward(x: Tensor): Tensor { return super.forward(x).add(1); }
  }
  assertThrowsMsg(() => exportOnnx(new nn.Sequential(new Shifted()), { inputShape: [1, 3] }), /module '0' \(Shifted\)/);
  // A converter that returns no value name is caught.
  class Bad extends Module {
    override forward(x: Tensor): Tensor { return x; }
  }
  registerOnnxConverter(Bad, () => '' as string);
  assertThrowsMsg(() => exportOnnx(new Bad(), { inputShape: [1, 3] }), /converter for the root module \(Bad\) must return the output value's name/);
  // attributes are typed: an INT attribute needs a whole number.
  class Bad2 extends Module {
    override forward(x: Tensor): Tensor { return x; }
  }
  registerOnnxConverter(Bad2, (_m, x, ctx) => ctx.node('Flatten', [x.name], { axis: onnxAttr.int(1.5) }));
  assertThrowsMsg(() => exportOnnx(new Bad2(), { inputShape: [1, 3] }), /attribute 'axis' must be a whole number, got 1.5/);
});

test('a wrong inputShape is reported with the module that rejected it', () => {
  manualSeed(9);
  assertThrowsMsg(() => exportOnnx(smallCnn(), { inputShape: [1, 28, 28] }),
    /exportOnnx: the model cannot run on inputShape \[1, 28, 28\] \(failed in module '0' \(Conv2d\)\)/, /expected input \[N, 1, H, W\], got \[1, 28, 28\]/);
  assertThrowsMsg(() => exportOnnx(smallCnn(), { inputShape: [1, 1, 10, 10] }), /failed in module '5' \(Linear\)/);
});

test('bad options are clear errors', () => {
  const m = new nn.Linear(2, 2);
  assertThrowsMsg(() => exportOnnx(m, { inputShape: [] }), /inputShape must be a non-empty list of positive whole numbers/);
  assertThrowsMsg(() => exportOnnx(m, { inputShape: [1, 0] }), /inputShape .* got \[1,0\]/);
  assertThrowsMsg(() => exportOnnx(m, undefined as never), /needs options \{ inputShape/);
  assertThrowsMsg(() => exportOnnx(m, { inputShape: [1, 2], opsetVersion: 13 }), /opsetVersion must be one of 17, 18, 19, 20, 21, got 13/);
  assertThrowsMsg(() => exportOnnx(m, { inputShape: [1, 2], inputName: 'a', outputName: 'a' }), /inputName and outputName must differ/);
  assertThrowsMsg(() => exportOnnx(null as never, { inputShape: [1, 2] }), /expected an nn.Module, got null/);
  assertThrowsMsg(() => exportOnnx(new nn.AdaptiveAvgPool2d(4), { inputShape: [1, 2, 6, 6] }), /root module \(AdaptiveAvgPool2d\): output size 4x4 does not divide the input 6x6/);
  assertThrowsMsg(() => exportOnnx(new nn.Flatten(0), { inputShape: [2, 3] }), /merges the batch axis; export with dynamicBatch: false/);
  assert.ok(exportOnnx(new nn.Flatten(0), { inputShape: [2, 3], dynamicBatch: false }).length > 0);
});

test('a failed export leaves the train/eval modes as they were', () => {
  const model = smallCnn();
  model.train();
  model.at(1).eval(); // mixed modes, e.g. a frozen BatchNorm
  const before = [...model.modules()].map((m) => m.training);
  assert.throws(() => exportOnnx(model, { inputShape: [1, 3, 8, 8] }));
  assert.deepEqual([...model.modules()].map((m) => m.training), before);
  exportOnnx(model, { inputShape: [1, 1, 8, 8] });
  assert.deepEqual([...model.modules()].map((m) => m.training), before);
});

test('src/io/onnx imports nothing from Node (the io module stays browser-safe)', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const root = new URL('../../src/io/onnx/', import.meta.url);
  const files = readdirSync(root, { recursive: true }).map(String).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 10, `found ${files.length} files`);
  for (const f of files) {
    const src = readFileSync(new URL(f, root), 'utf8');
    assert.doesNotMatch(src, /from '(node:|fs'|path'|os')|require\(/, `${f} imports a Node module`);
  }
});
