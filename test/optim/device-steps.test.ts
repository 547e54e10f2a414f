import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as g from '../../src/index.js';
import { assertThrowsMsg, onBackend } from '../helpers.js';

// A backend that reads asynchronously, as a GPU does (the strict backend's asyncReads option):
// the named optimizers step on the device there; a composed recipe, whose transforms run on host
// arrays, is one clear error naming the backend and what runs there, not a failed read inside it.
g.registerBackend('strict-async-optim', () => g.createStrictBackend({ asyncReads: true }), -10);

const paramWithGrad = (): g.Tensor => {
  const p = new g.Parameter(g.tensor([1, -2, 3]));
  p.grad = g.tensor([0.5, -1, 2]);
  return p;
};

test('on a backend without synchronous reads, a named optimizer steps on the device', () =>
  onBackend('strict-async-optim', async () => {
    const p = paramWithGrad();
    new g.optim.Adam([p], { lr: 0.1 }).step();
    const moved = Array.from(await p.data());
    assert.deepEqual(moved.map((v, i) => Math.sign(v - [1, -2, 3][i])), [-1, 1, -1], 'each weight moved against its gradient');
  }));

test('on a backend without synchronous reads, a composed recipe is one clear error naming the backend', () =>
  onBackend('strict-async-optim', async () => {
    const p = paramWithGrad();
    const { chain, clipByGlobalNorm, scaleByLearningRate } = g.optim;
    const custom = new g.optim.Optimizer([p], { lr: 0.1, weightDecay: 0, includeNoDecay: false }, (grp) => chain(clipByGlobalNorm(1), scaleByLearningRate(() => grp.lr)), 'Custom');
    assertThrowsMsg(() => custom.step(), /^Custom: group 0 is on the strict backend, where only the named optimizers' device steps run/, /runs its transforms on the host, which needs a CPU backend/);
    assert.deepEqual(Array.from(await p.data()), [1, -2, 3], 'nothing changed');
  }));
