/**
 * Normalization (cs231n lecture 7): the same deep MLP with no normalization, BatchNorm,
 * LayerNorm or GroupNorm — at a learning rate too large for the plain net, and from a poor
 * (too small) initialization.
 */
import * as g from '../../index.js';
import type { AnyModule } from '../../nn/module.js';
import type { InitScheme } from '../../nn/init.js';
import { runArms, type ArmSpec } from './harness.js';
import { at, gaussian, mlp } from './common.js';
import { flatDigits, loaders } from './data.js';
import { compareArms } from './verdict.js';
import type { ClaimResult, Family, RunContext } from './types.js';
import { smallBatchClaim } from './normalization-batch.js';

const NORMS: [string, ((w: number) => AnyModule) | undefined][] = [
  ['none', undefined],
  ['BatchNorm', (w) => new g.nn.BatchNorm1d(w)],
  ['LayerNorm', (w) => new g.nn.LayerNorm(w)],
  ['GroupNorm (8 groups)', (w) => new g.nn.GroupNorm(8, w)],
];

async function arms(ctx: RunContext, lr: number, init: InitScheme, hidden: number[], epochs: number, n: number) {
  const d = await flatDigits(n, 500);
  const specs: ArmSpec[] = NORMS.map(([name, norm]) => ({
    name, epochs,
    setup: (seed: number) => {
      const model = mlp(hidden, () => new g.nn.ReLU(), { init, norm });
      return { model, optimizer: new g.optim.SGD(model.parameters(), { lr, momentum: 0.9 }), ...loaders(d.xTrain, d.yTrain, d.xTest, d.yTest, seed) };
    },
  }));
  return runArms(specs, ctx.seeds, ctx.log);
}

const columns = [{ key: 'loss', label: 'final train loss' }, { key: 'valAccuracy', label: 'val accuracy' }];

async function highLrClaim(ctx: RunContext): Promise<ClaimResult> {
  const n = ctx.quick ? 600 : 2000;
  const epochs = ctx.quick ? 3 : 8;
  const hidden = [64, 64, 64, 64];
  const lr = 0.3;
  const r = await arms(ctx, lr, 'he', hidden, epochs, n);
  return {
    id: 'norm-high-lr', claim: 'BatchNorm tolerates a learning rate the plain network does not',
    quote: '- Allows higher learning rates, faster convergence', source: at('cs231n', 786),
    setup: `MLP 784 → ${hidden.length}×${hidden[0]} (normalization before each ReLU) → 10, He init; ${n} training digits, 500 validation; SGD lr ${lr} (large), momentum 0.9, batch 32, ${epochs} epochs.`,
    arms: r, columns, figure: { metric: 'loss', label: 'train loss', logY: true },
    // BatchNorm's validation accuracy beats the plain net's by at least 5 points at this rate.
    judgement: compareArms(r[1].final.valAccuracy, r[0].final.valAccuracy, { better: 'higher', minEffect: 0.05 }),
  };
}

async function badInitClaim(ctx: RunContext): Promise<ClaimResult> {
  const n = ctx.quick ? 600 : 2000;
  const epochs = ctx.quick ? 3 : 8;
  const hidden = Array(8).fill(64) as number[];
  const lr = 0.01;
  const r = await arms(ctx, lr, gaussian(0.01), hidden, epochs, n);
  return {
    id: 'norm-bad-init', claim: 'BatchNorm makes a deep net trainable from a too-small initialization',
    quote: '- Networks become more robust to initialization', source: at('cs231n', 787),
    setup: `MLP 784 → ${hidden.length}×${hidden[0]} (normalization before each ReLU) → 10, hidden weights N(0, 0.01²) (the lecture's "small random numbers"); ${n} training digits, 500 validation; SGD lr ${lr}, momentum 0.9, batch 32, ${epochs} epochs.`,
    arms: r, columns, figure: { metric: 'loss', label: 'train loss' },
    // BatchNorm's validation accuracy beats the plain net's by at least 5 points from this init.
    judgement: compareArms(r[1].final.valAccuracy, r[0].final.valAccuracy, { better: 'higher', minEffect: 0.05 }),
  };
}

export const normalization: Family = {
  name: 'normalization',
  title: 'Normalization',
  async run(ctx) {
    return [await highLrClaim(ctx), await badInitClaim(ctx), await smallBatchClaim(ctx)];
  },
};
