import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { activationStats, ActivationStatsCallback, tensorStats } from '../../src/diagnostics/index.js';
import { assertThrowsMsg } from '../helpers.js';

const { nn, data, train, optim } = g;

test('tensorStats: mean, std, histogram, saturated and dead by hand', () => {
  // batch 2 × 3 units of a ReLU output: unit 1 is 0 for both samples (dead), unit 0 only once.
  const relu = tensorStats([0, 0, 2, 4, 0, 6], 2, { kind: 'relu', bins: 3 });
  assert.equal(relu.mean, 2);
  assert.ok(Math.abs(relu.std - Math.sqrt((4 + 4 + 0 + 4 + 4 + 16) / 6)) < 1e-12);
  assert.equal(relu.dead, 1 / 3);
  assert.equal(relu.saturated, null);
  assert.deepEqual(relu.histogram.edges, [0, 2, 4, 6]);
  assert.deepEqual(relu.histogram.counts, [3, 1, 2]); // [0,2): 0,0,0; [2,4): 2; [4,6]: 4, 6
  const tanh = tensorStats([0.995, -0.999, 0.5, 0.2], 2, { kind: 'tanh', bins: 4 });
  assert.equal(tanh.saturated, 0.5);
  assert.equal(tanh.dead, null);
  assert.deepEqual(tanh.histogram.edges, [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(tanh.histogram.counts, [1, 0, 1, 2]);
  const sig = tensorStats([0.005, 0.5, 0.995, 0.98], 4, { kind: 'sigmoid' });
  assert.equal(sig.saturated, 0.5);
  assertThrowsMsg(() => tensorStats([1, 2, 3], 2), /tensorStats/, /batch 2 does not divide the 3 values/);
});

function smallNet(): g.nn.Sequential {
  g.manualSeed(0);
  return new nn.Sequential(new nn.Linear(4, 6), new nn.ReLU(), new nn.Linear(6, 5, { init: 'xavier' }), new nn.Tanh(), new nn.Linear(5, 3), new nn.Sigmoid());
}

test('activationStats: one record per activation layer, equal to stats of the outputs computed by hand', () => {
  const model = smallNet();
  const x = g.randn([8, 4]);
  const stats = activationStats(model, x, { bins: 10 });
  assert.deepEqual(stats.map((s) => [s.name, s.type, s.kind]), [['1', 'ReLU', 'relu'], ['3', 'Tanh', 'tanh'], ['5', 'Sigmoid', 'sigmoid']]);
  // Independent reference: run the layers one by one and summarise the outputs.
  const layers = [...model.children()];
  let h = x;
  const outs: g.Tensor[] = [];
  for (const l of layers) {
    h = l.call(h) as g.Tensor;
    outs.push(h);
  }
  for (const [s, out] of [[stats[0], outs[1]], [stats[1], outs[3]], [stats[2], outs[5]]] as const) {
    const v = Array.from(out.dataSync());
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    assert.ok(Math.abs(s.mean - mean) < 1e-6 && Math.abs(s.std - std) < 1e-6, `${s.name}: ${s.mean}/${s.std} vs ${mean}/${std}`);
    assert.equal(s.histogram.counts.reduce((a, b) => a + b, 0), v.length);
  }
  // Dead units: columns of the ReLU output that are 0 for all 8 samples.
  const r = outs[1].toArray() as number[][];
  const dead = [0, 1, 2, 3, 4, 5].filter((j) => r.every((row) => row[j] === 0)).length / 6;
  assert.equal(stats[0].dead, dead);
  // Hooks are gone: a further call records nothing and returns the same output.
  const again = activationStats(model, x, { bins: 10 });
  assert.equal(again.length, 3);
});

test('activationStats: a killed ReLU layer reports all units dead; no watched layer is an error', () => {
  const lin = new nn.Linear(3, 4);
  lin.weight.assign(new Float32Array(12).fill(0));
  lin.bias!.assign([-1, -1, -1, -1]);
  const model = new nn.Sequential(lin, new nn.ReLU());
  const [s] = activationStats(model, g.randn([5, 3]));
  assert.equal(s.dead, 1);
  assertThrowsMsg(() => activationStats(new nn.Sequential(new nn.Linear(2, 2)), g.randn([1, 2])), /activationStats/, /no watched layer ran in Sequential/);
  assert.equal(activationStats(new nn.Sequential(new nn.Linear(2, 2)), g.randn([1, 2]), { filter: (_n, m) => m instanceof nn.Linear }).length, 1);
});

test('ActivationStatsCallback: records every N steps during training and writes logs', async () => {
  const model = smallNet();
  const { x, y } = data.makeBlobs({ samplesPerClass: 16, dim: 4, seed: 1 });
  const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 8 });
  const cb = new ActivationStatsCallback({ every: 2 });
  const trainer = new train.Trainer({ model, optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }), trainData: loader, callbacks: [cb] });
  await trainer.fit({ epochs: 1 }); // 6 batches → steps 0..5, recorded at 0, 2, 4
  assert.deepEqual(cb.history.map((h) => h.step), [0, 2, 4]);
  assert.ok(cb.history.every((h) => h.layers.length === 3));
  assert.equal(typeof trainer.history[0]['act/3/saturated'], 'number');
  assert.equal(typeof trainer.history[0]['act/1/dead'], 'number');
  assertThrowsMsg(() => new ActivationStatsCallback({ every: 0 }), /every must be a positive integer/);
});
