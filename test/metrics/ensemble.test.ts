import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { loadDigits } from '../../src/digits.js';
import { accuracy, averageStateDicts, combineOutputs, Ensemble, ensemblePredict, TestTimeAugmentation, tta, ttaPredict } from '../../src/metrics/index.js';
import { assertClose, assertThrowsMsg } from '../helpers.js';

const { nn, data, optim, train } = g;

test('combineOutputs: log of the mean softmax (hand-computed) or the mean of the logits', () => {
  const a = g.tensor([[0, Math.log(3)]], { dtype: 'float64' }); // softmax [1/4, 3/4]
  const b = g.tensor([[Math.log(3), 0]], { dtype: 'float64' }); // softmax [3/4, 1/4]
  assertClose(combineOutputs([a, b]), [Math.log(0.5), Math.log(0.5)], { atol: 1e-12 });
  const c = g.tensor([[1, 0]], { dtype: 'float64' });
  assertClose(combineOutputs([a, c], 'logits'), [0.5, Math.log(3) / 2], { atol: 1e-12 });
  assertThrowsMsg(() => combineOutputs([a, g.zeros([2, 2])]), /member 1 returned \[2, 2\]/, /\[1, 2\]/);
  assertThrowsMsg(() => combineOutputs([]), /at least one output/);
});

test('averageStateDicts: element-wise mean of parameters (Polyak over checkpoints)', () => {
  const m = new nn.Linear(2, 1);
  m.weight.assign([1, 2]);
  m.bias!.assign([0]);
  const s1 = m.stateDict();
  m.weight.assign([3, 6]);
  m.bias!.assign([1]);
  const avg = averageStateDicts([s1, m.stateDict()]);
  assertClose(avg.get('weight')!, [2, 4]);
  assertClose(avg.get('bias')!, [0.5]);
  m.loadStateDict(avg);
  assertClose(m.weight, [2, 4]);
  assertThrowsMsg(() => averageStateDicts([s1, new nn.Linear(3, 1).stateDict()]), /'weight' has shape \[1, 3\] in dict 1/);
});

test('an ensemble of 3 small CNNs beats the mean single model on the digits', async () => {
  const d = await loadDigits({ trainSize: 600, testSize: 500, seed: 0 });
  const models: g.nn.Module[] = [];
  const accs: number[] = [];
  for (let s = 0; s < 3; s++) {
    g.manualSeed(10 + s);
    const m = new nn.Sequential(new nn.Conv2d(1, 6, 5, { stride: 2 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(6 * 6 * 6, 10, { init: 'xavier' }));
    const loader = new data.DataLoader(d.train, { batchSize: 32, shuffle: true, seed: s });
    await new train.Trainer({ model: m, optimizer: new optim.Adam(m.parameters(), { lr: 3e-3 }), trainData: loader }).fit({ epochs: 3 });
    models.push(m);
    accs.push(accuracy(g.noGrad(() => m.eval().call(d.xTest)), d.yTest));
    m.train();
  }
  const pred = ensemblePredict(models, d.xTest);
  assert.deepEqual(pred.shape, [500, 10]);
  assert.ok(models.every((m) => m.training), 'training flags restored');
  const ens = accuracy(pred, d.yTest);
  const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
  assert.ok(ens > mean, `ensemble ${ens} vs mean single ${mean} (${accs.join(', ')})`);
  // The Ensemble module gives the same prediction.
  const mod = new Ensemble(models).eval();
  assertClose(g.noGrad(() => mod.call(d.xTest)), pred.dataSync(), { atol: 0, rtol: 0 });
});

test('TTA: identity transforms reproduce the model exactly; flips keep the output shape', () => {
  g.manualSeed(4);
  const model = new nn.Sequential(new nn.Conv2d(1, 3, 3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(3 * 4 * 4, 5));
  const x = g.rand([2, 1, 6, 6]);
  const logits = g.noGrad(() => model.eval().call(x));
  // Two copies: (p + p) / 2 = p exactly in floating point.
  const probs = ttaPredict(model, x, [tta.identity, tta.identity]);
  assert.deepEqual(Array.from(probs.dataSync()), Array.from(g.log(g.clamp(g.softmax(logits, 1), 1e-30, 1)).dataSync()));
  const lg = ttaPredict(model, x, [tta.identity, tta.identity], { combine: 'logits' });
  assert.deepEqual(Array.from(lg.dataSync()), Array.from(logits.dataSync()));
  // With flips and shifts: same shape, and it is the hand-made average.
  const t = ttaPredict(model, x, [tta.identity, tta.hflip, tta.shift(1, 0)], { combine: 'logits' });
  assert.deepEqual(t.shape, logits.shape);
  const manual = [x, g.data.flipImages(x, 'horizontal'), g.data.translateImages(x, 1, 0)].map((v) => g.noGrad(() => model.call(v)).dataSync());
  assertClose(t, Array.from(logits.dataSync(), (_, i) => (manual[0][i] + manual[1][i] + manual[2][i]) / 3), { atol: 1e-6 });
  // hflip twice is the identity.
  assert.deepEqual(Array.from(tta.hflip(tta.hflip(x)).dataSync()), Array.from(x.dataSync()));
  const wrapped = new TestTimeAugmentation(model, [tta.identity]);
  assert.deepEqual(wrapped.parameters().length, model.parameters().length);
  assertThrowsMsg(() => new TestTimeAugmentation(model, []), /TestTimeAugmentation/, /non-empty array/);
});
