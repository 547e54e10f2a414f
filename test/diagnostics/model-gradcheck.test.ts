import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { modelGradCheck } from '../../src/diagnostics/index.js';
import { assertThrowsMsg } from '../helpers.js';

const { nn } = g;

test('modelGradCheck: a CNN with BatchNorm and dropout passes, and is left exactly as it was', () => {
  g.manualSeed(1);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 3, 3), new nn.BatchNorm2d(3), new nn.Tanh(), new nn.Flatten(), new nn.Dropout({ p: 0.3 }), new nn.Linear(3 * 4 * 4, 4),
  );
  const x = g.randn([5, 1, 6, 6]);
  const y = g.tensor([0, 1, 2, 3, 1], { dtype: 'int32' });
  const before = [...model.stateDict()].map(([k, t]) => [k, t.dtype, Array.from(t.dataSync())]);
  const rng = g.getGlobalRng().getState();
  const r = modelGradCheck(model, x, y, { samples: 25, seed: 3 });
  assert.ok(r.ok, r.summary);
  assert.equal(r.entries.length, 25);
  assert.ok(r.entries.some((e) => e.param.startsWith('0.')) && r.entries.some((e) => e.param.startsWith('5.')));
  assert.ok(r.entries.every((e) => Math.abs(e.numeric) >= 0 && Number.isFinite(e.analytic)));
  assert.deepEqual([...model.stateDict()].map(([k, t]) => [k, t.dtype, Array.from(t.dataSync())]), before);
  assert.deepEqual(g.getGlobalRng().getState(), rng);
  assert.ok(model.parameters().every((p) => p.grad === null));
});

/** A layer whose backward rule is wrong: forward x·w, gradient to w doubled. */
class BrokenScale extends nn.Module {
  w = new g.Parameter(g.tensor([1.5, -0.5, 2]));
  override forward(x: g.Tensor): g.Tensor {
    const good = g.mul(x, this.w);
    // y = x·w + (x·w − stop(x·w)): same value, twice the gradient.
    return g.add(good, g.sub(good, good.detach()));
  }
}

test('modelGradCheck: finds a wrong gradient and names the parameter', () => {
  g.manualSeed(2);
  const model = new nn.Sequential(new nn.Linear(3, 3), new BrokenScale());
  const r = modelGradCheck(model, g.randn([4, 3]), g.tensor([0, 1, 2, 0], { dtype: 'int32' }), { samples: 40 });
  assert.equal(r.ok, false);
  assert.match(r.summary, /^FAILED/);
  const bad = r.entries.filter((e) => !e.ok);
  assert.ok(bad.length > 0);
  // Every parameter upstream of the broken layer gets twice its true gradient.
  for (const e of bad) assert.ok(Math.abs(e.analytic - 2 * e.numeric) < 1e-5 * Math.max(1, Math.abs(e.numeric)), JSON.stringify(e));
  assertThrowsMsg(() => modelGradCheck(model, g.randn([4, 3]), g.tensor([0, 1, 2, 0], { dtype: 'int32' }), { samples: 0 }), /modelGradCheck/, /samples must be a positive integer/);
});
