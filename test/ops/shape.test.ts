import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { expectClose, expectGrad, FLOAT } from '../helpers.js';
import { testAllBackends } from './backends.js';

const F = { dtype: FLOAT } as const;
const any = (seed: number, shape: number[]) => g.randn(shape, { seed, ...F });
const range = (...shape: number[]) => g.arange(shape.reduce((a, b) => a * b, 1)).reshape(shape);

testAllBackends('reshape and flatten: -1 inference, 0-d, empty; gradients', async () => {
  const x = range(2, 3);
  assert.deepEqual(await g.reshape(x, [3, -1]).array(), [[0, 1], [2, 3], [4, 5]]);
  assert.deepEqual(g.reshape(x, [-1]).shape, [6]);
  assert.deepEqual(await g.reshape(g.scalar(7), [1, 1]).array(), [[7]]);
  assert.deepEqual(g.reshape(g.tensor([7]), []).shape, []);
  assert.deepEqual(g.reshape(g.zeros([0, 4]), [-1, 2]).shape, [0, 2]);
  assert.deepEqual(g.flatten(range(2, 3, 4)).shape, [24]);
  assert.deepEqual(g.flatten(range(2, 3, 4), 1).shape, [2, 12]);
  assert.deepEqual(g.flatten(range(2, 3, 4), 0, -2).shape, [6, 4]);
  assert.deepEqual(g.flatten(g.scalar(1)).shape, [1]);
  await expectGrad((t) => g.reshape(t, [3, 2]).mul(g.tensor([[1], [2], [3]], F)), [any(1, [2, 3])]);
  await expectGrad((t) => g.flatten(t.transpose(), 0).square(), [any(2, [3, 2])]);
});

testAllBackends('transpose and permute: values, negative axes, inverse gradient', async () => {
  const x = range(2, 3);
  assert.deepEqual(await g.transpose(x).array(), [[0, 3], [1, 4], [2, 5]]);
  assert.deepEqual(await x.T.array(), [[0, 3], [1, 4], [2, 5]]);
  assert.deepEqual(await g.transpose(g.tensor([1, 2])).array(), [1, 2]);
  const y = range(2, 3, 4);
  const p = g.permute(y, [2, 0, 1]);
  assert.deepEqual(p.shape, [4, 2, 3]);
  // p[k][i][j] = y[i][j][k] = 12i + 4j + k
  assert.equal((await p.data())[(3 * 2 + 1) * 3 + 2], 12 * 1 + 4 * 2 + 3);
  assert.deepEqual(await g.permute(y, [-1, 0, 1]).array(), await p.array());
  assert.deepEqual(g.permute(y).shape, [4, 3, 2]);
  assert.deepEqual(g.transpose(y, 0, -1).shape, [4, 3, 2]);
  assert.deepEqual(await g.transpose(y, 0, 2).array(), await g.permute(y, [2, 1, 0]).array());
  await expectGrad((t) => g.permute(t, [1, 2, 0]).mul(range(3, 4, 2).cast(FLOAT)), [any(3, [2, 3, 4])]);
  // The right operand is made inside f: expectGrad replays f on the reference backend.
  await expectGrad((t) => g.transpose(t).matmul(g.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]], F)), [any(4, [4, 2])]);
});

