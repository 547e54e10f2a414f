/**
 * Optimization (Lund lecture 9, cs231n): optimizers on the same budget, and learning-rate
 * schedules against a constant rate.
 */
import * as g from '../../index.js';
import type { Optimizer } from '../../optim/optimizer.js';
import type { Parameter } from '../../nn/parameter.js';
import type { Callback } from '../../train/callback.js';
import { meanLoss, runArms, type ArmSpec } from './harness.js';
import { at, mlp } from './common.js';
import { flatDigits, loaders } from './data.js';
import { compareArms } from './verdict.js';
import type { ClaimResult, Family, RunContext } from './types.js';
import { clippingClaim, lrFinderClaim } from './optimization-extra.js';

async function optimizerArms(ctx: RunContext) {
  const n = ctx.quick ? 600 : 2000;
  const epochs = ctx.quick ? 4 : 10;
  const hidden = [128, 128];
  const d = await flatDigits(n, 500);
  // Each optimizer at its usual default rate (SGD-family 0.01, adaptive 1e-3).
  const opts: [string, (p: Parameter[]) => Optimizer<any>][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    ['SGD (lr 0.01)', (p) => new g.optim.SGD(p, { lr: 0.01 })],
    ['momentum 0.9 (lr 0.01)', (p) => new g.optim.SGD(p, { lr: 0.01, momentum: 0.9 })],
    ['Nesterov 0.9 (lr 0.01)', (p) => new g.optim.SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true })],
    ['RMSprop (lr 1e-3)', (p) => new g.optim.RMSprop(p, { lr: 1e-3 })],
    ['Adam (lr 1e-3)', (p) => new g.optim.Adam(p, { lr: 1e-3 })],
    ['AdamW (lr 1e-3, wd 1e-2)', (p) => new g.optim.AdamW(p, { lr: 1e-3, weightDecay: 1e-2 })],
  ];
  const specs: ArmSpec[] = opts.map(([name, make]) => ({
    name, epochs,
    setup: (seed: number) => {
      const model = mlp(hidden, () => new g.nn.ReLU());
      return { model, optimizer: make(model.parameters()), ...loaders(d.xTrain, d.yTrain, d.xTest, d.yTest, seed) };
    },
    measure: (_s, h) => ({ meanLoss: meanLoss(h) }),
  }));
  const arms = await runArms(specs, ctx.seeds, ctx.log);
  return { arms, setup: `MLP 784 → ${hidden.join(' → ')} ReLU → 10, He init; ${n} training digits, 500 validation; batch 32, ${epochs} epochs for every optimizer. \`mean train loss\`: training loss averaged over the epochs (lower is faster).` };
}

async function optimizerClaims(ctx: RunContext): Promise<ClaimResult[]> {
  const { arms, setup } = await optimizerArms(ctx);
  const [sgd, momentum, , , adam] = arms;
  const columns = [{ key: 'meanLoss', label: 'mean train loss over epochs' }, { key: 'loss', label: 'final train loss' }, { key: 'valAccuracy', label: 'val accuracy' }];
  const figure = { metric: 'loss', label: 'train loss', logY: true };
  return [
    {
      id: 'opt-momentum', claim: 'Momentum trains faster than plain SGD at the same learning rate',
      quote: 'When training neural networks, we always use a mini-batch and the gradient estimate can be noisy. Compute a moving average of the gradient estimation.',
      source: `${at('lund', 74)}–76`, setup, arms, columns, figure,
      // Faster: lower mean training loss over the run, by at least 0.02.
      judgement: compareArms(momentum.final.meanLoss, sgd.final.meanLoss, { better: 'lower', minEffect: 0.02 }),
    },
    {
      id: 'opt-adam', claim: 'Adam beats plain SGD on the same budget',
      quote: 'ADAM … Works very well in practice, especially for recurrent neural networks.', source: at('lund', 86), setup,
      arms: [sgd, adam], columns, figure,
      // Works well: Adam's mean training loss is lower than plain SGD's by at least 0.02.
      judgement: compareArms(adam.final.meanLoss, sgd.final.meanLoss, { better: 'lower', minEffect: 0.02 }),
    },
  ];
}

async function scheduleClaim(ctx: RunContext): Promise<ClaimResult> {
  const n = ctx.quick ? 600 : 2000;
  const epochs = ctx.quick ? 4 : 12;
  const lr = 0.05;
  const d = await flatDigits(n, 500);
  const steps = epochs * Math.ceil(n / 32);
  type Sched = (o: Optimizer<any>) => Callback[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  const scheds: [string, Sched][] = [
    ['constant', () => []],
    [`step (×0.1 every ${Math.ceil(epochs / 3)} epochs)`, (o) => [new g.train.LrSchedule({ scheduler: new g.optim.LrScheduler(o, (b) => g.optim.stepDecay({ baseLr: b, stepSize: Math.ceil(epochs / 3), gamma: 0.1 })), interval: 'epoch' })]],
    ['cosine', (o) => [new g.train.LrSchedule({ scheduler: new g.optim.LrScheduler(o, (b) => g.optim.cosineAnnealing({ baseLr: b, tMax: epochs })), interval: 'epoch' })]],
    ['one-cycle', (o) => [new g.train.LrSchedule({ scheduler: new g.optim.LrScheduler(o, () => g.optim.oneCycle({ maxLr: lr * 2, totalSteps: steps })), interval: 'step' })]],
  ];
  const specs: ArmSpec[] = scheds.map(([name, make]) => ({
    name, epochs,
    setup: (seed: number) => {
      const model = mlp([128, 128], () => new g.nn.ReLU());
      const optimizer = new g.optim.SGD(model.parameters(), { lr, momentum: 0.9 });
      return { model, optimizer, callbacks: make(optimizer), ...loaders(d.xTrain, d.yTrain, d.xTest, d.yTest, seed) };
    },
  }));
  const arms = await runArms(specs, ctx.seeds, ctx.log);
  return {
    id: 'opt-schedule', claim: 'Decaying the learning rate ends lower than keeping it constant',
    quote: 'Learning rate: If the loss is diverging, decrease the learning rate. If the loss decreases slowly, you should probably increase the learning rate. If the loss has plateaued, decrease the learning rate.',
    source: at('lund', 177),
    setup: `MLP 784 → 128 → 128 ReLU → 10; ${n} training digits, 500 validation; SGD lr ${lr}, momentum 0.9, batch 32, ${epochs} epochs; one-cycle peaks at ${lr * 2}.`,
    arms, columns: [{ key: 'loss', label: 'final train loss' }, { key: 'valLoss', label: 'final val loss' }, { key: 'valAccuracy', label: 'val accuracy' }],
    figure: { metric: 'loss', label: 'train loss', logY: true },
    // Cosine decay's final training loss is below the constant rate's by at least 0.01.
    judgement: compareArms(arms[2].final.loss, arms[0].final.loss, { better: 'lower', minEffect: 0.01 }),
  };
}

export const optimization: Family = {
  name: 'optimization',
  title: 'Optimization',
  async run(ctx) {
    return [...(await optimizerClaims(ctx)), await scheduleClaim(ctx), await lrFinderClaim(ctx), await clippingClaim(ctx)];
  },
};
