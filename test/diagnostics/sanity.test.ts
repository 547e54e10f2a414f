import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { checkInitialLoss, overfitSubset } from '../../src/diagnostics/index.js';
import { assertThrowsMsg } from '../helpers.js';

const { nn, data, optim } = g;

test('checkInitialLoss: a zero last layer gives exactly log(C); a huge one is flagged', () => {
  g.manualSeed(0);
  const { x, y } = data.makeBlobs({ samplesPerClass: 10, centers: 4, seed: 1 });
  const last = new nn.Linear(8, 4);
  last.weight.assign(new Float32Array(32));
  const model = new nn.Sequential(new nn.Linear(2, 8), new nn.ReLU(), last);
  const r = checkInitialLoss(model, x, y);
  assert.ok(Math.abs(r.expected - Math.log(4)) < 1e-12);
  assert.ok(Math.abs(r.actual - Math.log(4)) < 1e-5, String(r.actual)); // uniform softmax
  assert.ok(r.ok);
  last.weight.assign(new Float32Array(32).fill(30));
  last.bias!.assign([100, 0, 0, 0]);
  const bad = checkInitialLoss(model, x, y);
  assert.equal(bad.ok, false);
  assert.match(bad.message, /far from log\(4\)/);
  assertThrowsMsg(() => checkInitialLoss(new nn.Sequential(new nn.Linear(2, 1)), x, y), /checkInitialLoss/, /C >= 2, got \[40, 1\]/);
});

test('overfitSubset: a small MLP memorises 12 spiral points; a frozen one cannot', () => {
  g.manualSeed(0);
  const { x, y } = data.makeSpirals({ samplesPerClass: 30, classes: 3, seed: 2 });
  // Spirals list the classes in blocks of 30; every 7th point gives a subset with all three.
  const idx = g.tensor(Array.from({ length: 12 }, (_, i) => i * 7), { dtype: 'int32' });
  const xs = g.indexSelect(x, 0, idx);
  const ys = g.indexSelect(y, 0, idx);
  const model = new nn.Sequential(new nn.Linear(2, 64), new nn.ReLU(), new nn.Linear(64, 64), new nn.ReLU(), new nn.Linear(64, 3));
  const r = overfitSubset({ model, optimizer: new optim.Adam(model.parameters(), { lr: 1e-2 }), x: xs, y: ys, k: 12, maxSteps: 500 });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.accuracy, 1);
  assert.ok(r.steps < 500);
  const frozen = new nn.Sequential(new nn.Linear(2, 3));
  const f = overfitSubset({ model: frozen, optimizer: new optim.SGD(frozen.parameters(), { lr: 0 }), x: xs, y: ys, k: 12, maxSteps: 5 });
  assert.equal(f.ok, false);
  assert.equal(f.steps, 5);
  assertThrowsMsg(() => overfitSubset({ model, optimizer: new optim.SGD(model.parameters()), x: xs, y: ys, k: 13 }), /overfitSubset/, /k must be an integer in 1\.\.12/);
});
