import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { expectClose, expectGrad, FLOAT } from '../helpers.js';
import { testAllBackends } from './backends.js';

const f64 = { dtype: FLOAT };
const any = (seed: number, shape: number[]) => g.randn(shape, { seed, ...f64 });
const idx = (v: g.NestedArray) => g.tensor(v, { dtype: 'int32' });

testAllBackends('indexSelect: rows, columns, negative and repeated indices, empty index', async () => {
  const x = g.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  assert.deepEqual(await g.indexSelect(x, 0, idx([2, 0])).array(), [[7, 8, 9], [1, 2, 3]]);
  assert.deepEqual(await g.indexSelect(x, 1, idx([1, 1])).array(), [[2, 2], [5, 5], [8, 8]]);
  assert.deepEqual(await g.indexSelect(x, -1, idx([-1])).array(), [[3], [6], [9]]);
  assert.deepEqual(g.indexSelect(x, 0, idx([])).shape, [0, 3]);
  assert.deepEqual(await x.indexSelect(0, idx([1])).array(), [[4, 5, 6]]);
  const y = g.arange(8).reshape([2, 2, 2]);
  assert.deepEqual(await g.indexSelect(y, 1, idx([1])).array(), [[[2, 3]], [[6, 7]]]);
});

testAllBackends('indexSelect gradient accumulates over repeated indices', async () => {
  const x = g.tensor([[1, 2], [3, 4], [5, 6]], { ...f64, requiresGrad: true });
  g.indexSelect(x, 0, idx([2, 0, 2])).sum().backward();
  await expectClose(x.grad!, [1, 1, 0, 0, 2, 2]);
  await expectGrad((t) => g.indexSelect(t, 1, idx([3, 0, 3, -2])), [any(1, [2, 4])]);
  await expectGrad((t) => g.indexSelect(t.transpose(), 0, idx([1, 1, 0])), [any(2, [3, 2])]);
});

testAllBackends('gather: PyTorch semantics along each axis, index narrower than the input', async () => {
  const x = g.tensor([[1, 2, 3], [4, 5, 6]]);
  // out[i][j] = x[i][index[i][j]]
  assert.deepEqual(await g.gather(x, 1, idx([[2, 0], [1, 1]])).array(), [[3, 1], [5, 5]]);
  // out[i][j] = x[index[i][j]][j]
  assert.deepEqual(await g.gather(x, 0, idx([[1, 0, 1]])).array(), [[4, 2, 6]]);
  assert.deepEqual(await g.gather(x, -1, idx([[2], [0]])).array(), [[3], [4]]);
  // Index smaller than x along the other axis: only its rows are read.
  assert.deepEqual(await g.gather(x, 1, idx([[1, 2]])).array(), [[2, 3]]);
  // The README's pattern: pick each row's label from log-probabilities.
  const labels = idx([2, 0]);
  assert.deepEqual(await x.gather(1, labels.reshape([2, 1])).array(), [[3], [4]]);
  const y = g.arange(12).reshape([2, 3, 2]);
  assert.deepEqual(await g.gather(y, 1, idx([[[2, 0]], [[1, 1]]])).array(), [[[4, 1]], [[8, 9]]]);
});

testAllBackends('gather gradient scatters (and adds) back into the input', async () => {
  const x = g.tensor([[1, 2, 3], [4, 5, 6]], { ...f64, requiresGrad: true });
  g.gather(x, 1, idx([[2, 2], [0, 1]])).sum().backward();
  await expectClose(x.grad!, [0, 0, 2, 1, 1, 0]);
  await expectGrad((t) => g.gather(t, 0, idx([[1, 0, 1], [1, 1, 0]])), [any(3, [2, 3])]);
  await expectGrad((t) => g.gather(t, 1, idx([[0], [2], [1]])), [any(4, [3, 4])]);
  await expectGrad((t) => g.gather(t.transpose(), 1, idx([[1, 0], [0, 0]])), [any(5, [3, 2])]);
});

testAllBackends('oneHot: float32 result with a trailing class axis, any label shape', async () => {
  const y = g.oneHot(idx([2, 0]), 3);
  assert.equal(y.dtype, 'float32');
  assert.deepEqual(await y.array(), [[0, 0, 1], [1, 0, 0]]);
  assert.deepEqual(await g.oneHot(idx([[1], [0]]), 2).array(), [[[0, 1]], [[1, 0]]]);
  assert.deepEqual(await g.oneHot(g.scalar(1, { dtype: 'int32' }), 2).array(), [0, 1]);
  assert.deepEqual(await g.oneHot(g.tensor([1, 0]), 2).array(), [[0, 1], [1, 0]]);
  assert.deepEqual(g.oneHot(idx([]), 4).shape, [0, 4]);
});
