import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nn, optim } from '../../src/index.js';
import { Checkpoint, EarlyStopping, LrSchedule, EmaWeights, MetricsLog, memoryStorage, type Callback } from '../../src/train/index.js';
import { makeTrainer, setup, weightBytes, type Setup } from './fixtures.js';

const EPOCHS = 2;
const HALF = 3; // 6 batches per epoch: a checkpoint every half epoch

/** The full set of stateful callbacks, so their state must round-trip too. */
function callbacks(s: Setup, storage: ReturnType<typeof memoryStorage>): Callback[] {
  const sched = new optim.LrScheduler(s.optimizer, (lr) => optim.cosineAnnealing({ baseLr: lr, tMax: EPOCHS * 6 }));
  return [
    new Checkpoint({ storage, dir: 'run', everySteps: HALF }),
    new LrSchedule({ scheduler: sched }),
    new EmaWeights(s.model.parameters(), { decay: 0.9, applyAtEnd: false }),
    new EarlyStopping({ monitor: 'valLoss', patience: 10 }),
  ];
}

class Killed extends Error {}

async function uninterrupted(): Promise<{ bytes: Map<string, Uint8Array>; history: Record<string, number>[] }> {
  const s = setup();
  const storage = memoryStorage();
  const t = makeTrainer(s, callbacks(s, storage));
  await t.fit({ epochs: EPOCHS });
  return { bytes: await weightBytes(s.model), history: t.history };
}

/** Trains, "kills" the process after step k, then resumes a freshly built run from last.ckpt. */
async function killAndResume(k: number, during: 'afterStep' | 'afterValidate' = 'afterStep'): Promise<{ bytes: Map<string, Uint8Array>; history: Record<string, number>[]; resumedAt: number }> {
  const storage = memoryStorage();
  const s1 = setup();
  const killer: Callback = { name: 'killer', order: 99, [during]: (t: { step: number }) => { if (t.step === k) throw new Killed(); } };
  await assert.rejects(makeTrainer(s1, [...callbacks(s1, storage), killer]).fit({ epochs: EPOCHS }), Killed);
  // A new process: same code and config. With a checkpoint, build it from another seed to prove
  // the checkpoint replaces weights and generator states; without one (killed before the first
  // save) the run simply starts over from the same seed.
  const saved = await storage.exists('run/last.ckpt');
  const s2 = setup(saved ? 99 : 0);
  const t2 = makeTrainer(s2, callbacks(s2, storage));
  if (saved) await t2.loadCheckpoint(storage, 'run/last.ckpt');
  const resumedAt = t2.step;
  await t2.fit({ epochs: EPOCHS });
  return { bytes: await weightBytes(s2.model), history: t2.history, resumedAt };
}

test('kill-and-resume ends with bit-identical weights to an uninterrupted run', async () => {
  const ref = await uninterrupted();
  // Kill points: mid half-epoch, right after a checkpoint, at the last batch of an epoch, in epoch 2.
  // The killer runs in afterStep, before that step's checkpoint is written in afterBatch.
  for (const k of [2, 3, 4, 6, 7, 11]) {
    const r = await killAndResume(k);
    assert.equal(r.resumedAt, Math.floor((k - 1) / HALF) * HALF, `kill at step ${k} resumes from the last checkpoint`);
    for (const [name, b] of ref.bytes) assert.deepEqual(r.bytes.get(name), b, `kill at step ${k}: ${name} differs from the uninterrupted run`);
    assert.deepEqual(r.history.map((h) => h.valLoss), ref.history.map((h) => h.valLoss), `kill at step ${k}: validation losses differ`);
    assert.deepEqual(r.history.map((h) => h.loss), ref.history.map((h) => h.loss), `kill at step ${k}: training losses differ`);
  }
});

test('a run killed during validation resumes from the checkpoint taken after the last batch', async () => {
  const ref = await uninterrupted();
  const r = await killAndResume(6, 'afterValidate');
  assert.equal(r.resumedAt, 6);
  for (const [name, b] of ref.bytes) assert.deepEqual(r.bytes.get(name), b, `${name} differs from the uninterrupted run`);
  assert.deepEqual(r.history, ref.history.map((h) => ({ ...h })));
});

