import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertClose, assertGrad } from '../helpers.js';
import { testAllBackends } from './backends.js';

const f64 = { dtype: 'float64' } as const;
const any = (seed: number, shape: number[]) => g.randn(shape, { seed, ...f64 });
const idx = (v: g.NestedArray) => g.tensor(v, { dtype: 'int32' });

testAllBackends('indexSelect: rows, columns, negative and repeated indices, empty index', () => {
  const x = g.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  assert.deepEqual(g.indexSelect(x, 0, idx([2, 0])).toArray(), [[7, 8, 9], [1, 2, 3]]);
  assert.deepEqual(g.indexSelect(x, 1, idx([1, 1])).toArray(), [[2, 2], [5, 5], [8, 8]]);
  assert.deepEqual(g.indexSelect(x, -1, idx([-1])).toArray(), [[3], [6], [9]]);
  assert.deepEqual(g.indexSelect(x, 0, idx([])).shape, [0, 3]);
  assert.deepEqual(x.indexSelect(0, idx([1])).toArray(), [[4, 5, 6]]);
  const y = g.arange(8).reshape([2, 2, 2]);
  assert.deepEqual(g.indexSelect(y, 1, idx([1])).toArray(), [[[2, 3]], [[6, 7]]]);
});

testAllBackends('indexSelect gradient accumulates over repeated indices', () => {
  const x = g.tensor([[1, 2], [3, 4], [5, 6]], { ...f64, requiresGrad: true });
  g.indexSelect(x, 0, idx([2, 0, 2])).sum().backward();
  assertClose(x.grad!, [1, 1, 0, 0, 2, 2]);
  assertGrad((t) => g.indexSelect(t, 1, idx([3, 0, 3, -2])), [any(1, [2, 4])]);
  assertGrad((t) => g.indexSelect(t.transpose(), 0, idx([1, 1, 0])), [any(2, [3, 2])]);
});

testAllBackends('gather: PyTorch semantics along each axis, index narrower than the input', () => {
  const x = g.tensor([[1, 2, 3], [4, 5, 6]]);
  // out[i][j] = x[i][index[i][j]]
  assert.deepEqual(g.gather(x, 1, idx([[2, 0], [1, 1]])).toArray(), [[3, 1], [5, 5]]);
  // out[i][j] = x[index[i][j]][j]
  assert.deepEqual(g.gather(x, 0, idx([[1, 0, 1]])).toArray(), [[4, 2, 6]]);
  assert.deepEqual(g.gather(x, -1, idx([[2], [0]])).toArray(), [[3], [4]]);
  // Index smaller than x along the other axis: only its rows are read.
  assert.deepEqual(g.gather(x, 1, idx([[1, 2]])).toArray(), [[2, 3]]);
  // The README's pattern: pick each row's label from log-probabilities.
  const labels = idx([2, 0]);
  assert.deepEqual(x.gather(1, labels.reshape([2, 1])).toArray(), [[3], [4]]);
  const y = g.arange(12).reshape([2, 3, 2]);
  assert.deepEqual(g.gather(y, 1, idx([[[2, 0]], [[1, 1]]])).toArray(), [[[4, 1]], [[8, 9]]]);
});

testAllBackends('gather gradient scatters (and adds) back into the input', () => {
  const x = g.tensor([[1, 2, 3], [4, 5, 6]], { ...f64, requiresGrad: true });
  g.gather(x, 1, idx([[2, 2], [0, 1]])).sum().backward();
  assertClose(x.grad!, [0, 0, 2, 1, 1, 0]);
  assertGrad((t) => g.gather(t, 0, idx([[1, 0, 1], [1, 1, 0]])), [any(3, [2, 3])]);
  assertGrad((t) => g.gather(t, 1, idx([[0], [2], [1]])), [any(4, [3, 4])]);
  assertGrad((t) => g.gather(t.transpose(), 1, idx([[1, 0], [0, 0]])), [any(5, [3, 2])]);
});

testAllBackends('oneHot: float32 result with a trailing class axis, any label shape', () => {
  const y = g.oneHot(idx([2, 0]), 3);
  assert.equal(y.dtype, 'float32');
  assert.deepEqual(y.toArray(), [[0, 0, 1], [1, 0, 0]]);
  assert.deepEqual(g.oneHot(idx([[1], [0]]), 2).toArray(), [[[0, 1]], [[1, 0]]]);
  assert.deepEqual(g.oneHot(g.scalar(1, { dtype: 'int32' }), 2).toArray(), [0, 1]);
  assert.deepEqual(g.oneHot(g.tensor([1, 0]), 2).toArray(), [[0, 1], [1, 0]]);
  assert.deepEqual(g.oneHot(idx([]), 4).shape, [0, 4]);
});
