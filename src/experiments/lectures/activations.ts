/**
 * Activation functions (cs231n lecture 7): the same MLP with each nonlinearity, epochs to a
 * target accuracy; and dead ReLUs after a too-large learning rate.
 */
import * as g from '../../index.js';
import type { AnyModule } from '../../nn/module.js';
import type { InitScheme, Nonlinearity } from '../../nn/init.js';
import { epochsToReach, meanLoss, runArms, type ArmSpec } from './harness.js';
import { at, deadReluFraction, mlp } from './common.js';
import { flatDigits, loaders } from './data.js';
import { allOf, compareArms } from './verdict.js';
import type { ClaimResult, Family, RunContext } from './types.js';

// Speed of convergence: the mean training loss over all epochs (the area under the loss curve,
// lower is faster; never censored) and the epoch at which validation accuracy reaches a target.
function measureSpeed(history: Record<string, number>[], target: number): Record<string, number> {
  return {
    meanLoss: meanLoss(history),
    epochsToTarget: epochsToReach(history.map((h) => h.valAccuracy), target),
  };
}

async function convergenceClaim(ctx: RunContext): Promise<ClaimResult> {
  const n = ctx.quick ? 600 : 2000;
  const epochs = ctx.quick ? 4 : 10;
  const hidden = [64, 64, 64];
  const lr = 0.05;
  const target = 0.8;
  const d = await flatDigits(n, 500);
  const acts: [string, () => AnyModule, InitScheme, Nonlinearity][] = [
    ['sigmoid', () => new g.nn.Sigmoid(), 'xavier', 'sigmoid'],
    ['tanh', () => new g.nn.Tanh(), 'xavier', 'tanh'],
    ['ReLU', () => new g.nn.ReLU(), 'he', 'relu'],
    ['Leaky ReLU', () => new g.nn.LeakyReLU(), 'he', 'leakyRelu'],
    ['ELU', () => new g.nn.ELU(), 'he', 'relu'],
    ['SELU', () => new g.nn.SELU(), 'lecun', 'selu'],
    ['Swish', () => new g.nn.Swish(), 'he', 'silu'],
    ['GELU', () => new g.nn.GELU(), 'he', 'gelu'],
  ];
  const specs: ArmSpec[] = acts.map(([name, act, init, nonlinearity]) => ({
    name, epochs,
    setup: (seed: number) => {
      const model = mlp(hidden, act, { init, nonlinearity });
      return { model, optimizer: new g.optim.SGD(model.parameters(), { lr }), ...loaders(d.xTrain, d.yTrain, d.xTest, d.yTest, seed) };
    },
    measure: (_s, history) => measureSpeed(history, target),
  }));
  specs.push({
    name: 'Maxout (k=2)', epochs,
    setup: (seed: number) => {
      const layers: AnyModule[] = [];
      let prev = 784;
      for (const h of hidden) {
        layers.push(new g.nn.Maxout(prev, h, { k: 2 }));
        prev = h;
      }
      const model = new g.nn.Sequential(...layers, new g.nn.Linear(prev, 10, { init: 'xavier' }));
      return { model, optimizer: new g.optim.SGD(model.parameters(), { lr }), ...loaders(d.xTrain, d.yTrain, d.xTest, d.yTest, seed) };
    },
    measure: (_s, history) => measureSpeed(history, target),
  });
  const arms = await runArms(specs, ctx.seeds, ctx.log);
  const by = (name: string) => arms.find((a) => a.name === name)!;
  return {
    id: 'act-convergence', claim: 'ReLU converges much faster than sigmoid and tanh',
    quote: '- Converges much faster than sigmoid/tanh in practice (e.g. 6x)', source: at('cs231n', 215),
    setup: `MLP 784 → ${hidden.join(' → ')} → 10 with each activation (Xavier init for sigmoid/tanh, LeCun for SELU, He otherwise); ${n} training digits, 500 validation; plain SGD lr ${lr}, batch 32, ${epochs} epochs. \`epochs to ${target * 100}%\`: first epoch whose validation accuracy reaches ${target} (${epochs + 1} = never).`,
    arms, columns: [{ key: 'meanLoss', label: 'mean train loss over epochs' }, { key: 'epochsToTarget', label: `epochs to ${target * 100}% val` }, { key: 'loss', label: 'final train loss' }, { key: 'valAccuracy', label: 'final val accuracy' }],
    figure: { metric: 'loss', label: 'train loss' },
    // "Much faster": ReLU's mean training loss over the run (area under its loss curve) is lower
    // than both sigmoid's and tanh's by at least 0.05 nats.
    judgement: allOf([
      compareArms(by('ReLU').final.meanLoss, by('sigmoid').final.meanLoss, { better: 'lower', minEffect: 0.05 }),
      compareArms(by('ReLU').final.meanLoss, by('tanh').final.meanLoss, { better: 'lower', minEffect: 0.05 }),
    ]),
  };
}

async function deadReluClaim(ctx: RunContext): Promise<ClaimResult> {
  const n = ctx.quick ? 600 : 2000;
  const epochs = ctx.quick ? 3 : 6;
  const hidden = [128, 128];
  const d = await flatDigits(n, 500);
  const spec = (lr: number): ArmSpec => ({
    name: `SGD lr ${lr}`, epochs,
    setup: (seed: number) => {
      const model = mlp(hidden, () => new g.nn.ReLU());
      return { model, optimizer: new g.optim.SGD(model.parameters(), { lr, momentum: 0.9 }), ...loaders(d.xTrain, d.yTrain, d.xTest, d.yTest, seed) };
    },
    measure: (s) => ({ dead: deadReluFraction(s.model as g.nn.Sequential, d.xTest) }),
  });
  const arms = await runArms([spec(0.01), spec(0.3)], ctx.seeds, ctx.log);
  return {
    id: 'act-dead-relu', claim: 'A too-large learning rate kills ReLU units',
    quote: '- Use **ReLU**. Be careful with your learning rates', source: at('cs231n', 317),
    setup: `MLP 784 → ${hidden.join(' → ')} ReLU → 10 (He init); ${n} training digits; SGD with momentum 0.9 at lr 0.01 and at lr 0.3, batch 32, ${epochs} epochs. \`dead\`: fraction of hidden units that output 0 on all 500 validation digits after training.`,
    arms, columns: [{ key: 'dead', label: 'dead ReLU fraction' }, { key: 'loss', label: 'final train loss' }, { key: 'valAccuracy', label: 'val accuracy' }],
    figure: { metric: 'loss', label: 'train loss', logY: true },
    // At least 5 more percentage points of dead units at the large rate.
    judgement: compareArms(arms[1].final.dead, arms[0].final.dead, { better: 'higher', minEffect: 0.05 }),
  };
}

export const activations: Family = {
  name: 'activations',
  title: 'Activation functions',
  async run(ctx) {
    return [await convergenceClaim(ctx), await deadReluClaim(ctx)];
  },
};
