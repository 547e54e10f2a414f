import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as g from '../../src/index.js';
import { expectClose, expectGrad, expectThrowsMsg, onBackend } from '../helpers.js';

// Backends that read asynchronously (as a GPU does), one of them with a wrong `mul` kernel: the
// device path of expectGrad (compare with the reference backend) must pass on the first and fail
// on the second, or it proves nothing on webgpu.
g.registerBackend('strict-async-helpers', () => g.createStrictBackend({ asyncReads: true }), -10);
g.registerBackend('strict-async-broken-mul', () => {
  const b = g.createStrictBackend({ asyncReads: true });
  const binary = b.kernels.binary.bind(b.kernels);
  b.kernels.binary = (op, a, aShape, bb, bShape, outShape, dtype) => binary(op === 'mul' ? 'add' : op, a, aShape, bb, bShape, outShape, dtype);
  return b;
}, -10);

const inputs = () => [g.randn([3, 4], { seed: 1 }), g.randn([3, 4], { seed: 2 })];

test('expectGrad on an async backend compares with the reference backend: right kernels pass', async () => {
  await onBackend('strict-async-helpers', () => expectGrad((a, b) => a.mul(b).tanh(), inputs()));
});

test('expectGrad on an async backend fails when a kernel is wrong', async () => {
  await onBackend('strict-async-broken-mul', async () => {
    await assert.rejects(expectGrad((a, b) => a.mul(b).tanh(), inputs()), /gradient of input 0 on \w+ vs reference: element \d+: got/);
  });
});

test('expectClose reads asynchronously and fails on a wrong value', async () => {
  await onBackend('strict-async-helpers', async () => {
    const t = g.tensor([1, 2, 3]);
    await expectClose(t, [1, 2, 3]);
    await assert.rejects(expectClose(t, [1, 2, 3.5]), /element 2: got 3, expected 3.5/);
  });
});

test('expectThrowsMsg sees an error raised at the read and one raised at once, and fails when none is', async () => {
  await onBackend('strict-async-helpers', async () => {
    const x = g.randn([2, 3], { seed: 3 });
    await expectThrowsMsg(() => g.losses.crossEntropy(x, g.tensor([0, 7], { dtype: 'int32' })), /7/);
    await expectThrowsMsg(() => x.reshape([5]), /reshape/);
    await assert.rejects(expectThrowsMsg(() => x.add(1)), /expected an error to be thrown/);
  });
});
