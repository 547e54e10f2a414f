/**
 * Optimization, continued (Lund lecture 9, cs231n): gradient clipping on a small recurrent
 * network that diverges without it, and the learning-rate finder's suggestion against a grid of
 * fixed rates. Through the Trainer (its GradClip callback) and diagnostics.lrFinder.
 */
import * as g from '../../index.js';
import { loadDigits } from '../../data/datasets/digits.js';
import type { Tensor } from '../../tensor/tensor.js';
import { runArms, type ArmSpec } from './harness.js';
import { at, mlp } from './common.js';
import { flatDigits, loaders } from './data.js';
import { compareArms, compareThreshold } from './verdict.js';
import type { ClaimResult, RunContext } from './types.js';

/** Reads a [N, 1, 14, 14] image as 14 steps of 14 pixels (row by row); classifies from the last hidden state. */
export class RowRnn extends g.nn.Module {
  rnn: g.nn.RNN;
  head: g.nn.Linear;
  constructor(hidden: number) {
    super();
    this.rnn = this.registerModule('rnn', new g.nn.RNN(14, hidden, { nonlinearity: 'relu' }));
    this.head = this.registerModule('head', new g.nn.Linear(hidden, 10, { init: 'xavier' }));
  }
  override forward(x: Tensor): Tensor {
    const n = x.shape[0];
    const { hidden } = this.rnn.call(x.reshape([n, 14, 14]));
    return this.head.call(hidden.reshape([n, hidden.shape[2]])) as Tensor;
  }
}

export const RNN_SETUP = { hidden: 64, lr: 0.3, momentum: 0.9, maxNorm: 1 };

export async function clippingClaim(ctx: RunContext): Promise<ClaimResult> {
  // Quick mode too: the unclipped net needs ~60 steps to blow up, and a run is ~2 s.
  const n = 600;
  const epochs = 5;
  const d = await loadDigits({ trainSize: n, testSize: 500, seed: 0 });
  const pool = (x: Tensor): Tensor => g.avgPool2d(x, { kernelSize: 2, stride: 2 });
  const x = pool(d.xTrain);
  const xv = pool(d.xTest);
  const { hidden, lr, momentum, maxNorm } = RNN_SETUP;
  const specs: ArmSpec[] = [false, true].map((clip): ArmSpec => ({
    name: clip ? `clipped (global norm ≤ ${maxNorm})` : 'no clipping', epochs,
    setup: (seed: number) => {
      const model = new RowRnn(hidden);
      return {
        model, optimizer: new g.optim.SGD(model.parameters(), { lr, momentum }),
        callbacks: clip ? [new g.train.GradClip({ maxNorm })] : [],
        ...loaders(x, d.yTrain, xv, d.yTest, seed),
      };
    },
    measure: (_s, h) => ({ maxLoss: Math.max(...h.map((r) => (Number.isFinite(r.loss) ? r.loss : Infinity))) }),
  }));
  const arms = await runArms(specs, ctx.seeds, ctx.log);
  return {
    id: 'opt-clipping', claim: 'Gradient clipping lets a recurrent network train at a rate where it otherwise diverges',
    quote: 'Widely used for training recurrent neural networks.\n\nThe gradient specifies locally the best direction but not necessarily a good step size, especially not for non-convex functions.',
    source: `${at('lund', 198)}–200`,
    setup: `A ReLU RNN (${hidden} units) reads each 14×14 digit row by row (14 steps of 14 pixels) and classifies from its last hidden state; ${n} training digits, 500 validation; SGD lr ${lr}, momentum ${momentum}, batch 32, ${epochs} epochs; with and without the Trainer's \`GradClip({ maxNorm: ${maxNorm} })\` callback. A diverged run (non-finite loss) is reported as such.`,
    arms, columns: [{ key: 'valAccuracy', label: 'val accuracy' }, { key: 'loss', label: 'final train loss' }, { key: 'maxLoss', label: 'worst epoch train loss' }],
    figure: { metric: 'loss', label: 'train loss', logY: true },
    // The clipped network's validation accuracy beats the unclipped one's by at least 10 points (a diverged run has none).
    judgement: compareArms(arms[1].final.valAccuracy, arms[0].final.valAccuracy, { better: 'higher', minEffect: 0.1 }),
  };
}

export async function lrFinderClaim(ctx: RunContext): Promise<ClaimResult> {
  const n = ctx.quick ? 600 : 2000;
  const epochs = ctx.quick ? 3 : 5;
  const d = await flatDigits(n, 500);
  const grid = [1e-3, 1e-2, 1e-1, 1];
  const build = (seed: number) => {
    const model = mlp([128, 128], () => new g.nn.ReLU());
    return { model, ...loaders(d.xTrain, d.yTrain, d.xTest, d.yTest, seed) };
  };
  const suggested: number[] = [];
  const finder: ArmSpec = {
    name: 'LR finder suggestion', epochs,
    setup: async (seed: number) => {
      const s = build(seed);
      const optimizer = new g.optim.SGD(s.model.parameters(), { lr: 1e-3, momentum: 0.9 });
      // The finder puts the weights and optimizer state back when it is done; the run starts fresh.
      const r = await g.diagnostics.lrFinder({ model: s.model, optimizer, data: s.trainData, startLr: 1e-5, endLr: 10, numSteps: 100 });
      suggested.push(r.suggestedLr);
      optimizer.setLr(r.suggestedLr);
      return { ...s, optimizer };
    },
  };
  const specs: ArmSpec[] = [finder, ...grid.map((lr): ArmSpec => ({
    name: `fixed lr ${lr}`, epochs,
    setup: (seed: number) => {
      const s = build(seed);
      return { ...s, optimizer: new g.optim.SGD(s.model.parameters(), { lr, momentum: 0.9 }) };
    },
  }))];
  const arms = await runArms(specs, ctx.seeds, ctx.log);
  arms[0].final.suggestedLr = suggested;
  // Per seed: how far the suggestion's validation accuracy falls below the best rate of the grid.
  const acc = (a: number, i: number): number => (Number.isFinite(arms[a].final.valAccuracy[i]) ? arms[a].final.valAccuracy[i] : 0);
  arms[0].final.shortOfBest = ctx.seeds.map((_, i) => Math.max(...grid.map((_lr, j) => acc(j + 1, i))) - acc(0, i));
  return {
    id: 'opt-lr-finder', claim: 'The LR finder\'s suggestion trains about as well as the best rate of a grid',
    quote: 'Learning rate: If the loss is diverging, decrease the learning rate. If the loss decreases slowly, you should probably increase the learning rate.', source: at('lund', 177),
    setup: `MLP 784 → 128 → 128 ReLU → 10, He init; ${n} training digits, 500 validation; SGD momentum 0.9, batch 32, ${epochs} epochs at the rate \`diagnostics.lrFinder\` suggests (100 steps from 1e-5 to 10 on the same model and loader, then a fresh start) and at each rate of the grid ${grid.join(', ')}. \`short of best\`: the best grid rate's val accuracy minus the suggestion's, per seed.`,
    arms, columns: [{ key: 'suggestedLr', label: 'suggested lr' }, { key: 'valAccuracy', label: 'val accuracy' }, { key: 'shortOfBest', label: 'short of best grid rate' }, { key: 'loss', label: 'final train loss' }],
    figure: { metric: 'valAccuracy', label: 'validation accuracy' },
    // About as well: the suggestion's validation accuracy is less than 2 points below the grid's best.
    judgement: compareThreshold(arms[0].final.shortOfBest, { below: 0.02 }),
  };
}
