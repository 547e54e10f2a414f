import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { GradientFlow } from '../../src/diagnostics/index.js';
import { assertThrowsMsg } from '../helpers.js';

const { nn, data, train, optim } = g;

function setup(lr: number, model?: g.nn.Module) {
  g.manualSeed(0);
  const net = model ?? new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
  const { x, y } = data.makeBlobs({ samplesPerClass: 8, dim: 4, seed: 2 });
  const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 8 });
  return { net, loader, optimizer: new optim.SGD(net.parameters(), { lr }) };
}

const norm = (a: ArrayLike<number>): number => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

test('GradientFlow: grad norms match the gradients, and for plain SGD ratio = lr·‖g‖/‖w‖', async () => {
  const lr = 0.01;
  const { net, loader, optimizer } = setup(lr);
  const flow = new GradientFlow({ activations: false });
  // A probe that copies gradients and weights right after backward (same event, later order).
  const seen: { grads: Map<string, number>; weights: Map<string, number> }[] = [];
  const probe: g.train.Callback = {
    name: 'probe', order: 16,
    afterBackward: (t) => {
      const grads = new Map<string, number>();
      const weights = new Map<string, number>();
      for (const [n, p] of t.model.namedParameters()) {
        grads.set(n, norm(p.grad!.dataSync()));
        weights.set(n, norm(p.dataSync()));
      }
      seen.push({ grads, weights });
    },
  };
  const trainer = new train.Trainer({ model: net, optimizer, trainData: loader, callbacks: [flow, probe] });
  await trainer.fit({ epochs: 1 }); // 24 samples / 8 → 3 steps
  assert.equal(flow.history.length, 3);
  flow.history.forEach((rec, s) => {
    assert.equal(rec.step, s);
    for (const [name, gn] of seen[s].grads) {
      assert.ok(Math.abs(rec.gradNorm[name] - gn) <= 1e-6 * gn, `${name} grad norm`);
      const w = seen[s].weights.get(name)!;
      if (w === 0) {
        assert.equal(rec.updateRatio[name], undefined); // zero-initialised bias: no ratio
        continue;
      }
      const expected = (lr * gn) / w;
      assert.ok(Math.abs(rec.updateRatio[name] - expected) <= 1e-4 * expected, `${name}: ${rec.updateRatio[name]} vs ${expected}`);
    }
  });
  assert.equal(typeof trainer.history[0]['updateRatio/0.weight'], 'number');
  assert.equal(typeof trainer.history[0]['gradNorm/2.weight'], 'number');
});

test('GradientFlow: flags ratios far from 1e-3 in the right direction', async () => {
  for (const [lr, word] of [[1e-7, 'low'], [5, 'high']] as const) {
    const { net, loader, optimizer } = setup(lr);
    const flow = new GradientFlow({ every: 2, activations: false });
    await new train.Trainer({ model: net, optimizer, trainData: loader, callbacks: [flow], defaultCallbacks: false }).fit({ epochs: 1 });
    assert.deepEqual(flow.history.map((h) => h.step), [0, 2]);
    // Weights only: a bias that starts at 0 has a huge ratio after its first tiny step whatever the rate.
    const ratio = flow.alerts.filter((a) => a.kind === 'updateRatio' && a.name.endsWith('weight'));
    assert.ok(ratio.length > 0, `lr ${lr}: no alert`);
    assert.ok(ratio.every((a) => a.message.includes(`too ${word}`)), ratio[0].message);
  }
  // A sensible rate on this problem raises no ratio alert for the weights.
  const { net, loader, optimizer } = setup(0.003);
  const flow = new GradientFlow({ activations: false });
  await new train.Trainer({ model: net, optimizer, trainData: loader, callbacks: [flow] }).fit({ epochs: 1 });
  const ratios = flow.history.flatMap((h) => Object.entries(h.updateRatio).filter(([n]) => n.endsWith('weight')).map(([, v]) => v));
  assert.ok(ratios.every((r) => r > 1e-4 && r < 1e-2), ratios.join(' '));
});

test('GradientFlow: dead-ReLU and saturated-tanh alerts', async () => {
  const dead = new nn.Linear(4, 8);
  dead.bias!.assign(new Float32Array(8).fill(-100));
  const big = new nn.Linear(4, 8);
  big.weight.assign(new Float32Array(32).fill(50));
  const model = new nn.Sequential(dead, new nn.ReLU(), new nn.Linear(8, 3));
  const { loader, optimizer } = setup(0.01, model);
  let printed = '';
  const flow = new GradientFlow({ every: 100, sink: { write: (s: string) => (printed += s) } });
  await new train.Trainer({ model, optimizer, trainData: loader, callbacks: [flow] }).fit({ epochs: 1 });
  const a = flow.alerts.find((x) => x.kind === 'dead');
  assert.ok(a !== undefined && a.name === '1' && a.value === 1, JSON.stringify(flow.alerts));
  assert.match(printed, /100\.0% of the units of layer '1' \(ReLU\) are dead/);

  const tanhModel = new nn.Sequential(big, new nn.Tanh(), new nn.Linear(8, 3));
  const s = setup(0.01, tanhModel);
  const flow2 = new GradientFlow({ every: 100 });
  await new train.Trainer({ model: tanhModel, optimizer: s.optimizer, trainData: s.loader, callbacks: [flow2] }).fit({ epochs: 1 });
  assert.ok(flow2.alerts.some((x) => x.kind === 'saturated' && x.name === '1' && x.value > 0.9), JSON.stringify(flow2.alerts));
  assertThrowsMsg(() => new GradientFlow({ ratioRange: [1e-2, 1e-4] }), /GradientFlow/, /0 < low < high/);
});
