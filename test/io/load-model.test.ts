import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nn, data, manualSeed, randn, Random } from '../../src/index.js';
import { saveModel, loadModel, loadModelFrom, saveModelFile } from '../../src/io/index.js';
import { build, registerArchitecture, architectures, type Architecture } from '../../src/zoo/index.js';
import { train } from '../../src/index.js';
import { assertThrowsMsg } from '../helpers.js';

test('loadModel: architecture + weights + preprocessing → a ready model with identical predictions', () => {
  manualSeed(1);
  const arch: Architecture = { builder: 'vgg', options: { inChannels: 1, numClasses: 3, inputSize: 8, widths: [4, 8], batchNorm: true, hidden: [8] } };
  const model = build(arch);
  const x = randn([6, 1, 8, 8], { rng: new Random(2) }).mul(3).add(1);
  const pre = new data.Standardize({ per: 'channel' }).fit(x);
  model.train();
  model.call(pre.transform(x)); // moves BatchNorm statistics
  model.eval();
  const expected = [...model.call(pre.transform(x)).dataSync()];
  manualSeed(7); // the rebuilt model starts from other random weights
  const loaded = loadModel(saveModel(model, { architecture: arch as never, preprocessing: pre.toJSON() as never }));
  assert.deepEqual(loaded.architecture, arch);
  assert.equal(loaded.model.training, false, 'ready for inference');
  assert.ok(loaded.preprocessing instanceof data.Standardize);
  assert.deepEqual([...loaded.model.call(loaded.preprocessing.transform(x)).dataSync()], expected);
});

test('loadModel: mlp and resnet builders, a list of preprocessors, custom builders, through a Storage', async () => {
  manualSeed(3);
  const arch: Architecture = { builder: 'resnet18', options: { inChannels: 1, numClasses: 2, baseWidth: 2 } };
  const r = build(arch);
  const storage = train.memoryStorage();
  const x = randn([2, 4]);
  const p1 = new data.MeanSubtraction().fit(x);
  const p2 = new data.Standardize().fit(x);
  await saveModelFile(storage, 'r.safetensors', r, { architecture: arch as never, preprocessing: [p1.toJSON(), p2.toJSON()] as never });
  const back = await loadModelFrom(storage, 'r.safetensors');
  assert.ok(Array.isArray(back.preprocessing) && back.preprocessing.length === 2);
  r.eval();
  const img = randn([1, 1, 8, 8], { rng: new Random(4) });
  assert.deepEqual([...back.model.call(img).dataSync()], [...r.call(img).dataSync()]);

  registerArchitecture('tiny', (o) => new nn.Linear(o.in as number, o.out as number));
  assert.ok(architectures().includes('tiny'));
  const lin = build({ builder: 'tiny', options: { in: 2, out: 1 } });
  const again = loadModel(saveModel(lin, { architecture: { builder: 'tiny', options: { in: 2, out: 1 } } }));
  assert.deepEqual([...again.model.stateDict().get('weight')!.dataSync()], [...lin.stateDict().get('weight')!.dataSync()]);
  assert.equal(again.preprocessing, null);
});

test('loadModel: clear errors for weights-only files, unknown builders, mismatching weights', () => {
  const m = new nn.Linear(2, 2);
  assertThrowsMsg(() => loadModel(saveModel(m)), /loadModel/, /no architecture/, /loadModelWeights/);
  assertThrowsMsg(() => loadModel(saveModel(m, { architecture: { builder: 'alexnet', options: {} } })), /zoo\.build/, /unknown builder "alexnet"/, /known: vgg, mlp/);
  assertThrowsMsg(() => loadModel(saveModel(m, { architecture: { builder: 'mlp', options: { sizes: [2, 3] } } })), /loadModelWeights/, /missing from the file: 0\.weight, 0\.bias; in the file but not in the model: weight, bias/);
  const seq = build({ builder: 'mlp', options: { sizes: [2, 2] } });
  assertThrowsMsg(() => loadModel(saveModel(seq, { architecture: { builder: 'mlp', options: { sizes: [2, 3] } } })), /'0\.weight' has shape \[2, 2\] in the file but \[3, 2\] in the model/);
  assertThrowsMsg(() => build({ builder: 'mlp', options: null } as never), /options must be an object/);
  assertThrowsMsg(() => registerArchitecture('', () => m), /non-empty string/);
});

test('model files on disk through the atomic Node writer (nodeStorage)', async () => {
  const { nodeStorage } = await import('../../src/platform/fs-node.js');
  const { mkdtempSync, rmSync, readdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'gradkit-io-'));
  try {
    manualSeed(5);
    const arch: Architecture = { builder: 'mlp', options: { sizes: [3, 4, 2], batchNorm: true } };
    const m = build(arch);
    const path = join(dir, 'm.safetensors');
    await saveModelFile(nodeStorage(), path, m, { architecture: arch as never });
    assert.deepEqual(readdirSync(dir), ['m.safetensors'], 'no temp file left behind');
    const back = await loadModelFrom(nodeStorage(), path);
    m.eval();
    const x = randn([2, 3], { rng: new Random(6) });
    assert.deepEqual([...back.model.call(x).dataSync()], [...m.call(x).dataSync()]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
