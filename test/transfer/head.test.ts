import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nn, optim, data, manualSeed, randn, randint, Random, noGrad, tensor, type Tensor } from '../../src/index.js';
import { replaceHead, cutAt, extractFeatures, FeatureExtractor, layerwiseLrGroups, lrGroupsByName, freeze, grayscaleToRgb, conv1ToGrayscale } from '../../src/transfer/index.js';
import { assertClose, assertGrad, assertThrowsMsg } from '../helpers.js';

function cnn(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(),
    new nn.Sequential(new nn.Conv2d(4, 4, 3, { padding: 1 }), new nn.ReLU()),
    new nn.GlobalAvgPool2d({ flatten: true }), new nn.Linear(4, 3),
  );
}
const vals = (t: Tensor): number[] => [...t.dataSync()];

test('replaceHead: last child of a Sequential, ResNet fc, and a named nested layer', () => {
  manualSeed(1);
  const m = cnn();
  const head = new nn.Linear(4, 7);
  const old = replaceHead(m, head);
  assert.ok(old instanceof nn.Linear && (old as nn.Linear).outFeatures === 3);
  assert.equal(m.at(5), head);
  assert.deepEqual(m.call(randn([2, 1, 5, 5])).shape, [2, 7]);
  assert.ok([...m.namedParameters()].some(([n, p]) => n === '5.weight' && p === head.weight));

  const r = nn.resnet({ inChannels: 1, numClasses: 10, widths: [4], blocksPerStage: 1 });
  const fc = new nn.Linear(4, 2);
  r.eval();
  replaceHead(r, fc);
  assert.equal(r.fc, fc, 'the field follows the registration');
  assert.equal(fc.training, false, 'the new head takes the model mode');
  assert.deepEqual(r.call(randn([2, 1, 6, 6])).shape, [2, 2]);
  assert.ok(r.stateDict().has('fc.weight') && r.stateDict().get('fc.weight')!.shape[0] === 2);

  const relu = new nn.Tanh();
  replaceHead(m, relu, { name: '3.1' });
  assert.equal((m.at(3) as nn.Sequential).at(1), relu);
  assertThrowsMsg(() => replaceHead(m, new nn.ReLU(), { name: '3.9' }), /replaceHead/, /'3\.9' does not exist/, /children: 0, 1/);
  assertThrowsMsg(() => replaceHead(m, 'x' as never), /newHead must be an nn.Module/);
  assertThrowsMsg(() => replaceHead(new nn.ReLU(), new nn.ReLU()), /has no children/);
});

test('cutAt: a Sequential becomes a shorter Sequential sharing the layers; its output is the layer output', () => {
  manualSeed(2);
  const m = cnn().eval();
  const x = randn([2, 1, 5, 5], { rng: new Random(3) });
  const body = cutAt(m, '4');
  assert.ok(body instanceof nn.Sequential);
  assert.equal((body as nn.Sequential).length, 5);
  assert.equal((body as nn.Sequential).at(0), m.at(0), 'shared, not copied');
  let expected: Tensor = x;
  for (let i = 0; i <= 4; i++) expected = m.at(i).call(expected) as Tensor;
  assert.deepEqual(vals(body.call(x) as Tensor), vals(expected));
  assert.deepEqual([...body.stateDict().keys()], [...m.stateDict().keys()].filter((k) => !k.startsWith('5.')), 'names match the original');
  // Into a nested Sequential: layers 0..2, then the first layer of 3.
  const mid = cutAt(m, '3.0');
  const e2 = (m.at(3) as nn.Sequential).at(0).call(m.at(2).call(m.at(1).call(m.at(0).call(x)))) as Tensor;
  assert.deepEqual(vals(mid.call(x) as Tensor), vals(e2));
  assertThrowsMsg(() => cutAt(m, 'features'), /cutAt/, /no child 'features'/);
});

test('cutAt: a ResNet (custom forward) is cut by a hook that stops after the layer', () => {
  manualSeed(4);
  const r = nn.resnet({ inChannels: 1, numClasses: 3, widths: [4, 8], blocksPerStage: 1 }).eval();
  const x = randn([2, 1, 6, 6], { rng: new Random(5) });
  const feats = cutAt(r, 'pool');
  assert.ok(feats instanceof FeatureExtractor);
  const expected = r.pool.call(r.stages.call(r.stem.call(x)));
  assert.deepEqual(vals(feats.call(x) as Tensor), vals(expected));
  let fcCalls = 0;
  const remove = r.fc.registerForwardHook(() => void fcCalls++);
  const stage0 = cutAt(r, 'stages.0');
  assert.deepEqual((stage0.call(x) as Tensor).shape, [2, 4, 6, 6]);
  remove();
  assert.equal(fcCalls, 0, 'layers after the cut do not run');
  // Gradients flow through the extractor to the early layers.
  (feats.call(x) as Tensor).sum().backward();
  assert.ok((r.stem.at(0) as nn.Conv2d).weight.grad !== null);
  assertThrowsMsg(() => new FeatureExtractor(r, 'head'), /FeatureExtractor/, /no child 'head'/);
});

