/**
 * Data preprocessing (cs231n lecture 7): raw all-positive pixels vs zero-centred vs standardised
 * vs PCA-whitened inputs, same network and optimizer, fitted on the training data only.
 */
import * as g from '../../index.js';
import type { Tensor } from '../../tensor/tensor.js';
import { meanLoss, runArms, type ArmSpec } from './harness.js';
import { at, mlp } from './common.js';
import { smallDigits, loaders } from './data.js';
import { compareArms } from './verdict.js';
import type { ClaimResult, Family, RunContext } from './types.js';

interface Prep {
  fit(x: Tensor): unknown;
  transform(x: Tensor): Tensor;
}

async function preprocessingClaims(ctx: RunContext): Promise<ClaimResult[]> {
  const n = ctx.quick ? 600 : 2000;
  const epochs = ctx.quick ? 4 : 10;
  const lr = 0.1;
  const d = await smallDigits(n, 500);
  const variants: [string, () => Prep | null][] = [
    ['raw [0, 1]', () => null],
    ['zero-centred', () => new g.data.MeanSubtraction()],
    ['standardised', () => new g.data.Standardize({ eps: 1e-2 })],
    ['PCA-whitened (99% var.)', () => new g.data.Whitening({ varianceKept: 0.99, method: 'pca', eps: 1e-2 })],
  ];
  const specs: ArmSpec[] = variants.map(([name, make]) => {
    // Fitted once per arm on the training inputs (the statistics do not depend on the seed).
    const prep = make();
    if (prep) prep.fit(d.xTrain);
    const xTrain = prep ? prep.transform(d.xTrain) : d.xTrain;
    const xTest = prep ? prep.transform(d.xTest) : d.xTest;
    return {
      name, epochs,
      setup: (seed: number) => {
        const model = mlp([64], () => new g.nn.ReLU(), { inputs: xTrain.shape[1] });
        return { model, optimizer: new g.optim.SGD(model.parameters(), { lr }), ...loaders(xTrain, d.yTrain, xTest, d.yTest, seed) };
      },
      measure: (_s, history) => ({ meanLoss: meanLoss(history) }),
    };
  });
  const arms = await runArms(specs, ctx.seeds, ctx.log);
  const [raw, centred, standardised] = arms;
  const setup = `Digits average-pooled to 14×14 (196 features, so the whitening's eigendecomposition is fast), ${n} training / 500 validation; preprocessing fitted on the training inputs; MLP 196 → 64 ReLU → 10, plain SGD lr ${lr}, batch 32, ${epochs} epochs. \`mean train loss\`: training loss averaged over the epochs (lower is faster).`;
  const columns = [{ key: 'meanLoss', label: 'mean train loss over epochs' }, { key: 'loss', label: 'final train loss' }, { key: 'valAccuracy', label: 'val accuracy' }];
  const figure = { metric: 'loss', label: 'train loss' };
  return [{
    id: 'prep-centring', claim: 'Zero-centred inputs train faster than raw all-positive pixels',
    quote: 'Remember: Consider what happens when the input to a neuron is always positive… What can we say about the gradients on w? Always all positive or all negative :( (this is also why you want zero-mean data!)',
    source: `${at('cs231n', 332)}–342`, setup, arms, columns, figure,
    // Faster: the centred arm's mean training loss is lower than the raw arm's by at least 0.02.
    judgement: compareArms(centred.final.meanLoss, raw.final.meanLoss, { better: 'lower', minEffect: 0.02 }),
  }, {
    id: 'prep-standardise', claim: 'Standardised inputs are easier to optimize than raw pixels',
    quote: 'Before normalization: classification loss very sensitive to changes in weight matrix; hard to optimize … After normalization: less sensitive to small changes in weights; easier to optimize',
    source: `${at('cs231n', 363)}, ${at('cs231n', 367)}`, setup, arms, columns, figure,
    // Easier to optimize: the standardised arm's mean training loss is lower than raw's by at least 0.02.
    judgement: compareArms(standardised.final.meanLoss, raw.final.meanLoss, { better: 'lower', minEffect: 0.02 }),
  }];
}

export const preprocessing: Family = {
  name: 'preprocessing',
  title: 'Data preprocessing',
  async run(ctx) {
    return preprocessingClaims(ctx);
  },
};
