/**
 * Babysitting and evaluation, the trained part (cs231n lecture 7, Tsinghua): the update/weight
 * ratio at a good and at bad learning rates; an ensemble of independently trained models vs one
 * of them; calibration (ECE) with and without label smoothing. All through the Trainer.
 */
import * as g from '../../index.js';
import type { Tensor } from '../../tensor/tensor.js';
import { runArm, runArms, type ArmResult, type ArmSetup, type ArmSpec } from './harness.js';
import { at, mlp } from './common.js';
import { flatDigits, loaders, type FlatDigits } from './data.js';
import { allOf, compareArms, compareThreshold } from './verdict.js';
import type { ClaimResult, RunContext } from './types.js';

/** Expected calibration error (15 bins) and accuracy of logits on labelled data. */
function calibration(logits: Tensor, y: Tensor): { ece: number; acc: number } {
  const probs = g.noGrad(() => g.softmax(logits, 1));
  return { ece: g.metrics.expectedCalibrationError(probs, y).ece, acc: g.metrics.accuracy(logits, y) };
}

function evalLogits(model: ArmSetup['model'], x: Tensor): Tensor {
  const was = model.training;
  model.eval();
  const out = g.noGrad(() => model.call(x) as Tensor);
  model.train(was);
  return out;
}

export async function updateRatioClaim(ctx: RunContext): Promise<ClaimResult> {
  const n = ctx.quick ? 500 : 1000;
  const epochs = 2;
  const d = await flatDigits(n, 500);
  const lrs = [1e-4, 0.05, 2];
  const specs: ArmSpec[] = lrs.map((lr) => {
    let flow: g.diagnostics.GradientFlow;
    return {
      name: `SGD lr ${lr}${lr === 0.05 ? ' (good)' : lr < 0.05 ? ' (too low)' : ' (too high)'}`, epochs,
      setup: (seed: number): ArmSetup => {
        const model = mlp([128], () => new g.nn.ReLU());
        flow = new g.diagnostics.GradientFlow({ every: 5, activations: false });
        return { model, optimizer: new g.optim.SGD(model.parameters(), { lr }), callbacks: [flow], ...loaders(d.xTrain, d.yTrain, d.xTest, d.yTest, seed) };
      },
      measure: () => {
        // The first layer's weight matrix (784×128, most of the parameters): median ratio over the measured steps.
        const rs = flow.history.map((r) => r.updateRatio['0.weight']).filter((v) => v !== undefined).sort((a, b) => a - b);
        const ratio = rs[Math.floor(rs.length / 2)];
        const log10 = Math.log10(ratio);
        return { ratio, log10, decadesFrom1e3: Math.abs(log10 + 3) };
      },
    };
  });
  const arms = await runArms(specs, ctx.seeds, ctx.log);
  const [low, good, high] = arms;
  return {
    id: 'babysit-update-ratio', claim: 'The update/weight ratio is near 1e-3 at a good learning rate and far from it at bad ones',
    quote: 'babysitting the learning process, parameter updates, hyperparameter optimization', source: at('cs231n', 13),
    setup: `MLP 784 → 128 ReLU → 10, He init; ${n} training digits; plain SGD, batch 32, ${epochs} epochs at lr 1e-4, 0.05 and 2. The library's \`diagnostics.GradientFlow\` callback measures ‖Δw‖/‖w‖ of the first weight matrix every 5 steps; \`ratio\` is its median over the run, \`decades from 1e-3\` = |log10(ratio) + 3|. (The seed only names the topic; the 1e-3 rule of thumb is cs231n's lecture notes.)`,
    arms, columns: [{ key: 'ratio', label: 'median update/weight ratio' }, { key: 'decadesFrom1e3', label: 'decades from 1e-3' }, { key: 'valAccuracy', label: 'val accuracy' }],
    // Near: within one decade of 1e-3 at the good rate; far: more than one decade away at both bad ones.
    judgement: allOf([
      compareThreshold(good.final.decadesFrom1e3, { below: 1 }),
      compareThreshold(low.final.decadesFrom1e3, { above: 1 }),
      compareThreshold(high.final.decadesFrom1e3, { above: 1 }),
    ]),
  };
}

function plainSpec(name: string, d: FlatDigits, epochs: number, keep?: Map<number, ArmSetup['model']>, loss?: ArmSetup['loss']): ArmSpec {
  return {
    name, epochs,
    setup: (seed: number): ArmSetup => {
      const model = mlp([256], () => new g.nn.ReLU());
      keep?.set(seed, model);
      return { model, optimizer: new g.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }), loss, ...loaders(d.xTrain, d.yTrain, d.xTest, d.yTest, seed) };
    },
    measure: (s) => calibration(evalLogits(s.model, d.xTest), d.yTest),
  };
}

