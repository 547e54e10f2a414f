/**
 * Issue 11 item 4: NaN/Inf never counts as correct, never becomes best.ckpt, and a run that goes
 * non-finite stops naming the parameter (weights) or the layer (activations) where it started.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metrics, nn, optim, tensor, type Tensor } from '../../src/index.js';
import * as ops from '../../src/ops/index.js';
import { Checkpoint, EarlyStopping, MetricsCallback, Trainer, evaluateAsync, memoryStorage, type Callback } from '../../src/train/index.js';
import { setup } from './fixtures.js';
import { canReadSync } from '../../src/tensor/host.js';

// The replay that names the layer reads every layer's output synchronously: a GPU backend says so instead.
const REPLAYS = canReadSync();
const NO_REPLAY = /every weight is finite, so an activation or the data went non-finite \(.*rerun this batch on the wasm backend/;

const NAN_ROWS = [[NaN, NaN, NaN], [NaN, NaN, NaN], [1, NaN, 0], [Infinity, 0, 0]];

test('metrics: rows with a non-finite score count as wrong in accuracy and top-k', () => {
  // Today's argmax/rank treat every comparison with NaN as false, so target 0 ranks first.
  assert.equal(metrics.accuracy(NAN_ROWS, [0, 0, 0, 0]), 0);
  assert.equal(metrics.topK(NAN_ROWS, [0, 0, 0, 0], 3), 0);
  // Finite rows are unaffected.
  assert.equal(metrics.accuracy([[NaN, 0], [2, 1]], [0, 0]), 0.5);
  assert.throws(() => metrics.confusionMatrix(NAN_ROWS, [0, 0, 0, 0]), /scores row 0 holds NaN/);
});

/** Logits NaN for every sample once `broken` is set. */
class Breakable extends nn.Module {
  broken = false;
  override forward(x: Tensor): Tensor {
    return this.broken ? ops.mul(x, tensor(NaN)) : x;
  }
}

test('evaluate and the Trainer metrics count NaN logits as wrong', async () => {
  const s = setup();
  const brk = new Breakable();
  brk.broken = true;
  const model = new nn.Sequential(new nn.Linear(4, 3), brk);
  const r = await evaluateAsync(model, s.valid);
  assert.equal(r.accuracy, 0);
  // MetricsCallback on its own (the Trainer's accumulator), fed one NaN batch.
  const m = new MetricsCallback({ topK: [2] });
  const out = tensor([[NaN, NaN, NaN], [NaN, 1, 0]]);
  const fake = { training: true, loss: tensor(1), target: tensor([0, 1], { dtype: 'int32' }), output: out, logs: {} as Record<string, number>, optimizer: { getLr: () => [0.1] } };
  await m.afterBatch(fake as unknown as Trainer);
  m.afterTrain(fake as unknown as Trainer);
  assert.equal(fake.logs.accuracy, 0);
  assert.equal(fake.logs.top2, 0);
});

test('a non-finite validation loss stops the run, names the layer, and leaves last/best.ckpt as they were', async () => {
  const s = setup();
  const brk = new Breakable();
  const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), brk, new nn.Linear(8, 3));
  const storage = memoryStorage();
  // Epoch 0 is healthy; from epoch 1 the validation pass (eval mode) produces NaN.
  const breaker: Callback = { name: 'breaker', beforeValidate: (t) => { brk.broken = t.epoch >= 1; }, afterValidate: () => { brk.broken = false; } };
  const t = new Trainer({
    model, optimizer: new optim.Adam(model.parameters(), { lr: 0.01 }), trainData: s.train, validData: s.valid,
    callbacks: [breaker, new Checkpoint({ storage, dir: 'run', monitor: 'valAccuracy' })],
  });
  await t.fit({ epochs: 1 });
  const last = storage.files.get('run/last.ckpt')!;
  const best = storage.files.get('run/best.ckpt')!;
  assert.ok(last && best);
  await assert.rejects(t.fit({ epochs: 3 }), (e: Error) => {
    assert.equal(e.name, 'GradkitError');
    assert.match(e.message, /the validation loss is NaN at epoch 1, validation batch 0/);
    assert.match(e.message, REPLAYS ? /the first layer whose output went non-finite is '2' \(Breakable\)/ : NO_REPLAY);
    return true;
  });
  assert.deepEqual(storage.files.get('run/last.ckpt'), last, 'last.ckpt untouched');
  assert.deepEqual(storage.files.get('run/best.ckpt'), best, 'best.ckpt untouched');
});