test('the JSON-lines log of a resumed run has no duplicated or missing lines', async () => {
  const log = async (kill: number | null): Promise<string> => {
    const storage = memoryStorage();
    const cbs = (s: Setup): Callback[] => [new Checkpoint({ storage, dir: 'run', everySteps: 4 }), new MetricsLog({ storage, path: 'run/m.jsonl', everySteps: 1 })];
    const s1 = setup();
    // Order 75: after the log line of the step (70), before its checkpoint (80).
    const killer: Callback = { name: 'killer', order: 75, afterBatch: (t) => { if (t.step === kill) throw new Killed(); } };
    const run = makeTrainer(s1, [...cbs(s1), killer]).fit({ epochs: 2 });
    if (kill === null) {
      await run;
    } else {
      await assert.rejects(run, Killed);
      const s2 = setup(99);
      const t2 = makeTrainer(s2, cbs(s2));
      await t2.loadCheckpoint(storage, 'run/last.ckpt');
      await t2.fit({ epochs: 2 });
    }
    return new TextDecoder().decode(storage.files.get('run/m.jsonl'));
  };
  const ref = await log(null);
  assert.equal(ref.trim().split('\n').length, 12 + 2);
  // Killed after the line of step 6 (last checkpoint: step 4) and of step 8 (its own checkpoint not yet written).
  assert.equal(await log(6), ref);
  assert.equal(await log(8), ref);
});

test('a checkpoint from another architecture is refused, naming the keys, and changes nothing', async () => {
  const storage = memoryStorage();
  const s = setup();
  await makeTrainer(s, [new Checkpoint({ storage, dir: 'run' })]).fit({ epochs: 1 });
  const other = setup(5);
  other.model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3), new nn.Linear(3, 3));
  other.optimizer = new optim.Adam(other.model.parameters(), { lr: 0.01 });
  const t = makeTrainer(other, [new Checkpoint({ storage, dir: 'run' })]);
  const before = await weightBytes(other.model);
  const loaderBefore = other.train.state();
  await assert.rejects(t.loadCheckpoint(storage, 'run/last.ckpt'), (e: Error) => {
    assert.equal(e.name, 'GradkitError');
    assert.match(e.message, /another architecture/);
    assert.match(e.message, /keys the checkpoint lacks: 2\.weight, 2\.bias/);
    assert.match(e.message, /0\.weight \(checkpoint \[16, 4\], model \[8, 4\]\)/);
    return true;
  });
  assert.deepEqual(await weightBytes(other.model), before, 'model unchanged');
  assert.deepEqual(other.train.state(), loaderBefore, 'loader unchanged');
  assert.equal(t.step, 0);
});

test('a failure after the model loaded rolls everything back', async () => {
  const storage = memoryStorage();
  const s = setup();
  await makeTrainer(s, [new Checkpoint({ storage, dir: 'run' })]).fit({ epochs: 1 });
  const s2 = setup(7);
  // Same architecture, but an optimizer of another kind: the optimizer load fails after the model's.
  s2.optimizer = new optim.SGD(s2.model.parameters(), { lr: 0.1 }) as unknown as optim.Adam;
  const t = makeTrainer(s2, [new Checkpoint({ storage, dir: 'run' })]);
  const before = await weightBytes(s2.model);
  await assert.rejects(t.loadCheckpoint(storage, 'run/last.ckpt'), /nothing was changed.*saved by Adam, not SGD/);
  assert.deepEqual(await weightBytes(s2.model), before);
});

test('checkpoints are refused mid-batch with a message saying where they are allowed', async () => {
  const s = setup();
  const storage = memoryStorage();
  const bad: Callback = { name: 'bad', afterLoss: (t) => t.saveCheckpoint(storage, 'x.ckpt') };
  await assert.rejects(makeTrainer(s, [bad]).fit({ epochs: 1 }), /cannot checkpoint during afterLoss.*checkpoint in afterBatch of training, afterEpoch or afterFit/);
});
