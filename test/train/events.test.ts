import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelBatch, CancelEpoch, CancelFit, EVENTS, type Callback, type EventName } from '../../src/train/index.js';
import { makeTrainer, setup } from './fixtures.js';

/** A callback recording every event it sees, as "event" or "event:phase". */
function recorder(log: string[], name = 'recorder', order?: number): Callback {
  const cb: Record<string, unknown> = { name, order };
  for (const e of EVENTS) {
    cb[e] = (t: { training: boolean; batchIndex: number }) => {
      const batchy = ['beforeBatch', 'afterForward', 'afterLoss', 'afterBackward', 'afterStep', 'afterBatch', 'afterCancelBatch'].includes(e);
      log.push(batchy ? `${e}:${t.training ? 'train' : 'valid'}${t.batchIndex}` : e);
    };
  }
  return cb as Callback;
}

test('events fire in the fixed order: fit, epoch, train batches, validation batches', async () => {
  const s = setup();
  const log: string[] = [];
  const trainer = makeTrainer(s, [recorder(log)]);
  await trainer.fit({ epochs: 1 });
  const trainBatch = (b: number): string[] => ['beforeBatch', 'afterForward', 'afterLoss', 'afterBackward', 'afterStep', 'afterBatch'].map((e) => `${e}:train${b}`);
  const validBatch = (b: number): string[] => ['beforeBatch', 'afterForward', 'afterLoss', 'afterBatch'].map((e) => `${e}:valid${b}`);
  const expected = [
    'beforeFit', 'beforeEpoch', 'beforeTrain',
    ...[0, 1, 2, 3, 4, 5].flatMap(trainBatch),
    'afterTrain', 'beforeValidate', ...validBatch(0), 'afterValidate', 'afterEpoch', 'afterFit',
  ];
  assert.deepEqual(log, expected);
  assert.equal(trainer.step, 6);
  assert.ok(trainer.history[0].loss > 0 && trainer.history[0].valAccuracy >= 0, JSON.stringify(trainer.history[0]));
});

test('callbacks run in ascending order, ties in the order given', async () => {
  const s = setup();
  const seen: string[] = [];
  const mk = (name: string, order?: number): Callback => ({ name, order, beforeFit: () => void seen.push(name) });
  await makeTrainer(s, [mk('late', 70), mk('a'), mk('early', 1), mk('b')]).fit({ epochs: 0 });
  assert.deepEqual(seen, ['early', 'a', 'b', 'late']);
});

test('CancelBatch skips the step but still runs afterBatch', async () => {
  const s = setup();
  const log: string[] = [];
  const canceller: Callback = { name: 'cancel', afterBackward: (t) => { if (t.batchIndex === 2) throw new CancelBatch(); } };
  const trainer = makeTrainer(s, [canceller, recorder(log, 'rec', 60)]);
  await trainer.fit({ epochs: 1 });
  assert.equal(trainer.step, 5, 'one of six steps was cancelled');
  const i = log.indexOf('afterCancelBatch:train2');
  assert.ok(i > 0);
  assert.equal(log[i + 1], 'afterBatch:train2');
  assert.ok(!log.includes('afterStep:train2'));
});

test('CancelEpoch ends the epoch (no validation) and the next epoch starts a fresh data order', async () => {
  const s = setup();
  const log: string[] = [];
  const canceller: Callback = { name: 'cancel', afterBatch: (t) => { if (t.epoch === 0 && t.training && t.batchIndex === 1) throw new CancelEpoch('enough'); } };
  const trainer = makeTrainer(s, [canceller, recorder(log, 'rec', 60)]);
  await trainer.fit({ epochs: 2 });
  assert.equal(trainer.step, 2 + 6);
  const firstEnd = log.indexOf('afterEpoch');
  assert.deepEqual(log.slice(firstEnd - 1, firstEnd + 1), ['afterCancelEpoch', 'afterEpoch']);
  assert.ok(!log.slice(0, firstEnd).includes('beforeValidate'));
  assert.equal(s.train.epoch, 2, 'the loader counted both epochs');
});

test('CancelFit stops training; fit returns the reason and afterFit still runs', async () => {
  const s = setup();
  const events: EventName[] = [];
  const stopper: Callback = {
    name: 'stop',
    afterStep: (t) => { if (t.step === 3) throw new CancelFit('stop at 3'); },
    afterCancelFit: () => void events.push('afterCancelFit'),
    afterFit: () => void events.push('afterFit'),
  };
  const result = await makeTrainer(s, [stopper]).fit({ epochs: 5 });
  assert.equal(result.steps, 3);
  assert.equal(result.stopReason, 'stop at 3');
  assert.deepEqual(events, ['afterCancelFit', 'afterFit']);
});

test('bad options and duplicate callback names are rejected clearly', () => {
  const s = setup();
  assert.throws(() => makeTrainer(s, [{ name: 'x' }, { name: 'x' }]), /two callbacks are named 'x'/);
  assert.throws(() => makeTrainer(s, [], { epochs: -1 }), /epochs must be a non-negative integer, got -1/);
  assert.throws(() => makeTrainer(s, [], { trainData: {} as never }), /trainData must be a DataLoader/);
});
