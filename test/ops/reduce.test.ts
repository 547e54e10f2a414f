import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { expectClose, expectGrad, FLOAT, scalar } from '../helpers.js';
import { testAllBackends } from './backends.js';

const F = { dtype: FLOAT } as const;
const A = () => g.tensor([[1, 2, 3], [4, 5, 6]], F);
const any = (seed: number, shape: number[]) => g.randn(shape, { seed, ...F });

testAllBackends('sum and mean: all axes, one axis, negative axis, several axes, keepDims', async () => {
  const a = A();
  assert.equal(await scalar(g.sum(a)), 21);
  assert.deepEqual(g.sum(a).shape, []);
  assert.deepEqual(await g.sum(a, 0).array(), [5, 7, 9]);
  assert.deepEqual(await g.sum(a, -1).array(), [6, 15]);
  assert.deepEqual(await g.sum(a, 1, { keepDims: true }).array(), [[6], [15]]);
  assert.deepEqual(await g.sum(a, [0, 1], { keepDims: true }).array(), [[21]]);
  assert.equal(await scalar(g.mean(a)), 3.5);
  assert.deepEqual(await g.mean(a, 0).array(), [2.5, 3.5, 4.5]);
  assert.deepEqual(await g.mean(a, -1, { keepDims: true }).array(), [[2], [5]]);
  const b = g.arange(24, undefined, 1, F).reshape([2, 3, 4]);
  // Sum over the first and last axes: for j, Σ_i Σ_k (12i + 4j + k) = 2·(4·4j + 6) + 4·12 = 32j + 60.
  assert.deepEqual(await g.sum(b, [0, 2]).array(), [60, 92, 124]);
  assert.deepEqual(await g.sum(b, [2, 0]).array(), [60, 92, 124]);
  assert.deepEqual(await g.mean(b, [-1, 0]).array(), [7.5, 11.5, 15.5]);
});

testAllBackends('sum/mean: dtypes, 0-d and empty tensors', async () => {
  const i = g.tensor([[1, 2], [3, 4]], { dtype: 'int32' });
  assert.equal(g.sum(i).dtype, 'int32');
  assert.equal(await scalar(g.sum(i)), 10);
  assert.equal(g.mean(i).dtype, 'float32');
  assert.equal(await scalar(g.mean(i)), 2.5);
  assert.equal(await scalar(g.sum(g.tensor([true, true, false]))), 2);
  assert.equal(await scalar(g.sum(g.scalar(5))), 5);
  assert.equal(await scalar(g.sum(g.zeros([0, 3]))), 0);
  assert.deepEqual(await g.sum(g.zeros([0, 3]), 0).array(), [0, 0, 0]);
  assert.deepEqual(await g.sum(g.zeros([2, 0]), 1).array(), [0, 0]);
});

testAllBackends('max and min: values, ties, NaN propagation', async () => {
  const a = g.tensor([[1, 5, 3], [4, 2, 6]]);
  assert.equal(await scalar(g.max(a)), 6);
  assert.equal(await scalar(g.min(a)), 1);
  assert.deepEqual(await g.max(a, 0).array(), [4, 5, 6]);
  assert.deepEqual(await g.min(a, -1, { keepDims: true }).array(), [[1], [2]]);
  assert.deepEqual(await scalar(g.max(g.tensor([-Infinity, -3]))), -3);
  assert.ok(Number.isNaN(await scalar(g.max(g.tensor([1, NaN, 3])))));
  assert.ok(Number.isNaN(await scalar(g.min(g.tensor([1, NaN, -3])))));
  assert.equal(await scalar(g.max(g.tensor([3, 9], { dtype: 'int32' }))), 9);
});

testAllBackends('max/min gradient goes to the extremum, split evenly among ties', async () => {
  const x = g.tensor([[1, 3, 3], [2, 0, -1]], { ...F, requiresGrad: true });
  g.max(x, 1).sum().backward();
  await expectClose(x.grad!, [0, 0.5, 0.5, 1, 0, 0]);
  const y = g.tensor([[1, 3], [1, 0]], { ...F, requiresGrad: true });
  g.min(y).backward();
  await expectClose(y.grad!, [0, 0, 0, 1]);
});

testAllBackends('var and std: unbiased by default, correction 0, axes', async () => {
  const a = A();
  // Row [1,2,3]: mean 2, squared deviations 1+0+1 = 2 → var 1 (unbiased), 2/3 (population).
  await expectClose(g.variance(a, 1), [1, 1]);
  await expectClose(g.variance(a, 1, { correction: 0 }), [2 / 3, 2 / 3]);
  await expectClose(g.variance(a, 0), [4.5, 4.5, 4.5]);
  await expectClose(g.variance(a), [3.5]);
  await expectClose(g.std(a, 0, { keepDims: true }), [Math.sqrt(4.5), Math.sqrt(4.5), Math.sqrt(4.5)]);
  assert.deepEqual(g.std(a, 0, { keepDims: true }).shape, [1, 3]);
  await expectClose(a.var(-1), [1, 1]);
  await expectClose(a.std(), [Math.sqrt(3.5)]);
});