testAllBackends('squeeze and unsqueeze', async () => {
  const x = g.zeros([1, 3, 1, 2]);
  assert.deepEqual(g.squeeze(x).shape, [3, 2]);
  assert.deepEqual(g.squeeze(x, 0).shape, [3, 1, 2]);
  assert.deepEqual(g.squeeze(x, [0, -2]).shape, [3, 2]);
  assert.deepEqual(g.squeeze(g.zeros([1])).shape, []);
  assert.deepEqual(g.unsqueeze(g.zeros([3, 2]), 0).shape, [1, 3, 2]);
  assert.deepEqual(g.unsqueeze(g.zeros([3, 2]), 2).shape, [3, 2, 1]);
  assert.deepEqual(g.unsqueeze(g.zeros([3, 2]), -1).shape, [3, 2, 1]);
  assert.deepEqual(g.unsqueeze(g.zeros([3, 2]), -2).shape, [3, 1, 2]);
  assert.deepEqual(g.unsqueeze(g.scalar(1), 0).shape, [1]);
  await expectGrad((t) => g.unsqueeze(g.squeeze(t, 1), 0).square(), [any(5, [3, 1, 2])]);
  await expectGrad((t) => g.unsqueeze(g.squeeze(t.permute([1, 0, 2]).slice([0, 1])), -1).square(), [any(6, [3, 1, 2])]);
});

testAllBackends('expand: broadcasting to a larger shape, -1 keeps a dimension, gradient sums back', async () => {
  const x = g.tensor([[1], [2]]);
  assert.deepEqual(await g.expand(x, [2, 3]).array(), [[1, 1, 1], [2, 2, 2]]);
  assert.deepEqual(await g.expand(x, [2, -1, 2]).array(), [[[1, 1], [2, 2]], [[1, 1], [2, 2]]]);
  assert.deepEqual(await g.expand(g.scalar(5), [2]).array(), [5, 5]);
  assert.deepEqual(g.expand(x, [0, 2, 1]).shape, [0, 2, 1]);
  assert.deepEqual(await g.broadcastTo(x, [2, 2]).array(), [[1, 1], [2, 2]]);
  const v = g.tensor([[1], [2]], { ...F, requiresGrad: true });
  g.expand(v, [3, 2, 4]).sum().backward();
  await expectClose(v.grad!, [12, 12]);
  await expectGrad((t) => g.expand(t, [2, 3, 4]), [any(6, [3, 1])]);
  await expectGrad((t) => g.expand(t.transpose(), [2, 1, 3]), [any(7, [3, 1])]);
});

testAllBackends('slice: begin/end/step, negative and clipped bounds, empty results; gradient scatters back', async () => {
  const x = range(3, 4);
  assert.deepEqual(await g.slice(x, [1]).array(), [[4, 5, 6, 7], [8, 9, 10, 11]]);
  assert.deepEqual(await g.slice(x, [0, 1], [2, 3]).array(), [[1, 2], [5, 6]]);
  assert.deepEqual(await g.slice(x, [0, 0], [3, 4], [2, 3]).array(), [[0, 3], [8, 11]]);
  assert.deepEqual(await g.slice(x, [-1, -2]).array(), [[10, 11]]);
  assert.deepEqual(await g.slice(x, [0, 1], [undefined, -1]).array(), [[1, 2], [5, 6], [9, 10]]);
  assert.deepEqual(await g.slice(x, [-10, 2], [10, 100]).array(), [[2, 3], [6, 7], [10, 11]]);
  assert.deepEqual(g.slice(x, [2], [1]).shape, [0, 4]);
  assert.deepEqual(await g.slice(g.arange(10), [1], [10], [4]).array(), [1, 5, 9]);
  const v = g.tensor([1, 2, 3, 4, 5], { ...F, requiresGrad: true });
  g.slice(v, [1], [5], [2]).mul(g.tensor([10, 20], F)).sum().backward();
  await expectClose(v.grad!, [0, 10, 0, 20, 0]);
  await expectGrad((t) => g.slice(t, [1, 0], [3, 4], [1, 2]), [any(8, [3, 4])]);
  await expectGrad((t) => g.slice(t.transpose(), [0, 1], [-1, 3]), [any(9, [3, 4])]);
});

