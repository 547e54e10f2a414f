import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nn, optim, type Tensor } from '../../src/index.js';
import * as ops from '../../src/ops/index.js';
import { GradClip, MetricsCallback, Trainer } from '../../src/train/index.js';
import { setup } from './fixtures.js';

/** sqrt(x·x) = |x|: finite forward, but its gradient at exactly 0 is ∞·0 = NaN. */
class SqrtSquare extends nn.Module {
  override forward(x: Tensor): Tensor {
    return ops.sqrt(ops.mul(x, x));
  }
}

test('NaN guard names the step and the first parameter whose gradient went non-finite', async () => {
  const s = setup();
  const model = new nn.Sequential(new nn.Linear(4, 5), new SqrtSquare(), new nn.Linear(5, 3));
  const l0 = model.parameters()[0];
  const b0 = model.parameters()[1];
  // Step 1 is healthy; then the first layer's output is exactly 0 everywhere.
  let calls = 0;
  const zeroFirstLayer = { name: 'zero', afterStep: () => { if (++calls === 1) { l0.assign(new Float32Array(l0.size)); b0.assign(new Float32Array(b0.size)); } } };
  const t = new Trainer({ model, optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }), trainData: s.train, callbacks: [zeroFirstLayer] });
  await assert.rejects(t.fit({ epochs: 1 }), (e: Error) => {
    assert.equal(e.name, 'GradkitError');
    assert.match(e.message, /non-finite gradient at step 2 \(epoch 0, batch 1\)/);
    assert.match(e.message, /parameter '0\.weight' \[5, 4\]/);
    return true;
  });
  assert.equal(t.step, 1, 'the bad step was not applied');
});

test('a non-finite loss is reported before backward, naming the step', async () => {
  const s = setup();
  const model = new nn.Sequential(new nn.Linear(4, 3));
  model.parameters()[0].assign(new Float32Array(12).fill(NaN));
  const t = new Trainer({ model, optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }), trainData: s.train });
  await assert.rejects(t.fit({ epochs: 1 }), /the loss is NaN at step 1 \(epoch 0, batch 0\); the first weight to go non-finite is parameter '0\.weight'/);
});

test('gradient clipping runs after the guard and bounds the global norm', async () => {
  const s = setup();
  const clip = new GradClip({ maxNorm: 0.01 });
  let normAfter = Infinity;
  const probe = { name: 'probe', order: 25, afterBackward: async (t: Trainer) => {
    let ss = 0;
    for (const p of t.model.parameters()) for (const g of await p.grad!.data()) ss += g * g;
    normAfter = Math.sqrt(ss);
  } };
  await new Trainer({ model: s.model, optimizer: s.optimizer, trainData: s.train, callbacks: [clip, probe, new MetricsCallback()] }).fit({ epochs: 1 });
  assert.ok(clip.lastNorm > 0.01, `the raw norm ${clip.lastNorm} was above the limit`);
  assert.ok(normAfter <= 0.01 * (1 + 1e-5), `clipped norm ${normAfter}`);
});