test('non-finite weights after an optimizer step stop the run naming the parameter', async () => {
  const s = setup();
  const model = new nn.Sequential(new nn.Linear(4, 3));
  // A finite loss (|Σ out| · 1e30 < 3e38) with finite gradients ~1e30; lr 1e10 sends the weights to ±Inf.
  const loss = (out: Tensor): Tensor => ops.mul(ops.sum(out), tensor(1e30));
  const storage = memoryStorage();
  const t = new Trainer({ model, optimizer: new optim.SGD(model.parameters(), { lr: 1e10 }), trainData: s.train, loss, callbacks: [new Checkpoint({ storage, dir: 'run', monitor: null, everySteps: 1 })] });
  await assert.rejects(t.fit({ epochs: 1 }), /non-finite weight after step 1 \(epoch 0, batch 0\): parameter '0\.(weight|bias)' \[/);
  assert.equal(storage.files.has('run/last.ckpt'), false, 'no checkpoint of the broken weights');
});

/** exp(100·x): finite weights, but the activations overflow float32. */
class Blowup extends nn.Module {
  override forward(x: Tensor): Tensor {
    return ops.exp(ops.mul(x, tensor(100)));
  }
}

test('a non-finite training loss with finite weights names the first layer whose output went non-finite', async () => {
  const s = setup();
  const model = new nn.Sequential(new nn.Linear(4, 5), new nn.ReLU(), new Blowup(), new nn.Linear(5, 3));
  const t = new Trainer({ model, optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }), trainData: s.train });
  await assert.rejects(t.fit({ epochs: 1 }), (e: Error) => {
    assert.match(e.message, /the loss is (NaN|Infinity) at step 1 \(epoch 0, batch 0\)/);
    assert.match(e.message, REPLAYS ? /the first layer whose output went non-finite is '2' \(Blowup\)/ : NO_REPLAY);
    return true;
  });
});

test('the Checkpoint callback refuses to write non-finite weights', async () => {
  const s = setup();
  const model = new nn.Sequential(new nn.Linear(4, 3));
  model.parameters()[1].assign(new Float32Array(3).fill(NaN));
  const storage = memoryStorage();
  // No NaN guard: only the checkpoint stands between the NaN weights and the disk.
  const t = new Trainer({ model, optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }), trainData: s.train, defaultCallbacks: false, callbacks: [new Checkpoint({ storage, dir: 'run', monitor: null })] });
  await assert.rejects(t.fit({ epochs: 1 }), /refusing to write run\/last\.ckpt: parameter '0\.(weight|bias)' holds NaN/);
  assert.equal(storage.files.has('run/last.ckpt'), false);
});

test('the Trainer rejects a monitor the run will not log before the first batch, with a did-you-mean', async () => {
  const s = setup();
  const storage = memoryStorage();
  let batches = 0;
  const counter: Callback = { name: 'counter', beforeBatch: () => void batches++ };
  const t = new Trainer({ model: s.model, optimizer: s.optimizer, trainData: s.train, validData: s.valid, callbacks: [counter, new EarlyStopping({ monitor: 'valAcc' }), new Checkpoint({ storage, dir: 'run' })] });
  await assert.rejects(t.fit({ epochs: 1 }), /EarlyStopping: monitor 'valAcc' is not logged by this run \(did you mean 'valAccuracy'\?\); it logs: /);
  assert.equal(batches, 0, 'rejected before training');
  // Without validation data the val* names are not logged at all.
  const t2 = new Trainer({ model: s.model, optimizer: s.optimizer, trainData: s.train, callbacks: [new Checkpoint({ storage, dir: 'run2', monitor: 'valLoss' })] });
  await assert.rejects(t2.fit({ epochs: 1 }), /Checkpoint: monitor 'valLoss' is not logged by this run \(did you mean 'loss'\?\).*validData/);
  assert.equal(storage.files.size, 0, 'nothing written');
});