testAllBackends('concat: along each axis, negative axis, empty pieces; gradient splits back', async () => {
  const a = range(2, 2);
  const b = g.tensor([[9, 9]]);
  assert.deepEqual(await g.concat([a, b]).array(), [[0, 1], [2, 3], [9, 9]]);
  assert.deepEqual(await g.concat([a, b.transpose()], 1).array(), [[0, 1, 9], [2, 3, 9]]);
  assert.deepEqual(g.concat([a, b.transpose()], -1).shape, [2, 3]);
  assert.deepEqual(g.concat([a, g.zeros([0, 2]), b]).shape, [3, 2]);
  assert.deepEqual(await g.concat([a]).array(), await a.array());
  const x = g.tensor([1, 2], { ...F, requiresGrad: true });
  const y = g.tensor([3], { ...F, requiresGrad: true });
  g.concat([x, y]).mul(g.tensor([1, 2, 3], F)).sum().backward();
  await expectClose(x.grad!, [1, 2]);
  await expectClose(y.grad!, [3]);
  await expectGrad((p, q, r) => g.concat([p, q.transpose(), r], 1), [any(10, [2, 3]), any(11, [1, 2]), any(12, [2, 2])]);
  await expectGrad((p, q) => g.concat([p, q], 0), [any(13, [1, 2, 3]), any(14, [2, 2, 3])]);
});

testAllBackends('stack: new axis at any position, 0-d inputs; gradient', async () => {
  const a = g.tensor([1, 2]);
  const b = g.tensor([3, 4]);
  assert.deepEqual(await g.stack([a, b]).array(), [[1, 2], [3, 4]]);
  assert.deepEqual(await g.stack([a, b], 1).array(), [[1, 3], [2, 4]]);
  assert.deepEqual(await g.stack([a, b], -1).array(), [[1, 3], [2, 4]]);
  assert.deepEqual(await g.stack([g.scalar(1), g.scalar(2)]).array(), [1, 2]);
  await expectGrad((p, q) => g.stack([p, q.transpose()], 1), [any(15, [2, 3]), any(16, [3, 2])]);
});

testAllBackends('split: equal pieces, listed sizes, zero-size pieces; gradients of each piece', async () => {
  const x = range(4, 3);
  const [p, q] = g.split(x, 2);
  assert.deepEqual(await p.array(), [[0, 1, 2], [3, 4, 5]]);
  assert.deepEqual(await q.array(), [[6, 7, 8], [9, 10, 11]]);
  const parts = g.split(x, [1, 0, 2], 1);
  assert.deepEqual(parts.map((t) => t.shape), [[4, 1], [4, 0], [4, 2]]);
  assert.deepEqual(await parts[2].array(), [[1, 2], [4, 5], [7, 8], [10, 11]]);
  assert.deepEqual(await g.split(x, 3, -1)[1].array(), [[1], [4], [7], [10]]);
  await expectGrad((t) => {
    const [u, v] = g.split(t, [1, 2], 1);
    return u.mul(2).add(v.sum(1, { keepDims: true }).square());
  }, [any(17, [2, 3])]);
  await expectGrad((t) => g.split(t.transpose(), 2, 1)[1].exp(), [any(20, [4, 3])]);
});

testAllBackends('pad: per-axis before/after, a fill value, leading axes only; gradient is the inner slice', async () => {
  const x = g.tensor([[1, 2], [3, 4]]);
  assert.deepEqual(await g.pad(x, [[1, 0], [0, 2]]).array(), [[0, 0, 0, 0], [1, 2, 0, 0], [3, 4, 0, 0]]);
  assert.deepEqual(await g.pad(x, [[0, 1]], -1).array(), [[1, 2], [3, 4], [-1, -1]]);
  assert.deepEqual(await g.pad(g.tensor([5]), [[2, 1]], 7).array(), [7, 7, 5, 7]);
  assert.deepEqual(g.pad(g.zeros([0, 2]), [[1, 1]]).shape, [2, 2]);
  await expectGrad((t) => g.pad(t, [[1, 2], [0, 1]], 3), [any(18, [2, 3])]);
  await expectGrad((t) => g.pad(t.transpose(), [[0, 0], [2, 0]]), [any(19, [2, 3])]);
});
