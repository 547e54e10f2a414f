import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, Tensor } from '../../src/index.js';
import { ArrayDataset, defaultCollate, fromGenerator, GeneratorDataset, Subset, TensorDataset } from '../../src/data/index.js';
import { assertThrowsMsg } from '../helpers.js';

test('TensorDataset returns rows of every tensor and batches by row copies', () => {
  const x = tensor([[1, 2], [3, 4], [5, 6]]);
  const y = tensor([7, 8, 9], { dtype: 'int32' });
  const ds = new TensorDataset(x, y);
  assert.equal(ds.length, 3);
  const [x1, y1] = ds.get(1);
  assert.deepEqual(x1.shape, [2]);
  assert.deepEqual([...x1.dataSync()], [3, 4]);
  assert.deepEqual(y1.shape, []);
  assert.equal(y1.dtype, 'int32');
  assert.equal(y1.item(), 8);
  const [xb, yb] = ds.getBatch([2, 0]);
  assert.deepEqual(xb.toArray(), [[5, 6], [1, 2]]);
  assert.deepEqual([...yb.dataSync()], [9, 7]);
  // The batch is a copy: the dataset's tensor is untouched by writes to it.
  xb.assign([0, 0, 0, 0]);
  assert.deepEqual(x.toArray(), [[1, 2], [3, 4], [5, 6]]);
});

test('TensorDataset rejects mismatched lengths and bad indices', () => {
  assertThrowsMsg(() => new TensorDataset(tensor([[1], [2]]), tensor([1, 2, 3])), /TensorDataset/, /\[2, 1\]/, /\[3\]/);
  const ds = new TensorDataset(tensor([1, 2]));
  assertThrowsMsg(() => ds.get(2), /index 2 is out of range/, /2 samples/);
  assertThrowsMsg(() => new TensorDataset(tensor(3)), /0-d/);
});

test('ArrayDataset converts inputs to float32 and integer targets to int32', () => {
  const ds = new ArrayDataset([[[0, 1], [1, 0]], [1, 0]]);
  const [x, y] = ds.getBatch([0, 1]);
  assert.equal(x.dtype, 'float32');
  assert.equal(y.dtype, 'int32');
  const reg = new ArrayDataset([[[0], [1]], [0.5, 1.5]]);
  assert.equal(reg.get(0)[1].dtype, 'float32');
  const forced = new ArrayDataset([[[0], [1]], [1, 2]], { dtypes: ['float64', 'float32'] });
  assert.equal(forced.get(0)[0].dtype, 'float64');
  assert.equal(forced.get(0)[1].dtype, 'float32');
  assertThrowsMsg(() => new ArrayDataset([[1, 2]], { dtypes: ['float32', 'int32'] }), /2 entries but there are 1 fields/);
});

test('GeneratorDataset computes samples on demand; fromGenerator materialises an iterable', () => {
  let calls = 0;
  const ds = new GeneratorDataset(4, (i) => {
    calls++;
    return [[i, i * i], i % 2];
  }, { dtypes: ['float32', 'int32'], cache: true });
  const [x, y] = ds.get(3);
  assert.deepEqual([...x.dataSync()], [3, 9]);
  assert.equal(y.dtype, 'int32');
  ds.get(3);
  assert.equal(calls, 1, 'cached sample is not recomputed');
  assertThrowsMsg(() => ds.get(4), /out of range/);
  const bad = new GeneratorDataset(1, () => 5 as unknown as number[]);
  assertThrowsMsg(() => bad.get(0), /returned number for index 0/);

  const g = fromGenerator(function* () {
    for (let i = 0; i < 3; i++) yield [tensor([i, -i]), i];
  });
  assert.equal(g.length, 3);
  assert.deepEqual([...g.get(2)[0].dataSync()], [2, -2]);
});

test('defaultCollate stacks fields and names the mismatching sample', () => {
  const s = (v: number): Tensor[] => [tensor([v, v]), tensor(v, { dtype: 'int32' })];
  const [x, y] = defaultCollate([s(1), s(2), s(3)]);
  assert.deepEqual(x.shape, [3, 2]);
  assert.deepEqual([...x.dataSync()], [1, 1, 2, 2, 3, 3]);
  assert.deepEqual(y.shape, [3]);
  assert.equal(y.dtype, 'int32');
  assertThrowsMsg(() => defaultCollate([s(1), [tensor([1, 2, 3]), tensor(1, { dtype: 'int32' })]]), /field 0 of sample 1/, /\[3\]/, /\[2\]/);
  assertThrowsMsg(() => defaultCollate([]), /empty/);
});

test('Subset maps indices and batches through the parent', () => {
  const ds = new TensorDataset(tensor([10, 11, 12, 13]));
  const sub = new Subset(ds, [3, 1]);
  assert.equal(sub.length, 2);
  assert.equal(sub.get(0)[0].item(), 13);
  assert.deepEqual([...sub.getBatch([1, 0])[0].dataSync()], [11, 13]);
  assertThrowsMsg(() => new Subset(ds, [4]), /index 4 is out of range/);
});
