import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertThrowsMsg } from '../helpers.js';
import { NEEDS_COMPOSED_PATH, param, setGrad, vals } from './helpers.js';

const o = g.optim;

// A registered kernel runs on the composed path (host arrays): skipped on webgpu (see COMPOSED_PATH).
test('update kernels are swappable: a registered kernel is used, and restoring brings the reference back', NEEDS_COMPOSED_PATH, async () => {
  const calls: number[] = [];
  const previous = o.registerOptimKernels({
    adamStep: (u, m, v, vMax, b1, b2, eps, t) => {
      calls.push(t);
      o.referenceOptimKernels.adamStep(u, m, v, vMax, b1, b2, eps, t);
    },
  });
  try {
    const a = param([1, 2]);
    const b = param([1, 2]);
    const spied = new o.Adam([a], { lr: 0.1 });
    for (let i = 0; i < 2; i++) {
      setGrad(a, [0.5, -1]);
      spied.step();
    }
    assert.deepEqual(calls, [1, 2]);
    o.registerOptimKernels(previous);
    const plain = new o.Adam([b], { lr: 0.1 });
    for (let i = 0; i < 2; i++) {
      setGrad(b, [0.5, -1]);
      plain.step();
    }
    assert.equal(calls.length, 2, 'the restored table must not call the spy');
    assert.deepEqual(await vals(a), await vals(b));
  } finally {
    o.registerOptimKernels(o.referenceOptimKernels);
  }
  assertThrowsMsg(() => o.registerOptimKernels({ fooStep: () => {} } as any), /unknown kernel 'fooStep'/);
});
