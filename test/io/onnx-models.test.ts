/**
 * The done-when check: a CNN with BatchNorm and residual blocks, trained a few steps so
 * its running statistics are not the defaults, exported at batch 1 and run by ONNX Runtime at
 * batch 5, within 1e-4 of gradkit. Then the shipped digits CNN on real digits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nn, optim, losses, zoo, manualSeed, randn, randint, Random, noGrad, argmax, type Tensor } from '../../src/index.js';
import { loadDigits } from '../../src/digits.js';
import { DEFAULT_EXPERIMENT } from '../../src/cli/experiment.js';
import { compareWithOrt, runOrt, maxAbsDiff } from './onnx-helpers.js';
import { exportOnnx } from '../../src/io/onnx/index.js';

function residualCnn(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 6, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(6), new nn.ReLU(),
    new nn.BasicBlock(6, 6),                 // identity shortcut
    new nn.BasicBlock(6, 8, { stride: 2 }),  // projection shortcut: conv1x1 stride 2 + BN
    new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(8 * 3 * 3, 4),
  );
}

test('done-when: trained CNN with BatchNorm and residual blocks matches ONNX Runtime within 1e-4 (export batch 1, run batch 5)', async () => {
  manualSeed(11);
  const model = residualCnn();
  const rng = new Random(12);
  const x = randn([16, 1, 12, 12], { rng });
  const y = randint(0, 4, [16], { rng });
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
  for (let step = 0; step < 4; step++) {
    opt.zeroGrad();
    losses.crossEntropy(model.call(x), y).backward();
    opt.step();
  }
  // Running statistics moved away from their defaults (mean 0, var 1) in every BatchNorm.
  const bns = [...model.modules()].filter((m): m is nn.BatchNorm2d => m instanceof nn.BatchNorm2d);
  assert.equal(bns.length, 6);
  for (const bn of bns) {
    assert.ok(Array.from(bn.runningMean!.dataSync()).some((v) => Math.abs(v) > 1e-3), 'running mean still 0');
    assert.ok(Array.from(bn.runningVar!.dataSync()).some((v) => Math.abs(v - 1) > 1e-3), 'running variance still 1');
  }
  const statsBefore = bns.map((bn) => Array.from(bn.runningMean!.dataSync()));
  assert.equal(model.training, true);
  const { maxDiff } = await compareWithOrt(model, [1, 1, 12, 12], { runShape: [5, 1, 12, 12], seed: 13 });
  console.log(`done-when CNN: max |onnxruntime − gradkit| = ${maxDiff.toExponential(2)} over 5x4 logits`);
  assert.ok(maxDiff < 1e-4, `max abs diff ${maxDiff}`);
  // The export ran the model in eval mode: nothing it holds changed, and it is back in training mode.
  assert.equal(model.training, true);
  assert.ok(bns.every((bn) => bn.training));
  assert.deepEqual(bns.map((bn) => Array.from(bn.runningMean!.dataSync())), statsBefore);
});

test("zoo.load('digits-cnn') exported and run by ONNX Runtime on 64 real digits: same logits within 1e-4, same predictions", async () => {
  const { model, preprocessing } = zoo.load('digits-cnn');
  const { xTest, yTest } = await loadDigits({ trainSize: DEFAULT_EXPERIMENT.data.trainSize, testSize: 64, seed: DEFAULT_EXPERIMENT.seed });
  const x = preprocessing.transform(xTest);
  const bytes = exportOnnx(model, { inputShape: [1, 1, 28, 28] });
  const expected = noGrad(() => model.call(x) as Tensor);
  const got = await runOrt(bytes, x);
  assert.deepEqual([...got.dims], [64, 10]);
  const diff = maxAbsDiff(got.data, expected.dataSync());
  console.log(`digits-cnn: max |onnxruntime − gradkit| = ${diff.toExponential(2)} over 64x10 logits (${bytes.length} bytes)`);
  assert.ok(diff < 1e-4, `max abs diff ${diff}`);
  const ours = argmax(expected, 1).dataSync();
  const labels = yTest.dataSync();
  let agree = 0;
  let right = 0;
  for (let i = 0; i < 64; i++) {
    let best = 0;
    for (let k = 1; k < 10; k++) if (got.data[i * 10 + k] > got.data[i * 10 + best]) best = k;
    if (best === Number(ours[i])) agree++;
    if (best === Number(labels[i])) right++;
  }
  assert.equal(agree, 64, 'ONNX Runtime and gradkit predict the same class for every digit');
  assert.ok(right >= 60, `ONNX Runtime gets ${right}/64 digits right`);
});
