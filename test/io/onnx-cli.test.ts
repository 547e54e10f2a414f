/** `gradkit export-onnx` (exportOnnxCommand) on a run folder and on model files, and saveOnnx's atomic write. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nn, io, train, zoo, manualSeed, randn, Random, noGrad, type Tensor } from '../../src/index.js';
import { trainCommand, loadRunWeights, type CommandEnv } from '../../src/cli/commands.js';
import { buildModel } from '../../src/cli/model-builder.js';
import { resolveExperiment } from '../../src/cli/experiment.js';
import { decodeCheckpoint } from '../../src/train/index.js';
import { exportOnnxCommand, parseShapeFlag, saveOnnx } from '../../src/cli/export-onnx.js';
import { decodeOnnxModel } from '../../src/io/onnx/index.js';
import { assertThrowsMsg } from '../helpers.js';
import { maxAbsDiff, runOrt } from './onnx-helpers.js';

function memEnv(): CommandEnv & { storage: ReturnType<typeof train.memoryStorage>; out: string[] } {
  const out: string[] = [];
  return { storage: train.memoryStorage(), sink: { write: (s: string) => void out.push(s) }, out };
}

const LAYERS = [
  { type: 'conv2d', outChannels: 4, kernelSize: 3, padding: 1, bias: false }, { type: 'batchNorm2d' }, { type: 'relu' }, { type: 'maxPool2d', kernelSize: 4 },
  { type: 'flatten' }, { type: 'dropout', p: 0.3 }, { type: 'linear', outFeatures: 10 },
];
const EXPERIMENT = {
  name: 'onnx-src', seed: 1, epochs: 1, model: { layers: LAYERS }, optimizer: { type: 'adam', lr: 0.01 },
  data: { dataset: 'digits', trainSize: 120, testSize: 40, batchSize: 40, validationFraction: 0.25, evalBatchSize: 100 },
};

test('export-onnx on a run folder: the best checkpoint as ONNX, input shape from the dataset, same outputs as the rebuilt model', async () => {
  const env = memEnv();
  env.storage.writeAtomic('exp.json', JSON.stringify(EXPERIMENT));
  await trainCommand({ experiment: 'exp.json', out: 'run' }, env);
  env.out.length = 0;
  const summary = await exportOnnxCommand({ source: 'run', out: 'run/model.onnx' }, env);
  assert.deepEqual(summary.inputShape, [1, 1, 28, 28]);
  assert.equal(summary.from, 'run/best.ckpt');
  assert.match(env.out.join(''), /run\/best\.ckpt → run\/model\.onnx · input \[batch, 1, 28, 28\]/);
  const bytes = env.storage.read('run/model.onnx') as Uint8Array;
  assert.equal(bytes.length, summary.bytes);
  assert.deepEqual(decodeOnnxModel(bytes).graph.node.map((n) => n.opType), ['Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'Flatten', 'Gemm']);
  // The reference: the run's model rebuilt by hand from config.json and best.ckpt.
  const e = resolveExperiment(JSON.parse(new TextDecoder().decode(env.storage.read('run/config.json') as Uint8Array)));
  const model = buildModel(e.model.layers, [1, 28, 28], e.model.init, 10);
  loadRunWeights(model, decodeCheckpoint(env.storage.read('run/best.ckpt') as Uint8Array), 'best.ckpt');
  const x = randn([3, 1, 28, 28], { rng: new Random(1) });
  const expected = noGrad(() => model.eval().call(x));
  const got = await runOrt(bytes, x);
  assert.ok(maxAbsDiff(got.data, expected.dataSync()) < 1e-4);
});

test('export-onnx on model files: the shape recorded by a layers architecture, or --input-shape', async () => {
  const env = memEnv();
  env.storage.writeAtomic('digits.safetensors', new Uint8Array(readFileSync(new URL('../../zoo/digits-cnn.safetensors', import.meta.url))));
  const s = await exportOnnxCommand({ source: 'digits.safetensors', out: 'digits.onnx', staticBatch: true, opsetVersion: 18 }, env);
  assert.deepEqual(s.inputShape, [1, 1, 28, 28]);
  const m = decodeOnnxModel(env.storage.read('digits.onnx') as Uint8Array);
  assert.deepEqual(m.opsetImport.map((o) => o.version), [18]);
  assert.deepEqual(m.graph.input[0].type.tensorType.shape.dim, [{ dimValue: 1 }, { dimValue: 1 }, { dimValue: 28 }, { dimValue: 28 }]);
  assert.match(env.out.join(''), /preprocessing is not part of the ONNX graph/);
  // A builder that records no input shape needs the flag.
  zoo.registerArchitecture('onnx-cli-test-net', () => new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2)));
  manualSeed(2);
  const net = zoo.build({ builder: 'onnx-cli-test-net', options: {} });
  env.storage.writeAtomic('net.safetensors', io.saveModel(net, { architecture: { builder: 'onnx-cli-test-net', options: {} } }));
  await assert.rejects(exportOnnxCommand({ source: 'net.safetensors', out: 'net.onnx' }, env), /does not record its input shape; pass --input-shape/);
  const ok = await exportOnnxCommand({ source: 'net.safetensors', out: 'net.onnx', inputShape: parseShapeFlag('1,3') }, env);
  assert.equal(ok.nodes, 3);
  const x = randn([2, 3], { rng: new Random(3) });
  const got = await runOrt(env.storage.read('net.onnx') as Uint8Array, x);
  assert.ok(maxAbsDiff(got.data, (net.eval().call(x) as Tensor).dataSync()) < 1e-5);
  await assert.rejects(exportOnnxCommand({ source: 'missing', out: 'x.onnx' }, env), /missing is neither a run folder \(with config.json\) nor a model file/);
});

test('--input-shape parsing', () => {
  assert.deepEqual(parseShapeFlag('1,1,28,28'), [1, 1, 28, 28]);
  assert.deepEqual(parseShapeFlag(' 4 , 2 '), [4, 2]);
  for (const bad of ['', '1,,2', '1,x', '0,3', '1.5,2']) assertThrowsMsg(() => parseShapeFlag(bad), /--input-shape must be positive whole numbers separated by commas/);
});

test('saveOnnx writes the file atomically on disk (no temp file left) and the bytes load in ONNX Runtime', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradkit-onnx-'));
  try {
    manualSeed(4);
    const model = new nn.Sequential(new nn.Linear(2, 3), new nn.Sigmoid());
    const path = join(dir, 'm.onnx');
    const bytes = await saveOnnx(model, path, { inputShape: [1, 2] });
    assert.deepEqual(new Uint8Array(readFileSync(path)), bytes);
    assert.deepEqual(readdirSync(dir), ['m.onnx']);
    const x = randn([4, 2], { rng: new Random(5) });
    assert.ok(maxAbsDiff((await runOrt(bytes, x)).data, (model.eval().call(x) as Tensor).dataSync()) < 1e-6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('gradkit export-onnx through the command line: flags parsed, file written, usage errors exit 2', async () => {
  const { main } = await import('../../src/cli/main.js');
  const env = memEnv();
  // The shipped zoo file carries its architecture, which the command rebuilds the model from.
  env.storage.writeAtomic('net.safetensors', readFileSync(new URL('../../zoo/digits-cnn.safetensors', import.meta.url)));
  assert.equal(await main(['export-onnx', 'net.safetensors', 'net.onnx', '--input-shape', '1,1,28,28', '--opset', '18', '--static-batch'], env), 0, env.out.join(''));
  const decoded = decodeOnnxModel(env.storage.read('net.onnx') as Uint8Array);
  assert.equal(decoded.opsetImport[0].version, 18);
  assert.deepEqual(decoded.graph.input[0].type.tensorType.shape.dim.map((d: { dimValue?: number }) => Number(d.dimValue)), [1, 1, 28, 28], 'static batch');
  const errEnv = memEnv();
  assert.equal(await main(['export-onnx', 'only-one-arg'], errEnv), 2);
  assert.equal(errEnv.storage.exists('only-one-arg'), false);
});
