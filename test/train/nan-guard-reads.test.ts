/**
 * Issue 13 item 1: the NaN guard checks tensors with the nonFiniteCount kernel (a flag array per
 * call, read once) instead of downloading and scanning every gradient and weight on the host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataArray } from '../../src/core/dtype.js';
import { getBackend } from '../../src/backend/registry.js';
import { referenceKernels } from '../../src/index.js';
import { fromArray, readSync } from '../../src/tensor/host.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { NanGuard, Trainer } from '../../src/train/index.js';
import { nonFiniteCounts } from '../../src/train/callbacks/non-finite.js';
import { setup } from './fixtures.js';

const inputs = (): DataArray[] => [
  new Float32Array([1, 2, 3, 4, 5]),
  new Float32Array([1, NaN, 3, Infinity, -Infinity, 0]),
  new Float64Array([-Infinity, 1e308, -0]),
  new Int32Array([0, -1, 2147483647]),
  new Float32Array(0),
];

test('nonFiniteCount counts NaN/±Inf per buffer (int buffers count 0), on the reference and the current backend', () => {
  const want = [0, 3, 1, 0, 0];
  const ref = referenceKernels.nonFiniteCount(inputs());
  assert.ok(ref instanceof Int32Array);
  assert.deepEqual(Array.from(ref), want);
  // Through handles on the current backend (what the guard calls).
  const ts = inputs().map((a) => fromArray(a, [a.length]));
  const flags = new Tensor(getBackend().kernels.nonFiniteCount(ts.map((t) => t.handle)), [ts.length]);
  assert.equal(flags.dtype, 'int32');
  assert.deepEqual(Array.from(readSync(flags)), want);
  assert.deepEqual(Array.from(nonFiniteCounts(ts)), want);
  // Past the unrolled part: a NaN in the tail of a length that is not a multiple of 4.
  assert.deepEqual(Array.from(referenceKernels.nonFiniteCount([new Float32Array([0, 0, 0, 0, 0, 0, NaN])])), [1]);
});

test('the NaN guard makes two flag calls per training step (loss + every gradient, then every weight)', async () => {
  const s = setup();
  const kernels = getBackend().kernels as { nonFiniteCount: (xs: readonly unknown[]) => unknown };
  const original = kernels.nonFiniteCount;
  const sizes: number[] = [];
  kernels.nonFiniteCount = (xs) => {
    sizes.push(xs.length);
    return original.call(kernels, xs);
  };
  let steps = 0;
  try {
    const t = new Trainer({ model: s.model, optimizer: s.optimizer, trainData: s.train, defaultCallbacks: false, callbacks: [new NanGuard()] });
    await t.fit({ epochs: 1 });
    steps = t.step;
  } finally {
    kernels.nonFiniteCount = original;
  }
  const params = s.model.parameters().length;
  assert.equal(steps, 6);
  // afterBackward: the loss and every gradient in one call; afterStep: every weight in one call.
  assert.deepEqual(sizes, Array.from({ length: steps }, () => [1 + params, params]).flat());
});
