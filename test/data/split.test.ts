import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor } from '../../src/index.js';
import { GeneratorDataset, randomSplit, stratifiedSplit, TensorDataset } from '../../src/data/index.js';
import { assertThrowsMsg } from '../helpers.js';

const range = (n: number): TensorDataset => new TensorDataset(tensor(new Int32Array(n).map((_, i) => i)));
const members = (s: { length: number; get(i: number): readonly { item(): number }[] }): number[] =>
  Array.from({ length: s.length }, (_, i) => s.get(i)[0].item());

test('randomSplit by fractions and by counts gives disjoint parts covering everything', () => {
  const ds = range(10);
  const [a, b] = randomSplit(ds, [0.75, 0.25], { seed: 1 });
  assert.equal(a.length + b.length, 10);
  assert.deepEqual([a.length, b.length], [8, 2]); // floor(7.5)=7, floor(2.5)=2, leftover to the first
  const all = [...members(a), ...members(b)].sort((x, y) => x - y);
  assert.deepEqual(all, Array.from({ length: 10 }, (_, i) => i));
  const [c, d, e] = randomSplit(ds, [5, 3, 2], { seed: 1 });
  assert.deepEqual([c.length, d.length, e.length], [5, 3, 2]);
  assert.deepEqual(members(randomSplit(ds, [5, 5], { seed: 4 })[0]), members(randomSplit(ds, [5, 5], { seed: 4 })[0]));
  assert.notDeepEqual(members(randomSplit(ds, [5, 5], { seed: 4 })[0]), members(randomSplit(ds, [5, 5], { seed: 5 })[0]));
});

test('randomSplit rejects sizes that are neither counts nor fractions', () => {
  assertThrowsMsg(() => randomSplit(range(10), [5, 4]), /counts summing to the dataset length 10/, /sum 9/);
  assertThrowsMsg(() => randomSplit(range(10), [0.5, 0.6]), /fractions summing to 1/);
  assertThrowsMsg(() => randomSplit(range(10), [-1, 11]), /non-negative/);
});

test('stratifiedSplit keeps each class share in both parts', () => {
  // 60 of class 0, 30 of class 1, 10 of class 2, interleaved.
  const labels = new Int32Array(100).map((_, i) => (i % 10 === 0 ? 2 : i % 3 === 0 ? 1 : 0));
  const counts = [0, 0, 0];
  for (const l of labels) counts[l]++;
  const ds = new TensorDataset(tensor(new Float32Array(100), { shape: [100, 1] }), tensor(labels));
  const { train, validation } = stratifiedSplit(ds, { validationFraction: 0.2, seed: 3 });
  const share = (s: typeof train): number[] => {
    const c = [0, 0, 0];
    for (const i of s.indices) c[labels[i]]++;
    return c;
  };
  assert.deepEqual(share(validation), counts.map((c) => Math.round(0.2 * c)));
  assert.deepEqual(share(train), counts.map((c) => c - Math.round(0.2 * c)));
  const both = new Set([...train.indices, ...validation.indices]);
  assert.equal(both.size, 100);
  // Per-sample label path (no TensorDataset fast path) gives the same split.
  const gen = new GeneratorDataset(100, (i) => [[0], labels[i]], { dtypes: ['float32', 'int32'] });
  assert.deepEqual([...stratifiedSplit(gen, { validationFraction: 0.2, seed: 3 }).validation.indices], [...validation.indices]);
  assertThrowsMsg(() => stratifiedSplit(ds, { validationFraction: 1.5 }), /validationFraction must be in \[0, 1\]/);
  assertThrowsMsg(() => stratifiedSplit(ds, { labels: [1, 2] }), /got 2 labels for 100 samples/);
});
