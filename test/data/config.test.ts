import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random, tensor } from '../../src/index.js';
import { buildAugmentation, buildPreprocessor, compose, randomAffine, cutout, Standardize } from '../../src/data/index.js';
import { assertThrowsMsg } from '../helpers.js';

test('buildAugmentation equals the same pipeline built in code', () => {
  const x = tensor(Array.from({ length: 2 * 64 }, (_, i) => (i % 9) / 9), { shape: [2, 1, 8, 8] });
  const fromJson = buildAugmentation(JSON.parse('[{"type":"randomAffine","degrees":10,"maxShift":1,"scale":[0.9,1.1]},{"type":"cutout","size":3}]'));
  const inCode = compose([randomAffine({ degrees: 10, maxShift: 1, scale: [0.9, 1.1] }), cutout({ size: 3 })]);
  assert.deepEqual([...fromJson.apply(x, new Random(1)).dataSync()], [...inCode.apply(x, new Random(1)).dataSync()]);
});

test('buildAugmentation names the entry and key that are wrong', () => {
  assertThrowsMsg(() => buildAugmentation([{ type: 'rotate' }]), /entry 0: unknown type "rotate"; expected one of randomFlip/);
  assertThrowsMsg(() => buildAugmentation([{ type: 'cutout', size: 2 }, { type: 'cutout', sise: 2 }]), /entry 1 \(cutout\): unknown key "sise"; expected one of size, count, fill/);
  assertThrowsMsg(() => buildAugmentation([{ type: 'randomAffine', degrees: '10' }]), /entry 0 \(randomAffine\): "degrees" must be a number, got "10"/);
  assertThrowsMsg(() => buildAugmentation([{ type: 'gaussianNoise' }]), /missing required key "std"/);
  assertThrowsMsg(() => buildAugmentation([{ type: 'cutout', size: -1 }]), /entry 0: cutout: size must be a positive integer, got -1/);
  assertThrowsMsg(() => buildAugmentation({}), /expected an array/);
  assertThrowsMsg(() => buildAugmentation([{ type: 'cutout', size: 2, applyProbability: 2 }]), /entry 0: randomApply: p must be a probability/);
  assert.match(buildAugmentation([{ type: 'cutout', size: 2, applyProbability: 0.5 }]).name, /randomApply\(cutout, 0.5\)/);
});

test('buildPreprocessor makes unfitted preprocessors and validates options', () => {
  const p = buildPreprocessor({ type: 'standardize', per: 'channel', eps: 1e-3 });
  assert.ok(p instanceof Standardize);
  assert.equal(p.fitted, false);
  assert.equal((p as Standardize).per, 'channel');
  assertThrowsMsg(() => buildPreprocessor({ type: 'standardize', per: 'pixel' }), /per must be 'feature', 'channel' or 'image', got pixel/);
  assertThrowsMsg(() => buildPreprocessor({ type: 'pca', k: 3 }), /pca: unknown key "k"; expected one of components, varianceKept/);
  assertThrowsMsg(() => buildPreprocessor({ type: 'zca' }), /unknown type "zca"/);
});
