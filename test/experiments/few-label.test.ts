import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GradkitError, Random } from '../../src/index.js';
import '../../src/digits.js'; // the digits source (optional package 'mnist')
import { fewLabelExperiment, fewLabelMarkdown, fewLabelCnn, PROBE_LAYERS } from '../../src/experiments/few-label.js';

// Small size (~15 s on 2 cores): pretrain on 1,500 digits 0–4 for 2 epochs, 3 seeds, narrow CNN,
// 500 test digits 5–9. Every arm of a seed sees the same k-shot sample, so the means are paired.
test('few-label transfer: fine-tuning a network pretrained on 0–4 beats training from scratch on 5–9 at 3 and 10 per class', async () => {
  const result = await fewLabelExperiment({
    shotsPerClass: [3, 10], seeds: 3, pretrainSize: 1500, pretrainEpochs: 2, testSize: 500,
    width: [8, 16, 32], finetuneEpochs: 30, probeDepths: ['block2', 'hidden'],
  });
  assert.equal(result.pretrainSize, 1500);
  assert.equal(result.testSize, 500);
  assert.deepEqual(result.seeds, [0, 1, 2]);
  // Pretraining worked: the 0–4 task is easy for this network.
  assert.ok(result.pretrainAccuracy > 0.9, `pretrain accuracy ${result.pretrainAccuracy}`);
  assert.deepEqual(result.rows.map((r) => r.shotsPerClass), [3, 10]);
  for (const r of result.rows) {
    const msg = `${r.shotsPerClass}/class: scratch ${r.scratch.values}, fine-tune ${r.finetune.values}`;
    assert.equal(r.scratch.values.length, 3);
    assert.ok(r.finetune.mean > r.scratch.mean, msg);
    // Every arm learns something (chance is 20%), and the summary matches its values.
    for (const s of [r.scratch, r.finetune, r.probe.block2!, r.probe.hidden!]) {
      assert.ok(s.values.every((v) => v > 0.3 && v <= 1), `${msg}; ${s.values}`);
      assert.ok(Math.abs(s.mean - s.values.reduce((a, b) => a + b, 0) / s.values.length) < 1e-12);
      assert.ok(s.std >= 0 && Number.isFinite(s.std));
    }
  }
  // More labels help fine-tuning.
  assert.ok(result.rows[1].finetune.mean > result.rows[0].finetune.mean);
  const md = fewLabelMarkdown(result);
  assert.match(md, /^\| examples \/ class \| scratch \| fine-tune \| probe @ block2 \| probe @ hidden \|/);
  assert.equal(md.split('\n').length, 4);
  assert.match(md.split('\n')[2], /^\| 3 \| \d+\.\d ± \d+\.\d \|/);
});

test('fewLabelCnn: the probe cut points are the block outputs and the last hidden layer', () => {
  const m = fewLabelCnn([4, 8, 16], new Random(0));
  const names = [...m.namedChildren()].map(([n, c]) => `${n}:${c.constructor.name}`);
  assert.equal(names[Number(PROBE_LAYERS.block1)], '3:MaxPool2d');
  assert.equal(names[Number(PROBE_LAYERS.block2)], '7:MaxPool2d');
  assert.equal(names[Number(PROBE_LAYERS.hidden)], '11:ReLU');
  assert.equal(names[names.length - 1], '12:Linear');
});

test('fewLabelExperiment: bad options are clear errors', async () => {
  const bad = async (opts: Parameters<typeof fewLabelExperiment>[0], re: RegExp): Promise<void> => {
    await assert.rejects(fewLabelExperiment(opts), (e: unknown) => e instanceof GradkitError && re.test(e.message));
  };
  await bad({ shotsPerClass: [] }, /fewLabel: shotsPerClass must be a non-empty array/);
  await bad({ shotsPerClass: [0] }, /shotsPerClass entry must be a positive integer, got 0/);
  await bad({ seeds: 0 }, /seeds must be a positive integer, got 0/);
  await bad({ probeDepths: ['deep' as 'hidden'] }, /unknown probe depth 'deep'; expected one of block1, block2, hidden/);
  await bad({ finetuneEpochs: 1.5 }, /finetuneEpochs must be a positive integer, got 1.5/);
  await bad({ shotsPerClass: [5000], pretrainEpochs: 1 }, /shotsPerClass 5000 exceeds the \d+ training images of the rarest digit/);
});
