/**
 * Regularization (Lund lecture 9, cs231n, Tsinghua): on a small training subset a wide MLP
 * memorises; each regularizer should shrink the train/validation gap. Early stopping's best
 * epoch should beat the last.
 */
import * as g from '../../index.js';
import { loadDigits } from '../../data/datasets/digits.js';
import type { AnyModule } from '../../nn/module.js';
import type { Tensor } from '../../tensor/tensor.js';
import { runArms, type ArmSetup, type ArmSpec } from './harness.js';
import { at } from './common.js';
import { loaders } from './data.js';
import { allOf, compareArms } from './verdict.js';
import type { ClaimResult, Family, RunContext } from './types.js';

interface Variant {
  name: string;
  /** Layers between the input and the output layer (the hidden width is 256). */
  body?: () => AnyModule[];
  weightDecay?: number;
  loss?: (out: Tensor, target: Tensor) => Tensor;
  mixup?: boolean;
  /** Coefficient of an L1 penalty on the weight matrices, added to the loss. */
  l1?: number;
  /** Random rotation (±10°) and shift (±2 px) of each training image. */
  augment?: boolean;
}

const plain = (): AnyModule[] => [new g.nn.Linear(784, 256), new g.nn.ReLU()];

const VARIANTS: Variant[] = [
  { name: 'none' },
  { name: 'L2 (weight decay 1e-2)', weightDecay: 1e-2 },
  { name: 'L1 (1e-4 · Σ|w|)', l1: 1e-4 },
  { name: 'dropout 0.5', body: () => [...plain(), new g.nn.Dropout({ p: 0.5 })] },
  { name: 'DropConnect 0.5', body: () => [new g.nn.DropConnect(new g.nn.Linear(784, 256), { p: 0.5 }), new g.nn.ReLU()] },
  { name: 'input noise (std 0.3)', body: () => [new g.nn.GaussianNoise({ std: 0.3 }), ...plain()] },
  { name: 'label smoothing 0.1', loss: (o, t) => g.losses.crossEntropy(o, t, { labelSmoothing: 0.1 }) },
  { name: 'mixup (α = 0.2)', mixup: true },
  { name: 'augmentation (±10°, ±2 px)', augment: true },
];

