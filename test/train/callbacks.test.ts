import { test } from 'node:test';
import assert from 'node:assert/strict';
import { optim } from '../../src/index.js';
import {
  EmaWeights, LrSchedule, MetricsCallback, MetricsLog, PlateauSchedule, Progress, evaluate, evaluateAsync, memoryStorage, type Callback, type EvaluateResult,
} from '../../src/train/index.js';
import { makeTrainer, setup } from './fixtures.js';

test('metrics: epoch loss is the sample-weighted mean of batch losses; validation metrics match evaluate()', async () => {
  const s = setup();
  const batchLosses: number[] = [];
  // Reads awaited (a promise the Trainer awaits on a GPU backend): the suite runs on every backend.
  const spy: Callback = { name: 'spy', afterLoss: async (t) => void (t.training && batchLosses.push((await t.loss!.data())[0] * t.target!.shape[0])) };
  let valCheck: EvaluateResult | null = null;
  // Just before validation the weights are final for the epoch: evaluate independently there.
  const probe: Callback = { name: 'probe', beforeValidate: async (t) => void (valCheck = await evaluateAsync(t.model, s.valid)) };
  const t = makeTrainer(s, [spy, probe, new MetricsCallback({ topK: [1, 2, 3] })]);
  await t.fit({ epochs: 1 });
  const logs = t.history[0];
  assert.ok(Math.abs(logs.loss - batchLosses.reduce((a, b) => a + b, 0) / 96) < 1e-12);
  assert.ok(Math.abs(logs.valLoss - valCheck!.loss) < 1e-6, `${logs.valLoss} vs ${valCheck!.loss}`);
  assert.equal(logs.valAccuracy, valCheck!.accuracy);
  assert.equal(logs.valTop1, logs.valAccuracy);
  assert.equal(logs.valTop3, 1, 'top-3 of 3 classes is always right');
  assert.ok(logs.valTop2 >= logs.valTop1);
});

test('EMA: validation sees the averaged weights, training continues on the live ones', async () => {
  const s = setup();
  const ema = new EmaWeights(s.model.parameters(), { decay: 0.5, applyAtEnd: false });
  let expected: EvaluateResult | null = null;
  const probe: Callback = {
    name: 'probe',
    order: 35, // after the EMA swapped its averages in (30)
    beforeValidate: async (t) => {
      expected = await evaluateAsync(t.model, s.valid);
      const avg = await ema.ema.averagesAsync();
      for (const [i, p] of t.model.parameters().entries()) assert.deepEqual(await p.data(), avg[i]);
    },
  };
  const t = makeTrainer(s, [ema, probe]);
  await t.fit({ epochs: 1 });
  assert.ok(Math.abs(t.history[0].valLoss - expected!.loss) < 1e-6);
  const live = await s.model.parameters()[0].data();
  assert.notDeepEqual(live, (await ema.ema.averagesAsync())[0], 'live weights are back after validation');
});

test('schedules: per-step cosine, per-epoch step decay, and reduce-on-plateau from the validation loss', async () => {
  let s = setup();
  const cos = new optim.LrScheduler(s.optimizer, (lr) => optim.cosineAnnealing({ baseLr: lr, tMax: 12 }));
  const lrs: number[] = [];
  const rec: Callback = { name: 'rec', order: 45, afterStep: (t) => void lrs.push(t.optimizer.getLr()[0]) };
  await makeTrainer(s, [new LrSchedule({ scheduler: cos }), rec]).fit({ epochs: 2 });
  lrs.forEach((lr, i) => assert.ok(Math.abs(lr - 0.005 * (1 + Math.cos((Math.PI * (i + 1)) / 12))) < 1e-12, `step ${i}: ${lr}`));

  s = setup();
  const step = new optim.LrScheduler(s.optimizer, (lr) => optim.stepDecay({ baseLr: lr, stepSize: 1, gamma: 0.5 }));
  const t2 = makeTrainer(s, [new LrSchedule({ scheduler: step, interval: 'epoch' })]);
  await t2.fit({ epochs: 3 });
  assert.deepEqual(t2.history.map((h) => h.lr), [0.01, 0.005, 0.0025]);

  s = setup();
  const plateau = new optim.ReduceLrOnPlateau(s.optimizer, { patience: 0, factor: 0.1 });
  const script: Callback = { name: 'script', order: 30, afterEpoch: (t) => void (t.logs.valLoss = [1, 2, 3][t.epoch]) };
  await makeTrainer(s, [script, new PlateauSchedule({ scheduler: plateau })]).fit({ epochs: 3 });
  assert.ok(Math.abs(s.optimizer.getLr()[0] - 0.0001) < 1e-15, String(s.optimizer.getLr()[0]));
});

test('progress: a bar redrawn in place on a terminal, plain epoch lines otherwise; JSON-lines log', async () => {
  const tty: string[] = [];
  const plain: string[] = [];
  const storage = memoryStorage();
  let s = setup();
  await makeTrainer(s, [new Progress({ sink: { write: (x) => void tty.push(x), isTTY: true } }), new MetricsLog({ storage, path: 'm.jsonl', everySteps: 3 })]).fit({ epochs: 2 });
  s = setup();
  await makeTrainer(s, [new Progress({ sink: { write: (x) => void plain.push(x), isTTY: false } })]).fit({ epochs: 2 });
  assert.ok(tty.some((l) => l.startsWith('\r') && /epoch 1\/2 [█░]{24} \d\/6 loss/.test(l)), tty.join('|'));
  assert.equal(plain.length, 2);
  plain.forEach((l, i) => assert.match(l, new RegExp(`^epoch ${i + 1}/2 · loss [\\d.]+ · accuracy [\\d.]+% · lr 1\\.00e-2 · valLoss [\\d.]+ · valAccuracy [\\d.]+% · [\\d.]+s\\n$`)));
  const lines = new TextDecoder().decode(storage.files.get('m.jsonl')).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => `${l.kind}:${l.step}`), ['step:3', 'step:6', 'epoch:6', 'step:9', 'step:12', 'epoch:12']);
  assert.equal(typeof lines[2].valAccuracy, 'number');
});