test('extractFeatures: batched, eval mode, no graph, modes restored; data sets give their labels too', () => {
  manualSeed(6);
  const m = cnn();
  m.train();
  const bn = m.at(1) as nn.BatchNorm2d;
  const statsBefore = vals(bn.runningMean!);
  const x = randn([7, 1, 5, 5], { rng: new Random(7) });
  const body = cutAt(m, '4');
  const f = extractFeatures(body, x, { batchSize: 3 });
  assert.deepEqual(f.shape, [7, 4]);
  assert.equal(f.requiresGrad, false);
  assert.equal(f.node, null);
  assert.equal(m.training, true);
  assert.equal(bn.training, true, 'modes restored');
  assert.deepEqual(vals(bn.runningMean!), statsBefore, 'eval mode: running statistics untouched');
  m.eval();
  const direct = noGrad(() => body.call(x) as Tensor);
  assertClose(f, vals(direct), { atol: 1e-6 });
  const flat = extractFeatures(cutAt(m, '3'), x, { batchSize: 4, flatten: true });
  assert.deepEqual(flat.shape, [7, 4 * 5 * 5]);

  const labels = randint(0, 3, [7], { rng: new Random(8) });
  const ds = new data.TensorDataset(x, labels);
  const out = extractFeatures(body, ds, { batchSize: 2 });
  assertClose(out.features, vals(direct), { atol: 1e-6 });
  assert.equal(out.targets.length, 1);
  assert.deepEqual(vals(out.targets[0]), vals(labels));
  assertThrowsMsg(() => extractFeatures(body, x, { batchSize: 0 }), /batchSize must be a positive integer/);
  assertThrowsMsg(() => extractFeatures(body, {} as never), /source must be a Tensor of inputs or a Dataset/);
  assertThrowsMsg(() => extractFeatures(new nn.LSTM(2, 2), randn([1, 2, 2])), /must return a Tensor/);
});

test('layerwiseLrGroups: geometric learning rates from the head back; usable by an optimizer', () => {
  manualSeed(9);
  const m = cnn();
  const groups = layerwiseLrGroups(m, { baseLr: 0.01, decay: 0.5 });
  // Children with parameters: 0 (conv), 1 (BN), 3 (conv inside a Sequential), 5 (head).
  assert.deepEqual(groups.map((g) => g.lr), [0.01 / 8, 0.01 / 4, 0.01 / 2, 0.01]);
  assert.deepEqual(groups.map((g) => g.params.length), [2, 2, 2, 2]);
  assert.equal(groups[3].params[0], (m.at(5) as nn.Linear).weight);
  const opt = new optim.Adam(groups);
  assert.deepEqual(opt.paramGroups.map((g) => g.lr), [0.00125, 0.0025, 0.005, 0.01]);
  const byLayer = layerwiseLrGroups(m, { baseLr: 1, decay: 0.1, unit: 'layer', weightDecay: 0.001 });
  assert.equal(byLayer.length, 4);
  assert.equal(byLayer[0].weightDecay, 0.001);
  freeze(m, { upTo: 2 });
  assert.equal(layerwiseLrGroups(m, { baseLr: 1, trainableOnly: true }).length, 2);
  assertThrowsMsg(() => layerwiseLrGroups(m, { baseLr: -1 }), /baseLr must be a finite number >= 0/);
  assertThrowsMsg(() => layerwiseLrGroups(m, { baseLr: 1, decay: 0 }), /decay must be a positive number/);
  assertThrowsMsg(() => layerwiseLrGroups(new nn.ReLU(), { baseLr: 1 }), /has no parameters/);
});

test('lrGroupsByName: first matching rule wins, the rest gets the default; a rule that matches nothing is an error', () => {
  const m = cnn();
  const groups = lrGroupsByName(m, [{ pattern: '0', lr: 1e-4 }, { pattern: /\.bias$/, lr: 0, weightDecay: 0 }], { defaultLr: 1e-2 });
  assert.equal(groups.length, 3);
  assert.deepEqual(groups[0].params, [(m.at(0) as nn.Conv2d).weight, (m.at(0) as nn.Conv2d).bias]);
  assert.equal(groups[1].params.length, 3, 'biases of 1, 3.0, 5');
  assert.equal(groups[1].weightDecay, 0);
  assert.equal(groups[2].lr, 1e-2);
  assert.equal(groups[2].params.length, 3, 'weights of 1, 3.0, 5');
  new optim.SGD(groups);
  assertThrowsMsg(() => lrGroupsByName(m, [{ pattern: 'stem', lr: 1 }], { defaultLr: 1 }), /lrGroupsByName/, /rule 0 \(pattern stem\) matches no parameter/);
});

test('grayscaleToRgb copies the channel (gradient 3× through the sum); conv1ToGrayscale gives the same output on gray input', () => {
  const g = randn([2, 1, 4, 4], { rng: new Random(10), dtype: 'float64' });
  const rgb = grayscaleToRgb(g);
  assert.deepEqual(rgb.shape, [2, 3, 4, 4]);
  const gv = vals(g);
  assert.deepEqual(vals(rgb).slice(16, 32), gv.slice(0, 16));
  assert.deepEqual(vals(rgb).slice(32, 48), gv.slice(0, 16));
  assert.deepEqual(grayscaleToRgb(tensor([[[1, 2]]])).shape, [3, 1, 2]);
  assertGrad((x) => grayscaleToRgb(x).mul(grayscaleToRgb(x)).sum(), [g]);
  assertThrowsMsg(() => grayscaleToRgb(randn([2, 3, 4, 4])), /grayscaleToRgb/, /\[2, 3, 4, 4\]/);

  manualSeed(11);
  const conv = new nn.Conv2d(3, 5, 3, { padding: 1, stride: 2, dtype: 'float64' });
  const gray = conv1ToGrayscale(conv);
  assert.equal(gray.inChannels, 1);
  assertClose(gray.call(g), vals(conv.call(grayscaleToRgb(g))), { atol: 1e-12 });
  assertThrowsMsg(() => conv1ToGrayscale(gray), /already has 1 input channel/);
});