testAllBackends('logSumExp: hand values, no overflow at large inputs, all -inf rows', async () => {
  await expectClose(g.logSumExp(g.tensor([0, 0], F)), [Math.LN2], { atol: 1e-15 });
  await expectClose(g.logSumExp(g.tensor([[1000, 1000], [-1000, -1000]], F), 1), [1000 + Math.LN2, -1000 + Math.LN2]);
  await expectClose(g.logSumExp(g.tensor([[1, 2], [3, 4]], F), 0, { keepDims: true }), [
    3 + Math.log1p(Math.exp(-2)), 4 + Math.log1p(Math.exp(-2)),
  ], { atol: 1e-14 });
  assert.equal(await scalar(g.logSumExp(g.tensor([-Infinity, -Infinity]))), -Infinity);
  assert.deepEqual(g.logSumExp(g.tensor([[1, 2], [3, 4]]), 1, { keepDims: true }).shape, [2, 1]);
});

testAllBackends('reductions: gradients match finite differences (axes, keepDims, non-contiguous)', async () => {
  const fns: [string, (x: g.Tensor) => g.Tensor][] = [
    ['sum', (x) => g.sum(x)],
    ['sum axis', (x) => g.sum(x, 1)],
    ['sum axes keepDims', (x) => g.sum(x, [0, 2], { keepDims: true })],
    ['mean', (x) => g.mean(x, -1)],
    ['mean axes', (x) => g.mean(x, [0, 1])],
    ['max', (x) => g.max(x, 2)],
    ['min', (x) => g.min(x, 0, { keepDims: true })],
    ['max all', (x) => g.max(x)],
    ['var', (x) => g.variance(x, 1)],
    ['var pop', (x) => g.variance(x, [0, 2], { correction: 0 })],
    ['std', (x) => g.std(x, -1)],
    ['std all', (x) => g.std(x)],
    ['logSumExp', (x) => g.logSumExp(x, 1)],
    ['logSumExp all', (x) => g.logSumExp(x)],
  ];
  for (const [i, [name, fn]] of fns.entries()) {
    await expectGrad(fn, [any(i, [2, 3, 4])], { seed: i });
    // A permuted input (its own buffer order differs from the logical one).
    await expectGrad((x) => fn(x.permute([2, 0, 1])), [any(30 + i, [4, 2, 3])], { seed: i });
    void name;
  }
  // Reductions of a strided slice.
  await expectGrad((x) => g.sum(x.slice([0, 1], [4, 5], [2, 2]), 0), [any(99, [4, 5])]);
});

testAllBackends('argmax and argmin: first occurrence, axes, keepDims, flattened', async () => {
  const a = g.tensor([[1, 7, 7], [9, 0, 0]]);
  const m = g.argmax(a, 1);
  assert.equal(m.dtype, 'int32');
  assert.deepEqual(await m.array(), [1, 0]);
  assert.deepEqual(await g.argmin(a, 1).array(), [0, 1]);
  assert.deepEqual(await g.argmax(a, 0).array(), [1, 0, 0]);
  assert.deepEqual(await g.argmin(a, -2).array(), [0, 1, 1]);
  assert.deepEqual(await g.argmax(a, 1, { keepDims: true }).array(), [[1], [0]]);
  assert.equal(await scalar(g.argmax(a)), 3);
  assert.equal(await scalar(g.argmin(a)), 4);
  assert.deepEqual(g.argmax(a, undefined, { keepDims: true }).shape, [1, 1]);
  assert.equal(await scalar(g.argmax(g.tensor([-Infinity, -Infinity]))), 0);
  assert.equal(await scalar(g.argmax(g.scalar(4))), 0);
  assert.deepEqual(g.argmax(g.zeros([0, 3]), 1).shape, [0]);
  assert.deepEqual(g.argmin(g.zeros([2, 0, 3]), 2, { keepDims: true }).shape, [2, 0, 1]);
  // A NaN is the max and the min (as max() and min() report NaN), so its index is returned.
  assert.equal(await scalar(g.argmax(g.tensor([1, NaN, 3]))), 1);
  assert.equal(await scalar(g.argmin(g.tensor([1, NaN, -3]))), 1);
  assert.deepEqual(await g.argmax(g.tensor([[3, 1], [2, 4]]).transpose(), 1).array(), [0, 1]);
});

testAllBackends('reduction fuzz: random shapes and axis sets against a per-index oracle', async () => {
  const rng = new g.Random(5);
  for (let trial = 0; trial < 40; trial++) {
    const rank = rng.int(1, 5);
    const shape = Array.from({ length: rank }, () => rng.int(1, 4));
    const axes = shape.map((_, i) => i).filter(() => rng.next() < 0.5);
    const x = g.randn(shape, { rng, ...F });
    const keptShape = shape.filter((_, i) => !axes.includes(i));
    const outSize = keptShape.reduce((p, d) => p * d, 1);
    const sums = new Array<number>(outSize).fill(0);
    const maxs = new Array<number>(outSize).fill(-Infinity);
    const xv = await x.data();
    for (let i = 0; i < x.size; i++) {
      // Position of element i's kept coordinates in the output.
      let rem = i;
      const idx = new Array<number>(rank);
      for (let d = rank - 1; d >= 0; d--) {
        idx[d] = rem % shape[d];
        rem = Math.floor(rem / shape[d]);
      }
      let o = 0;
      for (let d = 0; d < rank; d++) if (!axes.includes(d)) o = o * shape[d] + idx[d];
      sums[o] += xv[i];
      maxs[o] = Math.max(maxs[o], xv[i]);
    }
    const tag = `${JSON.stringify(shape)} axes ${JSON.stringify(axes)}`;
    const ax = axes.length === 0 ? [] : axes.map((a) => (rng.next() < 0.5 ? a - rank : a));
    await expectClose(g.sum(x, ax), sums, { atol: 1e-12, msg: tag });
    await expectClose(g.max(x, ax), maxs, { atol: 0, msg: tag });
  }
});
