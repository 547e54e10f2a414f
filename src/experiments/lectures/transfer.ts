/**
 * Transfer learning (FAU "Initialization & Transfer Learning"): the library's few-label
 * experiment (src/experiments/few-label.ts) — a CNN pretrained on digits 0–4 learns digits 5–9
 * from k labels per class, fine-tuned vs trained from scratch vs linear probes at two depths.
 */
import { fewLabelExperiment, type ProbeDepth } from '../few-label.js';
import type { ArmResult } from './harness.js';
import { at } from './common.js';
import { allOf, compareArms } from './verdict.js';
import type { ClaimResult, Family, RunContext } from './types.js';

async function fewLabelClaim(ctx: RunContext): Promise<ClaimResult> {
  const shots = ctx.quick ? [3, 10] : [3, 10, 20];
  const depths: ProbeDepth[] = ['block2', 'hidden'];
  const opts = {
    shotsPerClass: shots, seeds: ctx.seeds, pretrainSize: ctx.quick ? 1500 : 3000, pretrainEpochs: 2, testSize: ctx.quick ? 500 : 1000,
    width: [8, 16, 32] as [number, number, number], finetuneEpochs: 30, probeDepths: depths,
  };
  const t0 = performance.now();
  const r = await fewLabelExperiment(opts);
  const seconds = (performance.now() - t0) / 1000;
  ctx.log(`  few-label: ${seconds.toFixed(1)} s`);
  const arm = (name: string, pick: (row: (typeof r.rows)[number]) => number[] | undefined): ArmResult => ({
    name, seeds: [...r.seeds], curves: {},
    final: Object.fromEntries(r.rows.map((row) => [`acc${row.shotsPerClass}`, pick(row) ?? []])),
    seconds: seconds / (2 + depths.length),
  });
  const finetune = arm('fine-tune (pretrained, all layers)', (row) => row.finetune.values);
  const scratch = arm('scratch (same CNN)', (row) => row.scratch.values);
  const probes = depths.map((dp) => arm(`linear probe on frozen ${dp}`, (row) => row.probe[dp]?.values));
  return {
    id: 'transfer-few-label', claim: 'With little labelled data, fine-tuning a pretrained network beats training from scratch',
    quote: 'Now, transfer learning is typically used in all situations where you have little data.', source: at('fauInit', 39),
    setup: `CNN (two conv–BN–ReLU–pool blocks of 8 and 16 channels, a 32-unit hidden layer) pretrained on ${opts.pretrainSize} digits 0–4 for 2 epochs (test accuracy on 0–4: ${(r.pretrainAccuracy * 100).toFixed(1)}%); then digits 5–9 from k labels per class (the same k-shot sample for every arm of a seed), ${opts.finetuneEpochs} epochs; accuracy on ${r.testSize} test digits 5–9. Runs the library's \`fewLabelExperiment\` (its own small Adam loop, not the Trainer).`,
    arms: [finetune, scratch, ...probes],
    columns: shots.map((k) => ({ key: `acc${k}`, label: `test acc, ${k}/class` })),
    // Fine-tuning beats scratch by at least 2 points at every k.
    judgement: allOf(shots.map((k) => compareArms(finetune.final[`acc${k}`], scratch.final[`acc${k}`], { better: 'higher', minEffect: 0.02 }))),
  };
}

export const transfer: Family = {
  name: 'transfer',
  title: 'Transfer learning',
  async run(ctx) {
    return [await fewLabelClaim(ctx)];
  },
};
