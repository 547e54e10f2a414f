import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_EXPERIMENT } from '../../src/cli/experiment.js';
import { applyAssignment, checkPaths, gridSearch, halvingRungs, parseSpace, randomSearch, refineSpace, survivors } from '../../src/tune/index.js';
import { assertThrowsMsg } from '../helpers.js';

test('parseSpace rejects unknown distributions, bad bounds and empty choices with the path in the message', () => {
  assertThrowsMsg(() => parseSpace({ 'optimizer.lr': { normal: [0, 1] } }), /optimizer\.lr/, /unknown distribution 'normal'/);
  assertThrowsMsg(() => parseSpace({ 'optimizer.lr': { uniform: [1, 0.5] } }), /optimizer\.lr/, /low < high/, /\[1, 0\.5\]/);
  assertThrowsMsg(() => parseSpace({ 'optimizer.lr': { logUniform: [0, 1] } }), /logUniform needs 0 < low/);
  assertThrowsMsg(() => parseSpace({ 'optimizer.lr': { uniform: [0] } }), /\[low, high\]/);
  assertThrowsMsg(() => parseSpace({ 'data.batchSize': { choice: [] } }), /data\.batchSize/, /non-empty/);
  assertThrowsMsg(() => parseSpace({ 'data.batchSize': { intUniform: [1.5, 4] } }), /whole-number/);
  assertThrowsMsg(() => parseSpace({}), /empty/);
  assertThrowsMsg(() => parseSpace([1]), /object/);
});

test('checkPaths accepts keys of the resolved experiment and names the first missing segment otherwise', () => {
  const ok = parseSpace({ 'optimizer.lr': { logUniform: [1e-4, 1e-1] }, 'model.layers.9.p': { uniform: [0, 0.5] }, 'data.batchSize': { choice: [32, 64] } });
  checkPaths(ok, DEFAULT_EXPERIMENT);
  assertThrowsMsg(() => checkPaths(parseSpace({ 'optimizer.lrr': { uniform: [0, 1] } }), DEFAULT_EXPERIMENT), /optimizer\.lrr/, /has no 'optimizer\.lrr'/);
  assertThrowsMsg(() => checkPaths(parseSpace({ 'optim.lr': { uniform: [0, 1] } }), DEFAULT_EXPERIMENT), /has no 'optim'/);
  assertThrowsMsg(() => checkPaths(parseSpace({ optimizer: { uniform: [0, 1] } }), DEFAULT_EXPERIMENT), /not a number/);
  const e = applyAssignment(DEFAULT_EXPERIMENT, { 'optimizer.lr': 0.5, 'model.layers.9.p': 0.1 });
  assert.equal(e.optimizer.lr, 0.5);
  assert.deepEqual(e.model.layers[9], { type: 'dropout', p: 0.1 });
  assert.equal(DEFAULT_EXPERIMENT.optimizer.lr, 3e-3, 'the base experiment is not modified');
});

test('random search: log-uniform stays in bounds and spreads evenly over decades; choice covers every value; seeded', () => {
  const space = parseSpace({ lr: { logUniform: [1e-4, 1] }, p: { uniform: [0.1, 0.5] }, bs: { choice: [16, 32, 64] }, k: { intUniform: [1, 3] } });
  const pts = randomSearch(space, 3000, 7);
  const lrs = pts.map((a) => a.lr as number);
  assert.ok(lrs.every((v) => v >= 1e-4 && v <= 1));
  // Four decades: each should hold ~1/4 of the draws (a plain uniform would put ~90% in the top one).
  for (let d = 0; d < 4; d++) {
    const frac = lrs.filter((v) => v >= 10 ** (d - 4) && v < 10 ** (d - 3)).length / lrs.length;
    assert.ok(Math.abs(frac - 0.25) < 0.04, `decade ${d}: ${frac}`);
  }
  const ps = pts.map((a) => a.p as number);
  assert.ok(ps.every((v) => v >= 0.1 && v <= 0.5));
  assert.ok(Math.abs(ps.reduce((s, v) => s + v, 0) / ps.length - 0.3) < 0.01);
  for (const v of [16, 32, 64]) {
    const frac = pts.filter((a) => a.bs === v).length / pts.length;
    assert.ok(Math.abs(frac - 1 / 3) < 0.04, `choice ${v}: ${frac}`);
  }
  assert.deepEqual([...new Set(pts.map((a) => a.k))].sort(), [1, 2, 3], 'intUniform includes both bounds');
  assert.deepEqual(randomSearch(space, 5, 7), randomSearch(space, 5, 7));
  assert.notDeepEqual(randomSearch(space, 5, 7), randomSearch(space, 5, 8));
  assertThrowsMsg(() => randomSearch(space, 0, 1), /positive whole number, got 0/);
});

