import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { zoo, io, noGrad, argmax, Random, type Tensor } from '../../src/index.js';
import { loadDigits } from '../../src/digits.js';
import { Standardize } from '../../src/data/preprocess/index.js';
import { DEFAULT_EXPERIMENT } from '../../src/cli/experiment.js';
import { crc32 } from '../../src/zoo/pretrained.js';
import { DIGITS_CNN } from '../../zoo/digits-cnn.weights.js';
import { assertThrowsMsg } from '../helpers.js';

const shippedFile = (): Uint8Array => new Uint8Array(readFileSync(new URL('../../zoo/digits-cnn.safetensors', import.meta.url)));
const expected = { crc32: DIGITS_CNN.crc32, byteLength: DIGITS_CNN.byteLength };

function accuracy(model: { call(x: Tensor): unknown }, x: Tensor, y: Tensor): number {
  const pred = noGrad(() => argmax(model.call(x) as Tensor, 1)).dataSync();
  const labels = y.dataSync();
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (Number(pred[i]) === Number(labels[i])) right++;
  return right / labels.length;
}

// The first 500 of the 2,000 test digits the model was evaluated on: the same seeded permutation
// of the shipped digits, so none of them was seen in training.
const heldOut = (): ReturnType<typeof loadDigits> => loadDigits({ trainSize: DEFAULT_EXPERIMENT.data.trainSize, testSize: 500, seed: DEFAULT_EXPERIMENT.seed });

test("zoo.load('digits-cnn'): eval-mode model that scores >= 97% on 500 held-out digits after its preprocessing", async () => {
  assert.deepEqual(zoo.list(), ['digits-cnn']);
  const { model, preprocessing, info } = zoo.load('digits-cnn');
  assert.equal(model.training, false, 'the model is in eval mode (Dropout off, BatchNorm running statistics)');
  assert.ok([...model.modules()].every((m) => !m.training), 'every submodule is in eval mode');
  assert.equal(preprocessing.steps.length, 1);
  assert.ok(preprocessing.steps[0] instanceof Standardize && preprocessing.steps[0].fitted, 'a fitted per-channel Standardize');
  const { xTest, yTest } = await heldOut();
  assert.deepEqual(xTest.shape.slice(1), info.inputShape);
  const acc = accuracy(model, preprocessing.transform(xTest), yTest);
  assert.ok(acc >= 0.97, `accuracy ${acc} on 500 held-out digits`);
  // Without its preprocessing the raw [0, 1] pixels are off-distribution: the transform matters.
  const raw = accuracy(model, xTest, yTest);
  assert.ok(raw < acc, `raw-pixel accuracy ${raw} should be below the preprocessed ${acc}`);
});

