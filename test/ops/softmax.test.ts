import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { expectClose, expectGrad, FLOAT } from '../helpers.js';
import { testAllBackends } from './backends.js';

const F = { dtype: FLOAT } as const;
const any = (seed: number, shape: number[]) => g.randn(shape, { seed, ...F });

// softmax([1, 2, 3]) = e^i / (e + e² + e³), written out.
const SM123 = [0.09003057317038046, 0.24472847105479767, 0.6652409557748219];

testAllBackends('softmax and logSoftmax: hand values along the last axis and along axis 0', async () => {
  await expectClose(g.softmax(g.tensor([1, 2, 3], F)), SM123, { atol: 1e-15 });
  await expectClose(g.logSoftmax(g.tensor([1, 2, 3], F)), SM123.map(Math.log), { atol: 1e-14 });
  const x = g.tensor([[1, 5], [2, 5], [3, 5]], F);
  const s0 = g.softmax(x, 0);
  await expectClose(s0, [SM123[0], 1 / 3, SM123[1], 1 / 3, SM123[2], 1 / 3], { atol: 1e-15 });
  await expectClose(g.logSoftmax(x, -2), [SM123[0], 1 / 3, SM123[1], 1 / 3, SM123[2], 1 / 3].map(Math.log), { atol: 1e-14 });
  // Two-way softmax is a sigmoid of the difference: [σ(a − b), σ(b − a)].
  const sig = (d: number) => 1 / (1 + Math.exp(-d));
  await expectClose(x.softmax(1), [sig(-4), sig(4), sig(-3), sig(3), sig(-2), sig(2)], { atol: 1e-15 });
});

testAllBackends('softmax: a middle axis of a 3-D tensor sums to one; huge inputs do not overflow', async () => {
  const y = g.softmax(any(1, [2, 4, 3]), 1);
  await expectClose(g.sum(y, 1), new Array(6).fill(1), { atol: 1e-14 });
  await expectClose(g.softmax(g.tensor([1000, 1000, -1000])), [0.5, 0.5, 0], { atol: 1e-7 });
  await expectClose(g.logSoftmax(g.tensor([1000, 0], F)), [0, -1000], { atol: 1e-12 });
  await expectClose(g.softmax(g.tensor([-Infinity, 0])), [0, 1]);
  assert.deepEqual(g.softmax(g.zeros([0, 3])).shape, [0, 3]);
  await expectClose(g.softmax(g.tensor([[7]])), [1]);
});

testAllBackends('softmax and logSoftmax gradients on every axis and on non-contiguous inputs', async () => {
  for (const axis of [0, 1, -1, 2]) {
    await expectGrad((x) => g.softmax(x, axis), [any(10 + axis, [2, 3, 4])], { seed: axis + 5 });
    await expectGrad((x) => g.logSoftmax(x, axis), [any(20 + axis, [2, 3, 4])], { seed: axis + 5 });
  }
  await expectGrad((x) => g.softmax(x.transpose(), 1), [any(30, [3, 2])]);
  await expectGrad((x) => g.logSoftmax(x.slice([0, 1], [2, 4]), 0), [any(31, [2, 4])]);
  // The README's loss: mean negative log-likelihood of labels (made inside f: expectGrad replays f on the reference backend).
  await expectGrad((x) => x.logSoftmax().gather(1, g.tensor([[2], [0]], { dtype: 'int32' })).neg().mean(), [any(32, [2, 3])]);
});