export async function ensembleClaims(ctx: RunContext): Promise<ClaimResult[]> {
  const n = ctx.quick ? 500 : 1000;
  const epochs = ctx.quick ? 5 : 10;
  const members = 3;
  const d = await flatDigits(n, 1000);
  const models = new Map<number, ArmSetup['model']>();
  // Members of seed s's ensemble are trained from seeds s, s + 100, s + 200 (different inits and orders).
  const memberSeeds = ctx.seeds.flatMap((s) => Array.from({ length: members }, (_, j) => s + 100 * j));
  const all = await runArm(plainSpec('member', d, epochs, models), memberSeeds);
  ctx.log(`  ensemble members: ${all.seconds.toFixed(1)} s`);
  const single: ArmResult = { name: 'single model', seeds: [...ctx.seeds], curves: {}, final: { acc: [], ece: [] }, seconds: all.seconds / members };
  const ens: ArmResult = { name: `ensemble of ${members} (mean probabilities)`, seeds: [...ctx.seeds], curves: {}, final: { acc: [], ece: [] }, seconds: all.seconds };
  const tta: ArmResult = { name: 'single model + test-time augmentation (identity, ±1 px shifts)', seeds: [...ctx.seeds], curves: {}, final: { acc: [], ece: [] }, seconds: all.seconds / members };
  // The MLP reads flat rows: each transform shifts the [N, 1, 28, 28] image and flattens it back.
  const m = d.xTest.shape[0];
  const onImage = (t: g.metrics.TtaTransform): g.metrics.TtaTransform => (x) => t(x.reshape([m, 1, 28, 28])).reshape([m, 784]);
  const shifts = [g.metrics.tta.identity, ...[[1, 0], [-1, 0], [0, 1], [0, -1]].map(([dx, dy]) => onImage(g.metrics.tta.shift(dx, dy)))];
  for (const s of ctx.seeds) {
    const c1 = calibration(evalLogits(models.get(s)!, d.xTest), d.yTest);
    const ct = calibration(g.metrics.ttaPredict(models.get(s)!, d.xTest, shifts), d.yTest);
    tta.final.acc.push(ct.acc);
    tta.final.ece.push(ct.ece);
    single.final.acc.push(c1.acc);
    single.final.ece.push(c1.ece);
    const logits = g.metrics.ensemblePredict(Array.from({ length: members }, (_, j) => models.get(s + 100 * j)!), d.xTest);
    const c = calibration(logits, d.yTest);
    ens.final.acc.push(c.acc);
    ens.final.ece.push(c.ece);
  }
  const setup = `MLP 784 → 256 ReLU → 10, He init; ${n} training digits, 1,000 test; SGD lr 0.05, momentum 0.9, batch 32, ${epochs} epochs. For each seed s, the single model is seed s and the ensemble averages the probabilities (\`metrics.ensemblePredict\`) of the models of seeds s, s + 100, s + 200; test-time augmentation averages the single model's probabilities over the image and its four 1-pixel shifts (\`metrics.ttaPredict\`).`;
  const columns = [{ key: 'acc', label: 'test accuracy' }, { key: 'ece', label: 'ECE' }];
  return [
    {
      id: 'babysit-ensemble', claim: 'An ensemble of independently trained models beats a single one',
      quote: 'model ensembles, test-time augmentation', source: at('cs231n', 18),
      setup, arms: [single, ens, tta], columns,
      // The ensemble's test accuracy beats its own first member's by at least half a point.
      judgement: compareArms(ens.final.acc, single.final.acc, { better: 'higher', minEffect: 0.005 }),
    },
    {
      id: 'babysit-tta', claim: 'Test-time augmentation beats the single model it averages',
      quote: 'model ensembles, test-time augmentation', source: at('cs231n', 18),
      setup, arms: [single, tta], columns,
      // TTA's test accuracy beats the plain prediction of the same model by at least half a point.
      judgement: compareArms(tta.final.acc, single.final.acc, { better: 'higher', minEffect: 0.005 }),
    },
  ];
}

export async function calibrationClaim(ctx: RunContext): Promise<ClaimResult> {
  const n = ctx.quick ? 500 : 1000;
  const epochs = ctx.quick ? 8 : 20;
  const d = await flatDigits(n, 1000);
  const arms = await runArms([
    plainSpec('cross-entropy', d, epochs),
    plainSpec('label smoothing 0.1', d, epochs, undefined, (o, t) => g.losses.crossEntropy(o, t, { labelSmoothing: 0.1 })),
  ], ctx.seeds, ctx.log);
  return {
    id: 'babysit-calibration', claim: 'Label smoothing lowers the calibration error (ECE) of an overconfident network',
    quote: '- Inject into output targets, label smoothing', source: at('tsinghua', 109),
    setup: `MLP 784 → 256 ReLU → 10, He init; ${n} training digits (trained ${epochs} epochs, long enough to fit them), 1,000 test; SGD lr 0.05, momentum 0.9, batch 32. \`ECE\`: expected calibration error of the softmax on the test digits, 15 bins (\`metrics.expectedCalibrationError\`).`,
    arms, columns: [{ key: 'ece', label: 'ECE' }, { key: 'acc', label: 'test accuracy' }, { key: 'loss', label: 'final train loss' }],
    figure: { metric: 'valLoss', label: 'validation loss' },
    // ECE falls by at least 0.01 with label smoothing.
    judgement: compareArms(arms[1].final.ece, arms[0].final.ece, { better: 'lower', minEffect: 0.01 }),
  };
}
