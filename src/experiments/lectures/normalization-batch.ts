/**
 * Normalization and the batch size (Tsinghua "Group Normalization … Don't depend on batch size",
 * cs231n): a small CNN with BatchNorm, GroupNorm or InstanceNorm after each convolution, trained
 * with batches of 32 and of 2. BatchNorm's batch statistics become noisy at 2 and its running
 * averages stop matching them; GroupNorm and InstanceNorm normalize each sample on its own.
 */
import * as g from '../../index.js';
import { loadDigits } from '../../data/datasets/digits.js';
import type { AnyModule } from '../../nn/module.js';
import { runArms, type ArmSpec } from './harness.js';
import { at } from './common.js';
import { loaders } from './data.js';
import { compareArms } from './verdict.js';
import type { ClaimResult, RunContext } from './types.js';

const NORMS: [string, (c: number) => AnyModule][] = [
  ['BatchNorm', (c) => new g.nn.BatchNorm2d(c)],
  ['GroupNorm (4 groups)', (c) => new g.nn.GroupNorm(4, c)],
  ['InstanceNorm', (c) => new g.nn.InstanceNorm2d(c, { affine: true })],
];

/** conv(8)–norm–ReLU–pool, conv(16)–norm–ReLU–pool, Linear → 10, on 14×14 digits. */
function cnn(norm: (c: number) => AnyModule): g.nn.Sequential {
  return new g.nn.Sequential(
    new g.nn.Conv2d(1, 8, 3, { padding: 1 }), norm(8), new g.nn.ReLU(), new g.nn.MaxPool2d(2),
    new g.nn.Conv2d(8, 16, 3, { padding: 1 }), norm(16), new g.nn.ReLU(), new g.nn.MaxPool2d(2),
    new g.nn.Flatten(), new g.nn.Linear(16 * 3 * 3, 10, { init: 'xavier' }),
  );
}

export async function smallBatchClaim(ctx: RunContext): Promise<ClaimResult> {
  const n = ctx.quick ? 300 : 600;
  const epochs = ctx.quick ? 2 : 3;
  const d = await loadDigits({ trainSize: n, testSize: 500, seed: 0 });
  // 14×14 (average-pooled) keeps the convolutions cheap enough for batches of 2.
  const pool = (x: g.Tensor): g.Tensor => g.avgPool2d(x, { kernelSize: 2, stride: 2 });
  const x = pool(d.xTrain);
  const xv = pool(d.xTest);
  const specs: ArmSpec[] = [32, 2].flatMap((batch) => NORMS.map(([name, norm]): ArmSpec => ({
    name: `${name}, batch ${batch}`, epochs,
    setup: (seed: number) => {
      const model = cnn(norm);
      return { model, optimizer: new g.optim.Adam(model.parameters(), { lr: 1e-3 }), ...loaders(x, d.yTrain, xv, d.yTest, seed, batch) };
    },
  })));
  const arms = await runArms(specs, ctx.seeds, ctx.log);
  const by = (name: string) => arms.find((a) => a.name === name)!;
  return {
    id: 'norm-small-batch', claim: 'At a batch size of 2, GroupNorm beats BatchNorm (it does not depend on the batch size)',
    quote: '- Normalize inside each group and each sample\n- Don\'t depend on batch size', source: `${at('tsinghua', 489)}–490`,
    setup: `CNN on 14×14 digits: conv 3×3 (8) → norm → ReLU → max-pool → conv 3×3 (16) → norm → ReLU → max-pool → Linear → 10; ${n} training digits, 500 validation; Adam 1e-3, ${epochs} epochs with batches of 32 and of 2 (so 16× more steps at 2). Validation runs in eval mode (BatchNorm uses its running averages).`,
    arms, columns: [{ key: 'valAccuracy', label: 'val accuracy' }, { key: 'valLoss', label: 'val loss' }, { key: 'loss', label: 'final train loss' }],
    figure: { metric: 'valAccuracy', label: 'validation accuracy' },
    // GroupNorm's validation accuracy beats BatchNorm's by at least 2 points at batch 2.
    judgement: compareArms(by('GroupNorm (4 groups), batch 2').final.valAccuracy, by('BatchNorm, batch 2').final.valAccuracy, { better: 'higher', minEffect: 0.02 }),
  };
}