test('grid search enumerates every combination, log-spaced for logUniform', () => {
  const space = parseSpace({ lr: { logUniform: [1e-3, 1e-1] }, p: { uniform: [0, 0.5] }, bs: { choice: [32, 64] } });
  const g = gridSearch(space, 3);
  assert.equal(g.length, 3 * 3 * 2);
  const keys = new Set(g.map((a) => JSON.stringify(a)));
  assert.equal(keys.size, g.length, 'no duplicates');
  const lrs = [...new Set(g.map((a) => a.lr as number))];
  assert.equal(lrs.length, 3);
  assert.ok(Math.abs(lrs[0] - 1e-3) < 1e-12 && Math.abs(lrs[1] - 1e-2) < 1e-12 && Math.abs(lrs[2] - 1e-1) < 1e-12, JSON.stringify(lrs));
  assert.deepEqual([...new Set(g.map((a) => a.p))], [0, 0.25, 0.5]);
  assert.equal(gridSearch(parseSpace({ k: { intUniform: [1, 2] } }), 5).length, 2, 'whole-number axes drop repeated values');
});

test('coarse-to-fine refinement narrows every range around the best points and keeps their choices', () => {
  const space = parseSpace({ lr: { logUniform: [1e-5, 1] }, p: { uniform: [0, 0.5] }, bs: { choice: [16, 32, 64] } });
  const best = [{ lr: 1e-3, p: 0.2, bs: 32 }, { lr: 3e-3, p: 0.3, bs: 32 }];
  const r = refineSpace(space, best);
  const lr = r.get('lr')!;
  const p = r.get('p')!;
  assert.equal(lr.kind, 'logUniform');
  assert.equal(p.kind, 'uniform');
  if (lr.kind !== 'logUniform' || p.kind !== 'uniform') return;
  assert.ok(lr.low <= 1e-3 && lr.high >= 3e-3 && lr.low > 1e-5 && lr.high < 1, `${lr.low} ${lr.high}`);
  assert.ok(Math.log(lr.high / lr.low) < 0.2 * Math.log(1 / 1e-5), 'the log range shrinks to a small part of the original');
  assert.ok(p.low <= 0.2 && p.high >= 0.3 && p.high - p.low < 0.25);
  assert.deepEqual(r.get('bs'), { kind: 'choice', values: [32] });
  // A single best point at the edge: the range stays inside the original.
  const one = refineSpace(space, [{ lr: 1, p: 0, bs: 16 }]).get('lr')!;
  assert.ok(one.kind === 'logUniform' && one.high === 1 && one.low > 1e-5 && one.low < 1);
  assertThrowsMsg(() => refineSpace(space, []), /at least one/);
});

test('successive halving keeps the best 1/eta per rung up to the full budget', () => {
  assert.deepEqual(halvingRungs(9, 1, 9, 3), [{ epochs: 1, trials: 9 }, { epochs: 3, trials: 3 }, { epochs: 9, trials: 1 }]);
  assert.deepEqual(halvingRungs(8, 1, 4, 2), [{ epochs: 1, trials: 8 }, { epochs: 2, trials: 4 }, { epochs: 4, trials: 2 }]);
  assert.deepEqual(halvingRungs(6, 1, 3, 3), [{ epochs: 1, trials: 6 }, { epochs: 3, trials: 2 }]);
  assert.deepEqual(halvingRungs(4, 2, 2, 3), [{ epochs: 2, trials: 4 }]);
  assert.equal(survivors(2, 3), 1);
  assertThrowsMsg(() => halvingRungs(4, 1, 4, 1), /eta must be >= 2/);
  assertThrowsMsg(() => halvingRungs(4, 3, 2, 2), /epochs \(2\).*minEpochs \(3\)/);
});
