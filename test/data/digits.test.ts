import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { DataLoader, randomAffine, Standardize, stratifiedSplit } from '../../src/data/index.js';
import { loadDigits, setDigitsSource, type Digits } from '../../src/digits.js';

// The 10k digits are parsed once for the whole file.
const digits: Promise<Digits> = loadDigits({ trainSize: 8000, testSize: 2000, seed: 0 });

test('loadDigits: shapes, dtypes, value range and all ten classes', async () => {
  const d = await digits;
  assert.deepEqual(d.xTrain.shape, [8000, 1, 28, 28]);
  assert.deepEqual(d.xTest.shape, [2000, 1, 28, 28]);
  assert.equal(d.xTrain.dtype, 'float32');
  assert.equal(d.yTrain.dtype, 'int32');
  assert.equal(d.train.length, 8000);
  const x = d.xTrain.dataSync();
  let min = Infinity, max = -Infinity;
  for (const v of x) { if (v < min) min = v; if (v > max) max = v; }
  assert.equal(min, 0);
  assert.ok(max > 0.99 && max <= 1);
  const counts = new Array(10).fill(0);
  for (const l of d.yTrain.dataSync()) counts[l]++;
  for (const c of counts) assert.ok(c > 600 && c < 1000, `class counts ${counts}`); // ~800 each
  // A digit has ink near its centre and little at the border.
  let centre = 0, border = 0;
  for (let i = 0; i < 8000; i++) {
    centre += x[i * 784 + 14 * 28 + 14];
    border += x[i * 784];
  }
  assert.ok(centre / 8000 > 0.3 && border === 0, `centre mean ${centre / 8000}, corner sum ${border}`);
});

test('loadDigits: train and test are disjoint and the split is seeded', async () => {
  const d = await digits;
  const key = (x: Float32Array | Float64Array | Int32Array | Uint8Array, i: number): string => x.subarray(i * 784, (i + 1) * 784).join(',');
  const tr = d.xTrain.dataSync();
  const te = d.xTest.dataSync();
  const trainKeys = new Set<string>();
  for (let i = 0; i < 8000; i++) trainKeys.add(key(tr, i));
  let shared = 0;
  for (let i = 0; i < 2000; i++) if (trainKeys.has(key(te, i))) shared++;
  // The package may contain a few duplicated images; the split itself never reuses an index.
  assert.ok(shared < 10, `${shared} test images also in train`);
  const again = await loadDigits({ trainSize: 100, testSize: 10, seed: 0 });
  assert.deepEqual([...again.yTrain.dataSync()], [...d.yTrain.dataSync().subarray(0, 100)]);
  const other = await loadDigits({ trainSize: 100, testSize: 10, seed: 1 });
  assert.notDeepEqual([...other.yTrain.dataSync()], [...again.yTrain.dataSync()]);
  await assert.rejects(loadDigits({ trainSize: 9000, testSize: 2000 }), /trainSize \+ testSize = 11000 but only 10000/);
});

test('loadDigits reports corrupted data with its digit and position', async () => {
  await digits;
  try {
    setDigitsSource(async () => Array.from({ length: 10 }, (_, d) => new Array(784 * 2).fill(d === 3 ? 0.5 : 0)));
    const ok = await loadDigits({ trainSize: 15, testSize: 5 });
    assert.equal(ok.xTrain.shape[0], 15);
    setDigitsSource(async () => Array.from({ length: 10 }, (_, d) => (d === 4 ? [...new Array(784 + 5).fill(0), NaN] : new Array(784).fill(0))));
    await assert.rejects(loadDigits({ trainSize: 1, testSize: 1 }), /digit 4: 790 values is not a whole number of 28×28 images/);
    setDigitsSource(async () => Array.from({ length: 10 }, (_, d) => new Array(784).fill(d === 7 ? 2 : 0)));
    await assert.rejects(loadDigits({ trainSize: 1, testSize: 1 }), /digit 7, image 0, pixel 0: value 2 is outside \[0, 1\]/);
  } finally {
    setDigitsSource(null);
  }
});

test('digits pipeline: stratified validation split, per-channel standardization fitted on train, one loader epoch', async () => {
  const d = await digits;
  const { train, validation } = stratifiedSplit(d.train, { validationFraction: 0.1, seed: 0 });
  assert.equal(train.length + validation.length, 8000);
  const labels = d.yTrain.dataSync();
  const share = (idx: Int32Array, c: number): number => idx.filter((i) => labels[i] === c).length / idx.length;
  for (let c = 0; c < 10; c++) assert.ok(Math.abs(share(train.indices, c) - share(validation.indices, c)) < 0.01, `class ${c} share`);
  const [xFit] = train.getBatch(Int32Array.from({ length: train.length }, (_, i) => i));
  const norm = new Standardize({ per: 'channel' }).fit(xFit);
  assert.ok(norm.mean[0] > 0.1 && norm.mean[0] < 0.2, `mean pixel ${norm.mean[0]}`);
  const loader = new DataLoader(train, { batchSize: 256, shuffle: true, seed: 1, augment: randomAffine({ degrees: 10, maxShift: 2 }) });
  let count = 0;
  const seen = new Uint8Array(10);
  for (const [xb, yb] of loader) {
    assert.deepEqual(xb.shape.slice(1), [1, 28, 28]);
    const z = norm.transform(xb);
    assert.equal(z.shape[0], yb.shape[0]);
    count += yb.shape[0];
    for (const l of yb.dataSync()) seen[l] = 1;
  }
  assert.equal(count, train.length);
  assert.equal(seen.reduce((a, b) => a + b, 0), 10);
});
