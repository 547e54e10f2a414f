import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EarlyStopping, type Callback } from '../../src/train/index.js';
import { makeTrainer, setup, weightBytes } from './fixtures.js';

/** Overwrites the monitored metric with a script and snapshots the weights at each epoch end. */
function scripted(values: number[], snapshots: Map<string, Uint8Array>[]): Callback {
  return {
    name: 'script',
    order: 50, // before early stopping (60)
    afterEpoch: async (t) => {
      t.logs.valLoss = values[t.epoch];
      snapshots.push(await weightBytes(t.model));
    },
  };
}

test('early stopping stops after `patience` epochs without improvement and restores the best weights', async () => {
  const s = setup();
  const snaps: Map<string, Uint8Array>[] = [];
  const es = new EarlyStopping({ monitor: 'valLoss', patience: 2, minDelta: 0.05 });
  // Epoch 2 improves by less than minDelta, so it does not count.
  const result = await makeTrainer(s, [scripted([3, 2, 1.97, 2.5, 0.1, 0.1], snaps), es]).fit({ epochs: 6 });
  assert.equal(result.epochs, 4, 'stopped after epoch index 3');
  assert.match(result.stopReason!, /valLoss has not improved for 2 epoch\(s\); best 2 at epoch 1/);
  assert.equal(es.bestEpoch, 1);
  assert.deepEqual(await weightBytes(s.model), snaps[1], 'weights are those of epoch 1');
  assert.notDeepEqual(snaps[3], snaps[1], 'training did change them afterwards');
});

test('restoreBestWeights: false keeps the last weights; mode max follows accuracy', async () => {
  const s = setup();
  const snaps: Map<string, Uint8Array>[] = [];
  const es = new EarlyStopping({ monitor: 'valLoss', mode: 'max', patience: 1, restoreBestWeights: false });
  const result = await makeTrainer(s, [scripted([1, 3, 2, 5], snaps), es]).fit({ epochs: 4 });
  assert.equal(result.epochs, 3);
  assert.equal(es.best, 3);
  assert.deepEqual(await weightBytes(s.model), snaps[2]);
  assert.equal(new EarlyStopping({ monitor: 'valAccuracy' }).mode, 'max');
  assert.equal(new EarlyStopping({ monitor: 'valLoss' }).mode, 'min');
});

test('a monitor that is not logged fails with the names that are', async () => {
  const s = setup();
  await assert.rejects(makeTrainer(s, [new EarlyStopping({ monitor: 'valLos' })]).fit({ epochs: 1 }), /EarlyStopping: monitor 'valLos' is not logged by this run \(did you mean 'valLoss'\?\); it logs: loss, accuracy, lr, valLoss, valAccuracy/);
  assert.throws(() => new EarlyStopping({ patience: -1 }), /patience must be a non-negative integer/);
});
