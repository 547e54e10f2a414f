import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random, tensor, type Tensor } from '../../src/index.js';
import { compose, DataLoader, type DataLoaderState, GeneratorDataset, gaussianNoise, TensorDataset, type Augmentation, type Batch } from '../../src/data/index.js';
import { assertThrowsMsg } from '../helpers.js';

// Sample i is x = [i, 100 + i], y = i, so a batch reveals exactly which samples it holds.
function indexed(n: number): TensorDataset {
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = 100 + i;
    y[i] = i;
  }
  return new TensorDataset(tensor(x, { shape: [n, 2] }), tensor(y));
}

const ids = (b: Batch): number[] => [...b[1].dataSync()];
const epochIds = (loader: Iterable<Batch>): number[][] => [...loader].map(ids);

test('each epoch visits every sample exactly once, in batches of batchSize', () => {
  const loader = new DataLoader(indexed(23), { batchSize: 5, shuffle: true, seed: 3 });
  assert.equal(loader.length, 5);
  for (let epoch = 0; epoch < 2; epoch++) {
    const batches: Batch[] = [...loader];
    assert.deepEqual(batches.map((b) => b[0].shape[0]), [5, 5, 5, 5, 3]);
    const seen = batches.flatMap(ids).sort((a, b) => a - b);
    assert.deepEqual(seen, Array.from({ length: 23 }, (_, i) => i));
    // x rows travel with their labels
    for (const [x, y] of batches) {
      const xv = x.dataSync();
      const yv = y.dataSync();
      for (let r = 0; r < yv.length; r++) assert.deepEqual([xv[2 * r], xv[2 * r + 1]], [yv[r], 100 + yv[r]]);
    }
  }
  assert.equal(loader.epoch, 2);
});

test('without shuffle the order is sequential; dropLast drops the short batch', () => {
  const loader = new DataLoader(indexed(7), { batchSize: 3, dropLast: true });
  assert.equal(loader.length, 2);
  assert.deepEqual(epochIds(loader), [[0, 1, 2], [3, 4, 5]]);
});

test('the same seed gives the same order; epochs and seeds differ', () => {
  const a = new DataLoader(indexed(50), { batchSize: 50, shuffle: true, seed: 11 });
  const b = new DataLoader(indexed(50), { batchSize: 50, shuffle: true, seed: 11 });
  const c = new DataLoader(indexed(50), { batchSize: 50, shuffle: true, seed: 12 });
  const a1 = epochIds(a);
  const a2 = epochIds(a);
  assert.deepEqual(a1, epochIds(b));
  assert.deepEqual(a2, epochIds(b));
  assert.notDeepEqual(a1, a2);
  assert.notDeepEqual(a1, epochIds(c));
});

test('a saved state resumes the exact continuation, mid-epoch and across epochs', () => {
  const noisy = gaussianNoise({ std: 1 });
  const make = (): DataLoader =>
    new DataLoader(new TensorDataset(tensor(new Float32Array(20 * 4), { shape: [20, 1, 2, 2] }), tensor(new Int32Array(20).map((_, i) => i))), {
      batchSize: 3, shuffle: true, seed: 5, augment: noisy,
    });
  const key = (b: Batch): string => JSON.stringify([[...b[0].dataSync()], [...b[1].dataSync()]]);
  // Uninterrupted reference: epochs 0 and 1.
  const ref = make();
  const expected = [...[...ref].map(key), ...[...ref].map(key)];

  const first = make();
  const got: string[] = [];
  let saved = first.state();
  for (const b of first) {
    got.push(key(b));
    if (got.length === 4) {
      saved = JSON.parse(JSON.stringify(first.state())); // survives a round trip through JSON
      break;
    }
  }
  assert.equal(saved.position, 4);
  const resumed = make();
  resumed.loadState(saved);
  for (const b of resumed) got.push(key(b));
  for (const b of resumed) got.push(key(b));
  assert.deepEqual(got, expected);
  assert.equal(resumed.epoch, 2);

  // A state taken between epochs continues with the next epoch.
  const between = make();
  [...between];
  const s = between.state();
  assert.equal(s.inEpoch, false);
  const other = make();
  other.loadState(s);
  assert.deepEqual([...other].map(key), expected.slice(7));
});

test('loadState rejects a state from a different loader', () => {
  const s = new DataLoader(indexed(10), { batchSize: 2 }).state();
  assertThrowsMsg(() => new DataLoader(indexed(12), { batchSize: 2 }).loadState(s), /10 samples in batches of 2/, /12 samples/);
  assertThrowsMsg(() => new DataLoader(indexed(10)).loadState({} as never), /expected a state/);
});

test('breaking after the last batch does not produce an empty next epoch', () => {
  const loader = new DataLoader(indexed(4), { batchSize: 2 });
  let n = 0;
  for (const _ of loader) {
    if (++n === 2) break;
  }
  assert.equal(epochIds(loader).length, 2);
});