test('zoo.load info: seed, data sizes and accuracy as recorded by scripts/train-zoo.ts', () => {
  const { info } = zoo.load('digits-cnn');
  const sidecar = JSON.parse(readFileSync(new URL('../../zoo/digits-cnn.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  assert.equal(info.name, 'digits-cnn');
  assert.equal(info.seed, DEFAULT_EXPERIMENT.seed);
  assert.equal(info.testSize, DEFAULT_EXPERIMENT.data.testSize);
  assert.equal(info.trainSize + (sidecar.validationSize as number), DEFAULT_EXPERIMENT.data.trainSize, 'train + validation = the experiment trainSize');
  assert.ok(info.testAccuracy >= 0.97 && info.testAccuracy <= 1, `recorded accuracy ${info.testAccuracy}`);
  for (const k of ['seed', 'trainSize', 'testSize', 'testAccuracy', 'createdAt', 'gradkitCommit', 'epochs']) {
    assert.deepEqual(info[k as keyof typeof info], sidecar[k], `info.${k} matches zoo/digits-cnn.json`);
  }
  assert.ok(!Number.isNaN(Date.parse(info.createdAt)), 'createdAt is a date');
  assert.equal(info.architecture.builder, zoo.LAYERS_BUILDER);
});

test('the embedded bytes are zoo/digits-cnn.safetensors, and io.loadModel rebuilds the same model from the file', async () => {
  const file = shippedFile();
  assert.equal(file.length, DIGITS_CNN.byteLength);
  assert.equal(zlibCrc32(file) >>> 0, DIGITS_CNN.crc32, 'the .safetensors file and the generated module agree');
  const fromFile = io.loadModel(file);
  const { model, preprocessing } = zoo.load('digits-cnn');
  const { xTest } = await heldOut();
  const x = preprocessing.transform(xTest);
  const a = noGrad(() => model.call(x) as Tensor).dataSync();
  const b = noGrad(() => fromFile.model.call(x) as Tensor).dataSync();
  assert.deepEqual(Array.from(a), Array.from(b));
});

test('zoo.load: an unknown name is a GradkitError listing the available models', () => {
  assertThrowsMsg(() => zoo.load('imagenet-resnet50'), /zoo\.load/, /"imagenet-resnet50"/, /available: digits-cnn/);
  assertThrowsMsg(() => zoo.load(42 as never), /no pretrained model named 42/, /available: digits-cnn/);
});

test('a damaged copy of the weights is refused with a GradkitError, never loaded', () => {
  const good = shippedFile();
  // The good copy loads through the same path.
  assert.equal(zoo.loadPretrainedBytes('digits-cnn', good, expected).info.seed, 0);
  // One flipped bit in the last weight: still valid safetensors, caught by the checksum.
  const flipped = good.slice();
  flipped[flipped.length - 3] ^= 0x10;
  assertThrowsMsg(() => zoo.loadPretrainedBytes('digits-cnn', flipped, expected), /zoo\.load\('digits-cnn'\)/, /checksum/, /damaged/);
  // Truncated.
  assertThrowsMsg(() => zoo.loadPretrainedBytes('digits-cnn', good.subarray(0, good.length - 100), expected), /84732 bytes|truncated/, /truncated or damaged/);
  // Damage with a matching record (as if the record were regenerated from damaged bytes): the
  // strict reader still refuses a garbled header.
  const garbled = good.slice();
  garbled[10] = 0x7b; // inside the JSON header
  garbled[20] = 0x00;
  assertThrowsMsg(() => zoo.loadPretrainedBytes('digits-cnn', garbled, { crc32: crc32(garbled), byteLength: garbled.length }));
  assertThrowsMsg(() => zoo.loadPretrainedBytes('digits-cnn', 'bytes' as never, expected), /expected the model bytes as a Uint8Array/);
});

test('crc32 matches node:zlib on random and edge-case inputs', () => {
  const rng = new Random(5);
  for (const n of [0, 1, 7, 256, 1000]) {
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = Math.floor(rng.uniform() * 256);
    assert.equal(crc32(bytes), zlibCrc32(bytes) >>> 0, `length ${n}`);
  }
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926, 'the standard CRC-32 check value');
});

test('experimentLayers builder: rebuilds CLI layer lists; bad options name the problem', () => {
  const m = zoo.build({ builder: zoo.LAYERS_BUILDER, options: { layers: [{ type: 'flatten' }, { type: 'linear', outFeatures: 3 }], inputShape: [2, 2], numClasses: 3 } });
  assert.equal(m.numParameters(), 4 * 3 + 3);
  assertThrowsMsg(() => zoo.build({ builder: zoo.LAYERS_BUILDER, options: { layers: [], inputShape: [4], numClasses: 2 } }), /options\.layers must be a non-empty list/);
  assertThrowsMsg(() => zoo.build({ builder: zoo.LAYERS_BUILDER, options: { layers: [{ type: 'linear', outFeatures: 2 }], inputShape: [0], numClasses: 2 } }), /options\.inputShape/, /\[0\]/);
  assertThrowsMsg(() => zoo.build({ builder: zoo.LAYERS_BUILDER, options: { layers: [{ type: 'linear', outFeatures: 2 }], inputShape: [4] } }), /options\.numClasses/);
  assertThrowsMsg(() => zoo.build({ builder: zoo.LAYERS_BUILDER, options: { layers: [{ type: 'linear', outFeatures: 2 }], inputShape: [4], numClasses: 3 } }), /outputs \[2\].*3 classes/);
});
