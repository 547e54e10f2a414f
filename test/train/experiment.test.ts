import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendName, randn, type Tensor } from '../../src/index.js';
import { toBackend } from '../../src/tensor/host.js';
import { resolveExperiment, DEFAULT_EXPERIMENT, type LayerSpec } from '../../src/cli/experiment.js';
import { buildModel, inferShapes } from '../../src/cli/model-builder.js';

const conv = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ type: 'conv2d', outChannels: 4, kernelSize: 3, ...extra });
const withLayers = (layers: unknown[], extra: Record<string, unknown> = {}): unknown => ({ model: { layers }, ...extra });
const err = (raw: unknown, ...patterns: RegExp[]): void => {
  assert.throws(() => resolveExperiment(raw), (e: Error) => {
    assert.equal(e.name, 'GradkitError', e.message);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
};

test('unknown keys are errors that give the path and a suggestion', () => {
  err(withLayers([conv({ paddin: 1 })]), /unknown key 'paddin' at model\.layers\[0\]\.paddin \(did you mean 'padding'\?\)/, /allowed here: type, outChannels, kernelSize, stride, padding, bias/);
  err({ epoch: 3 }, /unknown key 'epoch' at epoch \(did you mean 'epochs'\?\)/);
  err({ optimizer: { type: 'adamw', learningRate: 0.1 } }, /unknown key 'learningRate' at optimizer\.learningRate/);
  err(withLayers([{ type: 'conv', outChannels: 2, kernelSize: 3 }]), /model\.layers\[0\]\.type: unknown type 'conv' \(did you mean 'conv2d'\?\)/);
});

test('wrong types and out-of-range values name the key, the value and what was expected', () => {
  err({ epochs: '5' }, /epochs: expected a whole number, got the string "5"/);
  err({ epochs: 2.5 }, /epochs: expected a whole number, got 2\.5/);
  err({ optimizer: { lr: -1 } }, /optimizer\.lr: must be > 0, got -1/);
  err({ data: { validationFraction: 1 } }, /data\.validationFraction: must be < 1, got 1/);
  err(withLayers([conv({ kernelSize: [3] })]), /model\.layers\[0\]\.kernelSize: expected a positive whole number or a pair \[h, w\] of them/);
  err(withLayers([{ type: 'dropout', p: 1 }]), /model\.layers\[0\]\.p: must be < 1, got 1/);
  err(withLayers([conv({ outChannels: undefined })]), /model\.layers\[0\]: missing required key 'outChannels'/);
  err({ optimizer: { type: 'lbfgs' } }, /optimizer\.type: expected one of 'sgd', 'adam', 'adamw', 'rmsprop', got 'lbfgs'/);
  err([1, 2], /the file must hold a JSON object, got an array/);
});

test('defaults fill what the file leaves out; the saved config reads back identically', () => {
  const e = resolveExperiment({ epochs: 2, optimizer: { type: 'sgd', lr: 0.1 } });
  assert.equal(e.epochs, 2);
  assert.equal(e.optimizer.type, 'sgd');
  assert.equal(e.optimizer.weightDecay, DEFAULT_EXPERIMENT.optimizer.weightDecay);
  assert.deepEqual(e.model.layers, DEFAULT_EXPERIMENT.model.layers);
  assert.equal(e.earlyStopping, null);
  assert.deepEqual(resolveExperiment(JSON.parse(JSON.stringify(e))), e, 'config.json (with nulls) round-trips');
  assert.deepEqual(resolveExperiment(JSON.parse(JSON.stringify(DEFAULT_EXPERIMENT))), DEFAULT_EXPERIMENT);
});

test('dry shape inference catches impossible shapes with the layer and the shapes', () => {
  const L = (xs: unknown[]): LayerSpec[] => xs as LayerSpec[];
  assert.deepEqual(inferShapes(L([conv({ padding: 1 }), { type: 'maxPool2d', kernelSize: 2 }, { type: 'flatten' }, { type: 'linear', outFeatures: 10 }]), [1, 28, 28]), [[4, 28, 28], [4, 14, 14], [784], [10]]);
  assert.deepEqual(inferShapes(L([conv({ stride: 2, padding: 'valid' }), conv({ padding: 'same', kernelSize: 5 })]), [3, 9, 9]), [[4, 4, 4], [4, 4, 4]]);
  const shapeErr = (layers: unknown[], input: number[], re: RegExp): void => assert.throws(() => inferShapes(L(layers), input), re);
  shapeErr([{ type: 'linear', outFeatures: 10 }], [1, 28, 28], /model\.layers\[0\] \(linear\): expects features \[n\] but its input is \[1, 28, 28\]; add \{ "type": "flatten" \} before it/);
  shapeErr([{ type: 'maxPool2d', kernelSize: 4 }, { type: 'maxPool2d', kernelSize: 4 }, conv({ kernelSize: 5 })], [1, 28, 28], /model\.layers\[2\] \(conv2d\): the 5x5 window does not fit the input \[1, 1, 1\]/);
  shapeErr([{ type: 'flatten' }, conv()], [1, 28, 28], /model\.layers\[1\] \(conv2d\): expects images \[channels, height, width\] but its input is \[784\] \(is there a flatten before it\?\)/);
  shapeErr([conv({ stride: 2, padding: 'same' })], [1, 8, 8], /padding 'same' needs stride 1/);
  assert.throws(() => buildModel(L([{ type: 'flatten' }, { type: 'linear', outFeatures: 7 }]), [1, 28, 28], 'he', 10), /the model outputs \[7\] per sample but the dataset has 10 classes/);
});

test('the built model has the inferred sizes and runs', () => {
  const m = buildModel(DEFAULT_EXPERIMENT.model.layers, [1, 28, 28], 'he', 10);
  const shapes = [...m.namedParameters()].map(([k, p]) => `${k}:${p.shape.join('x')}`);
  assert.deepEqual(shapes, ['0.weight:16x1x3x3', '2.weight:16', '2.bias:16', '4.weight:32x16x3x3', '6.weight:32', '6.bias:32', '10.weight:10x1568', '10.bias:10']);
  assert.deepEqual(m.call(randn([2, 1, 28, 28])).shape, [2, 10]);
});

test('regularization from the file reaches the loss: label smoothing and the L1/L2 penalties', async () => {
  const { buildRun, makeTrainer } = await import('../../src/cli/run-builder.js');
  const { losses } = await import('../../src/index.js');
  const e = resolveExperiment({
    seed: 4, epochs: 1,
    data: { dataset: 'blobs', samplesPerClass: 20, batchSize: 10 },
    model: { layers: [{ type: 'linear', outFeatures: 8 }, { type: 'relu' }, { type: 'linear', outFeatures: 3 }] },
    regularization: { labelSmoothing: 0.2, l1: 0.001, l2: 0.01 },
  });
  const run = await buildRun(e);
  const t = makeTrainer(run, []);
  // The data set may sit on a CPU backend while the model is on a GPU (buildData): move the batch.
  const [x, y] = run.data.train.dataset.getBatch!([0, 1, 2, 3]).map((t) => toBackend(t, backendName()));
  const out = run.model.call(x);
  const params = run.model.parameters();
  let l1 = 0;
  let l2 = 0;
  for (const p of params) if (!p.tags.has('noDecay')) for (const v of await p.data()) { l1 += Math.abs(v); l2 += v * v; }
  const value = async (t: Tensor): Promise<number> => (await t.data())[0];
  const ce = await value(losses.crossEntropy(out, y, { labelSmoothing: 0.2 }));
  assert.notEqual(ce, await value(losses.crossEntropy(out, y)), 'smoothing changes the loss');
  const got = await value(t.lossFn(out, y));
  assert.ok(Math.abs(got - (ce + 0.001 * l1 + 0.01 * l2)) < 1e-5, `${got} vs ${ce + 0.001 * l1 + 0.01 * l2}`);
  assert.deepEqual(run.data.inputShape, [2]);
  assert.equal(run.data.numClasses, 3);
});

test('buildRun fuses Linear → ReLU for training with the checkpoint names of the unfused model', async () => {
  const { buildRun } = await import('../../src/cli/run-builder.js');
  const { nn } = await import('../../src/index.js');
  const e = resolveExperiment({
    seed: 4, epochs: 1,
    data: { dataset: 'blobs', samplesPerClass: 20, batchSize: 10 },
    model: { layers: [{ type: 'linear', outFeatures: 8 }, { type: 'relu' }, { type: 'linear', outFeatures: 3 }] },
  });
  const run = await buildRun(e);
  assert.equal((run.model.at(0) as InstanceType<typeof nn.Linear>).activation, 'relu');
  assert.ok(run.model.at(1) instanceof nn.FusedAway);
  assert.deepEqual([...run.model.stateDict().keys()], ['0.weight', '0.bias', '2.weight', '2.bias']);
});
