/**
 * Issue 13 item 1: the NaN guard checks tensors with the nonFiniteCount kernel (a flag array per
 * call, read once) instead of downloading and scanning every gradient and weight on the host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataArray } from '../../src/core/dtype.js';
import { getBackend } from '../../src/backend/registry.js';
import { referenceKernels } from '../../src/index.js';
import { fromArray } from '../../src/tensor/host.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { nn, optim, tensor } from '../../src/index.js';
import * as ops from '../../src/ops/index.js';
import { NanGuard, Trainer, type Callback } from '../../src/train/index.js';
import { nonFiniteCountsSoon } from '../../src/train/callbacks/non-finite.js';
import { setup } from './fixtures.js';

const inputs = (): DataArray[] => [
  new Float32Array([1, 2, 3, 4, 5]),
  new Float32Array([1, NaN, 3, Infinity, -Infinity, 0]),
  new Float64Array([-Infinity, 1e308, -0]),
  new Int32Array([0, -1, 2147483647]),
  new Float32Array(0),
];

test('nonFiniteCount counts NaN/±Inf per buffer (int buffers count 0), on the reference and the current backend', async () => {
  const want = [0, 3, 1, 0, 0];
  const ref = referenceKernels.nonFiniteCount(inputs());
  assert.ok(ref instanceof Int32Array);
  assert.deepEqual(Array.from(ref), want);
  // Through handles on the current backend (what the guard calls); float64 only where it exists.
  const here = inputs().map((a, i) => [a, want[i]] as const).filter(([a]) => !(a instanceof Float64Array) || getBackend().float64 !== false);
  const ts = here.map(([a]) => fromArray(a, [a.length]));
  const flags = new Tensor(getBackend().kernels.nonFiniteCount(ts.map((t) => t.handle)), [ts.length]);
  assert.equal(flags.dtype, 'int32');
  assert.deepEqual(Array.from(await flags.data()), here.map(([, w]) => w));
  assert.deepEqual(Array.from(await nonFiniteCountsSoon(ts)), here.map(([, w]) => w));
  // Past the unrolled part: a NaN in the tail of a length that is not a multiple of 4.
  assert.deepEqual(Array.from(referenceKernels.nonFiniteCount([new Float32Array([0, 0, 0, 0, 0, 0, NaN])])), [1]);
});

test('the NaN guard makes one flag call per training step (last step\'s weights, loss, every gradient) and one at the end of the phase', async () => {
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
  // afterBackward of step 1: the loss and every gradient; of later steps: also the weights the
  // previous step left; afterTrain: the weights of the last step. Nothing else.
  assert.deepEqual(sizes, [1 + params, ...Array.from({ length: steps - 1 }, () => 2 * params + 1), params]);
});

/** A finite loss with gradients ~1e30: with lr 1e10 one SGD step sends the weights to ±Inf. */
const huge = (out: Tensor): Tensor => ops.mul(ops.sum(out), tensor(1e30));

test('weights a step left non-finite are reported naming that step, before the next step is applied (no checkpoint involved)', async () => {
  const s = setup();
  const model = new nn.Sequential(new nn.Linear(4, 3));
  const t = new Trainer({ model, optimizer: new optim.SGD(model.parameters(), { lr: 1e10 }), trainData: s.train, loss: huge });
  await assert.rejects(t.fit({ epochs: 1 }), (e: Error & { step?: number }) => {
    assert.match(e.message, /non-finite weight after step 1 \(epoch 0, batch 0\): parameter '0\.(weight|bias)' \[.*\(loss [0-9.e+-]+\)/);
    assert.equal(e.step, 1);
    return true;
  });
  assert.equal(t.step, 1, 'the step after the bad one was not applied');
});

test('weights the last step of the training phase left non-finite are reported at its end, before validation', async () => {
  const s = setup();
  const model = new nn.Sequential(new nn.Linear(4, 3));
  let validated = false;
  const spy: Callback = { name: 'spy', beforeValidate: () => void (validated = true) };
  // Harmless steps until the last batch of the epoch, whose loss blows the weights up.
  const loss = (out: Tensor): Tensor => (t.batchIndex === 5 ? huge(out) : ops.mul(ops.sum(out), tensor(0)));
  const t: Trainer = new Trainer({ model, optimizer: new optim.SGD(model.parameters(), { lr: 1e10 }), trainData: s.train, validData: s.valid, loss, callbacks: [spy] });
  await assert.rejects(t.fit({ epochs: 1 }), /non-finite weight after step 6 \(epoch 0, batch 5\)/);
  assert.equal(validated, false);
});
