import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GradkitError, Random, manualSeed, nn, zeros } from '../../src/index.js';
import { loadDigits } from '../../src/digits.js';
import { simclrThroughTrainer } from '../../src/experiments/lectures/simclr-trainer.js';

function tinyBody(): nn.Sequential {
  const rng = new Random(3);
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1, bias: false, rng }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(4),
    new nn.Flatten(), new nn.Linear(4 * 7 * 7, 16, { rng }), new nn.ReLU(),
  );
}

test('simclrThroughTrainer: one NT-Xent value per step, the loss falls, the body changes in place, same seed same run', async () => {
  const { xTrain } = await loadDigits({ trainSize: 96, testSize: 10, seed: 0 });
  const opts = { epochs: 6, lr: 5e-3, batchSize: 32, temperature: 0.5, seed: 0 };
  manualSeed(0);
  const body = tinyBody();
  const before = body.stateDict().get('5.weight')!.dataSync().slice();
  const losses = await simclrThroughTrainer(body, 16, xTrain, opts);
  // 96 images in batches of 32: three steps an epoch.
  assert.equal(losses.length, 6 * 3);
  assert.ok(losses.every(Number.isFinite));
  // With 2·32 views an anchor has 62 negatives: chance-level NT-Xent is about ln 63 ≈ 4.14.
  assert.ok(losses[0] > 3.5, `first loss ${losses[0]}`);
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  assert.ok(mean(losses.slice(-3)) < mean(losses.slice(0, 3)) - 0.1, `NT-Xent ${mean(losses.slice(0, 3))} → ${mean(losses.slice(-3))}`);
  const after = body.stateDict().get('5.weight')!.dataSync();
  assert.ok(after.some((v, i) => v !== before[i]), 'the body was not trained');
  manualSeed(0);
  const again = await simclrThroughTrainer(tinyBody(), 16, xTrain, opts);
  assert.deepEqual(again, losses);
});

test('simclrThroughTrainer: a batch of one image or a single image is refused with one line', async () => {
  const x = zeros([4, 1, 28, 28]);
  await assert.rejects(simclrThroughTrainer(tinyBody(), 16, x, { epochs: 1, lr: 1e-3, batchSize: 1, temperature: 0.5, seed: 0 }), (e: unknown) => e instanceof GradkitError && /batchSize must be an integer >= 2/.test(e.message));
  await assert.rejects(simclrThroughTrainer(tinyBody(), 16, zeros([1, 1, 28, 28]), { epochs: 1, lr: 1e-3, batchSize: 2, temperature: 0.5, seed: 0 }), (e: unknown) => e instanceof GradkitError && /at least 2 images/.test(e.message));
});