test('async iteration with prefetch yields the same batches as sync iteration', async () => {
  const sync = new DataLoader(indexed(30), { batchSize: 4, shuffle: true, seed: 9 });
  const asyncL = new DataLoader(indexed(30), { batchSize: 4, shuffle: true, seed: 9, prefetch: 2 });
  const noPrefetch = new DataLoader(indexed(30), { batchSize: 4, shuffle: true, seed: 9, prefetch: 0 });
  const want = epochIds(sync);
  const got: number[][] = [];
  for await (const b of asyncL) got.push(ids(b));
  assert.deepEqual(got, want);
  const got0: number[][] = [];
  for await (const b of noPrefetch) got0.push(ids(b));
  assert.deepEqual(got0, want);
  assert.equal(asyncL.epoch, 1);
});

test('async: a break keeps the position; errors in a prefetched batch surface when reached', async () => {
  const loader = new DataLoader(indexed(10), { batchSize: 2, prefetch: 3 });
  for await (const _ of loader) break;
  assert.equal(loader.position, 1);
  const rest: number[][] = [];
  for await (const b of loader) rest.push(ids(b));
  assert.deepEqual(rest, [[2, 3], [4, 5], [6, 7], [8, 9]]);

  const failing = new GeneratorDataset(4, (i) => {
    if (i === 3) throw new Error('broken sample 3');
    return [[i]];
  });
  const l2 = new DataLoader(failing, { batchSize: 2, prefetch: 1 });
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const [x] of l2) seen.push(...x.dataSync());
  }, /broken sample 3/);
  assert.deepEqual(seen, [0, 1]);
});

test('augmentation and batchTransform run only in training mode, seeded per batch', () => {
  const marker: Augmentation = { name: 'plusOne', apply: (x: Tensor) => tensor(x.dataSync().map((v) => v + 1), { shape: [...x.shape] }) };
  const ds = new TensorDataset(tensor(new Float32Array(8), { shape: [2, 1, 2, 2] }), tensor([0, 1], { dtype: 'int32' }));
  const loader = new DataLoader(ds, { batchSize: 2, augment: compose([marker]), batchTransform: (b) => [b[0], b[1], tensor([42])] });
  const [trainBatch] = [...loader];
  assert.deepEqual([...trainBatch[0].dataSync()], new Array(8).fill(1));
  assert.equal(trainBatch.length, 3);
  loader.eval();
  const [evalBatch] = [...loader];
  assert.deepEqual([...evalBatch[0].dataSync()], new Array(8).fill(0));
  assert.equal(evalBatch.length, 2);

  // Same seed → same augmentation draws; the draws differ between batches.
  const noisy = (seed: number): number[][] =>
    [...new DataLoader(ds, { batchSize: 1, seed, augment: gaussianNoise({ std: 1 }) })].map((b) => [...b[0].dataSync()]);
  assert.deepEqual(noisy(1), noisy(1));
  assert.notDeepEqual(noisy(1), noisy(2));
  assert.notDeepEqual(noisy(1)[0], noisy(1)[1]);
});

test('custom collate and validation of options', () => {
  const ds = indexed(4);
  const loader = new DataLoader(ds, { batchSize: 2, collate: (samples) => [tensor(samples.map((s) => s[1].item()))] });
  assert.deepEqual(epochIds({ [Symbol.iterator]: () => [...loader].map((b) => [b[0], b[0]])[Symbol.iterator]() }), [[0, 1], [2, 3]]);
  assertThrowsMsg(() => new DataLoader(ds, { batchSize: 0 }), /batchSize must be a positive integer, got 0/);
  assertThrowsMsg(() => new DataLoader(ds, { prefetch: -1 }), /prefetch/);
  assertThrowsMsg(() => new DataLoader({} as never), /expected a Dataset/);
  assertThrowsMsg(() => new DataLoader(ds, { seed: 1, rng: new Random(1) }), /either rng or seed/);
});

test('state() at the last batch does not end a running iteration', () => {
  const loader = new DataLoader(indexed(10), { batchSize: 4, shuffle: true, seed: 1 });
  let batches = 0;
  let saved: DataLoaderState | null = null;
  for (const _ of loader) {
    batches++;
    saved = loader.state(); // at the last batch this used to close the epoch mid-iteration
  }
  assert.equal(batches, 3);
  assert.equal(saved!.epoch, 1);
  assert.equal(saved!.inEpoch, false);
  // The saved state resumes exactly where an uninterrupted loader goes next.
  const other = new DataLoader(indexed(10), { batchSize: 4, shuffle: true, seed: 1 });
  other.loadState(saved!);
  assert.deepEqual([...other.epochOrder()], [...loader.epochOrder()]);
});