async function regularizationClaims(ctx: RunContext): Promise<ClaimResult[]> {
  const n = 200;
  const epochs = ctx.quick ? 10 : 30;
  const lr = 0.05;
  // Images [n, 1, 28, 28] (the augmentation works on images); every model starts with a Flatten.
  const d = await loadDigits({ trainSize: n, testSize: 1000, seed: 0 });
  // The training set in eval mode (no dropout/noise), to measure what the model has memorised.
  const trainEval = new g.data.DataLoader(new g.data.TensorDataset(d.xTrain, d.yTrain), { batchSize: 500 });
  // DropConnect (a per-sample weight mask) is the slowest arm by far: full runs only.
  const variants = ctx.quick ? VARIANTS.filter((v) => !v.name.startsWith('DropConnect')) : VARIANTS;
  const specs: ArmSpec[] = variants.map((v) => ({
    name: v.name, epochs,
    setup: (seed: number): ArmSetup => {
      const model = new g.nn.Sequential(new g.nn.Flatten(), ...(v.body ?? plain)(), new g.nn.Linear(256, 10, { init: 'xavier' }));
      const l = loaders(d.xTrain, d.yTrain, d.xTest, d.yTest, seed);
      const trainData = v.mixup
        ? new g.data.DataLoader(new g.data.TensorDataset(d.xTrain, d.yTrain), { batchSize: 32, shuffle: true, seed, batchTransform: g.data.mixupTransform({ alpha: 0.2, numClasses: 10 }) })
        : v.augment
          ? new g.data.DataLoader(new g.data.TensorDataset(d.xTrain, d.yTrain), { batchSize: 32, shuffle: true, seed, augment: g.data.randomAffine({ degrees: 10, maxShift: 2 }) })
          : l.trainData;
      const l1 = v.l1;
      // The L1 term covers the weight matrices (rank 2), not the biases, as weight decay usually does.
      const loss = l1 === undefined ? v.loss : (o: Tensor, t: Tensor): Tensor => g.add(g.losses.crossEntropy(o, t), g.losses.l1Penalty(model.parameters().filter((p) => p.shape.length === 2), { coeff: l1 }));
      return { model, optimizer: new g.optim.SGD(model.parameters(), { lr, momentum: 0.9, weightDecay: v.weightDecay ?? 0 }), trainData, validData: l.validData, loss };
    },
    measure: (s, history) => {
      const te = g.train.evaluate(s.model, trainEval);
      const trainAcc = te.accuracy;
      const val = history.map((h) => h.valLoss);
      const best = val.indexOf(Math.min(...val));
      return { trainAcc, gap: trainAcc - history[history.length - 1].valAccuracy, lossGap: history[history.length - 1].valLoss - te.loss, bestEpoch: best + 1, minValLoss: val[best] };
    },
  }));
  const arms = await runArms(specs, ctx.seeds, ctx.log);
  const by = (name: string) => arms.find((a) => a.name.startsWith(name))!;
  const setup = `${n} training digits (a small subset, to overfit), 1,000 validation; MLP 784 → 256 ReLU → 10; SGD lr ${lr}, momentum 0.9, batch 32, ${epochs} epochs. \`train acc\` is measured after training in eval mode (no dropout/noise); \`gap\` = train acc − val acc.`;
  return [
    {
      id: 'reg-gap', claim: 'Regularization shrinks the train/validation gap',
      quote: 'Regularization: Is there a big gap between training and validation accuracy? Increase regularization.', source: at('lund', 179),
      setup, arms,
      columns: [{ key: 'trainAcc', label: 'train acc' }, { key: 'valAccuracy', label: 'val acc' }, { key: 'gap', label: 'accuracy gap' }, { key: 'valLoss', label: 'final val loss' }, { key: 'lossGap', label: 'loss gap (val − train)' }],
      figure: { metric: 'valLoss', label: 'validation loss' },
      // The lecture's two classic regularizers (L2 and dropout, p = 0.5) each shrink the gap by at least one point.
      judgement: allOf([
        compareArms(by('L2').final.gap, by('none').final.gap, { better: 'lower', minEffect: 0.01 }),
        compareArms(by('dropout').final.gap, by('none').final.gap, { better: 'lower', minEffect: 0.01 }),
      ]),
    },
    {
      id: 'reg-early-stopping', claim: 'Early stopping: the epoch of minimum validation loss beats the last epoch',
      quote: 'Terminate the training when the validation error does not drop for a certain iterations', source: at('tsinghua', 534),
      setup: `${setup} Unregularized arm: \`min val loss\` is the lowest validation loss over the epochs (what early stopping keeps), at \`best epoch\`.`,
      arms: [by('none')],
      columns: [{ key: 'bestEpoch', label: 'best epoch' }, { key: 'minValLoss', label: 'min val loss' }, { key: 'valLoss', label: 'last-epoch val loss' }],
      figure: { metric: 'valLoss', label: 'validation loss' },
      // Stopping at the best epoch must save at least 0.02 nats of validation loss over training to the end.
      judgement: compareArms(by('none').final.minValLoss, by('none').final.valLoss, { better: 'lower', minEffect: 0.02 }),
    },
    {
      id: 'reg-augmentation', claim: 'Data augmentation shrinks the train/validation gap and raises validation accuracy',
      quote: 'We can sometimes create new data by augmenting what data we have.', source: at('lund', 166),
      setup: `${setup} The augmented arm rotates (±10°) and shifts (±2 px) every training image at random each time it is drawn (\`data.randomAffine\` as the loader's \`augment\`).`,
      arms: [by('augmentation'), by('none')],
      columns: [{ key: 'trainAcc', label: 'train acc' }, { key: 'valAccuracy', label: 'val acc' }, { key: 'gap', label: 'accuracy gap' }],
      figure: { metric: 'valAccuracy', label: 'validation accuracy' },
      // Both: the gap shrinks by at least one point and validation accuracy rises by at least one point.
      judgement: allOf([
        compareArms(by('augmentation').final.gap, by('none').final.gap, { better: 'lower', minEffect: 0.01 }),
        compareArms(by('augmentation').final.valAccuracy, by('none').final.valAccuracy, { better: 'higher', minEffect: 0.01 }),
      ]),
    },
  ];
}

export const regularization: Family = {
  name: 'regularization',
  title: 'Regularization',
  run: regularizationClaims,
};
