import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { lrFinder, suggestLr } from '../../src/diagnostics/index.js';

const { nn, data, optim, train } = g;

function make(): g.nn.Sequential {
  g.manualSeed(0);
  return new nn.Sequential(new nn.Linear(2, 16), new nn.ReLU(), new nn.Linear(16, 3, { init: 'xavier' }));
}
const blobs = data.makeBlobs({ samplesPerClass: 64, centers: [[-2, 0], [2, 0], [0, 3]], std: 1, seed: 1 });
const dataset = new data.TensorDataset(blobs.x, blobs.y);
const loader = (): g.data.DataLoader => new data.DataLoader(dataset, { batchSize: 16, shuffle: true, seed: 3 });

test('suggestLr: hand-made curve — steepest point, minimum, /10 rule', () => {
  // loss = 2 − tanh(log10(lr) + 3) for lr ≤ 1e-1, then rising: steepest at lr = 1e-3, minimum at 1e-1.
  const lrs = Array.from({ length: 61 }, (_, i) => 10 ** (-6 + i / 10));
  const loss = lrs.map((lr) => (lr <= 0.1 ? 2 - Math.tanh(Math.log10(lr) + 3) : 2 - Math.tanh(2) + (Math.log10(lr) + 1) ** 2));
  const r = suggestLr(lrs, loss, { skip: 0, window: 1 });
  assert.ok(Math.abs(Math.log10(r.steepestLr) + 3) < 0.101, String(r.steepestLr));
  assert.ok(Math.abs(Math.log10(r.minLossLr) + 1) < 1e-9, String(r.minLossLr));
  assert.ok(Math.abs(r.suggestedLr - r.minLossLr / 10) < 1e-15);
  // A curve that only rises: no steepest descent, fall back to min/10.
  const up = suggestLr([1, 2, 3], [1, 2, 3]);
  assert.equal(up.steepestLr, 0.1);
});

test('lrFinder: model, optimizer, data order and RNG restored exactly', async () => {
  const model = make();
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const dl = loader();
  // Take a few real steps first so the optimizer has non-trivial state to restore.
  await new train.Trainer({ model, optimizer, trainData: dl }).fit({ epochs: 1 });
  const weights = [...model.stateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]);
  const opt = JSON.stringify(optimizer.stateDict(), (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v));
  const rng = g.getGlobalRng().getState();
  const order = dl.state();
  model.eval();
  const r = await lrFinder({ model, optimizer, data: dl, numSteps: 30 });
  assert.equal(r.lrs.length, r.losses.length);
  assert.ok(r.lrs.length >= 2);
  assert.deepEqual([...model.stateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]), weights);
  assert.equal(JSON.stringify(optimizer.stateDict(), (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v)), opt);
  assert.deepEqual(optimizer.getLr(), [1e-3]);
  assert.deepEqual(g.getGlobalRng().getState(), rng);
  assert.deepEqual(dl.state(), order);
  assert.equal(model.training, false);
  assert.ok(model.parameters().every((p) => p.grad === null || p.grad === undefined));
  // The rates grow geometrically from startLr.
  assert.ok(Math.abs(r.lrs[0] - 1e-7) < 1e-20);
  assert.ok(Math.abs(r.lrs[2] / r.lrs[1] - r.lrs[1] / r.lrs[0]) < 1e-9);
  assert.match(r.svg(), /<polyline/);
});

test('lrFinder: the suggested rate is within 10× of the best fixed rate of a grid', async () => {
  const model = make();
  const r = await lrFinder({ model, optimizer: new optim.Adam(model.parameters(), { lr: 1e-3 }), data: loader(), startLr: 1e-5, endLr: 10, numSteps: 100 });
  assert.ok(r.stoppedEarly, 'the loss should diverge before lr 10');
  // The grid: train a fresh copy for 3 epochs at each rate; best = lowest last-epoch loss.
  let best = { lr: 0, loss: Infinity };
  for (const lr of [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1]) {
    const m = make();
    const res = await new train.Trainer({ model: m, optimizer: new optim.Adam(m.parameters(), { lr }), trainData: loader() }).fit({ epochs: 3 });
    const loss = res.history[2].loss;
    if (loss < best.loss) best = { lr, loss };
  }
  const factor = Math.max(r.suggestedLr / best.lr, best.lr / r.suggestedLr);
  assert.ok(factor <= 10, `suggested ${r.suggestedLr}, best fixed ${best.lr} (×${factor.toFixed(1)})`);
});

test('lrFinder: bad options are named', async () => {
  const model = make();
  const optimizer = new optim.SGD(model.parameters());
  await assert.rejects(lrFinder({ model, optimizer, data: loader(), startLr: 1, endLr: 0.1 }), /lrFinder.*endLr/);
  await assert.rejects(lrFinder({ model, optimizer, data: loader(), numSteps: 1 }), /numSteps/);
  await assert.rejects(lrFinder({ model, optimizer, data: [] }), /data yielded no batches/);
});
