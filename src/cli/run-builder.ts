/**
 * Turns a validated experiment into a ready Trainer: data, model (checked by a forward pass on
 * one sample), optimizer, schedule and callbacks. Nothing is written to disk here, so every
 * mistake in the file surfaces before a run folder exists.
 */
import '../index.js'; // registers the tensor methods and the backends (main.ts no longer loads the library)
import { totalmem } from 'node:os';
import { noGrad } from '../autograd/engine.js';
import { GradkitError } from '../core/errors.js';
import { manualSeed } from '../core/rng.js';
import type { PreprocessorJSON } from '../data/index.js';
import type { Sequential } from '../nn/containers.js';
import { fuse } from '../nn/fuse-activations.js';
import * as optim from '../optim/index.js';
import * as losses from '../losses/index.js';
import { add } from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { toBackend } from '../tensor/host.js';
import { backendName } from '../backend/registry.js';
import type { Callback } from '../train/callback.js';
import { EarlyStopping } from '../train/callbacks/early-stopping.js';
import { EmaWeights } from '../train/callbacks/ema.js';
import { GradClip } from '../train/callbacks/grad-clip.js';
import { LrSchedule, PlateauSchedule } from '../train/callbacks/schedule.js';
import { Trainer } from '../train/trainer.js';
import { buildData, type ExperimentData } from './data-builder.js';
import type { Experiment } from './experiment.js';
import { buildModel } from './model-builder.js';

export interface BuiltRun {
  experiment: Experiment;
  data: ExperimentData;
  model: Sequential;
  optimizer: optim.Optimizer<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Callbacks that depend on the experiment (the CLI adds checkpoint, log and progress). */
  callbacks: Callback[];
}

function makeOptimizer(e: Experiment, model: Sequential): optim.Optimizer<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const o = e.optimizer;
  const params = model.parameters();
  switch (o.type) {
    case 'sgd':
      return new optim.SGD(params, { lr: o.lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay });
    case 'adam':
      return new optim.Adam(params, { lr: o.lr, betas: o.betas, weightDecay: o.weightDecay });
    case 'adamw':
      return new optim.AdamW(params, { lr: o.lr, betas: o.betas, weightDecay: o.weightDecay });
    case 'rmsprop':
      return new optim.RMSprop(params, { lr: o.lr, weightDecay: o.weightDecay });
  }
}

/** Schedules run per optimizer step; warmup and cosine lengths are given in epochs. */
function makeSchedule(e: Experiment, optimizer: optim.Optimizer<any>, stepsPerEpoch: number): Callback | null { // eslint-disable-line @typescript-eslint/no-explicit-any
  const s = e.schedule;
  if (s.type === 'none') return null;
  if (s.type === 'plateau') {
    return new PlateauSchedule({ scheduler: new optim.ReduceLrOnPlateau(optimizer, { factor: s.gamma, patience: s.patience, minLr: s.minLr }), monitor: e.data.validationFraction > 0 ? 'valLoss' : 'loss' });
  }
  const total = e.epochs * stepsPerEpoch;
  const warmup = Math.round(s.warmupEpochs * stepsPerEpoch);
  const main = (lr: number): optim.Schedule => {
    switch (s.type) {
      case 'cosine':
        return optim.cosineAnnealing({ baseLr: lr, tMax: Math.max(1, total - warmup), etaMin: s.minLr });
      case 'step':
        return optim.stepDecay({ baseLr: lr, stepSize: s.stepEpochs * stepsPerEpoch, gamma: s.gamma });
      case 'exponential':
        return optim.exponentialDecay({ baseLr: lr, gamma: s.gamma ** (1 / stepsPerEpoch) });
      case 'oneCycle':
        return optim.oneCycle({ maxLr: lr, totalSteps: total });
      default:
        throw new GradkitError('experiment', `schedule.type '${s.type}' has no per-step schedule`);
    }
  };
  const factory: optim.ScheduleFactory = (lr) => (warmup > 0 && s.type !== 'oneCycle' ? optim.linearWarmup({ baseLr: lr, warmupSteps: warmup, then: main(lr) }) : main(lr));
  return new LrSchedule({ scheduler: new optim.LrScheduler(optimizer, factory), interval: 'step' });
}

/** Builds everything a run needs; with `fitted`, preprocessing uses saved statistics. */
export async function buildRun(e: Experiment, fitted?: PreprocessorJSON[]): Promise<BuiltRun> {
  manualSeed(e.seed);
  const data = await buildData(e, fitted);
  const model = buildModel(e.model.layers, data.inputShape, e.model.init, data.numClasses, Math.max(e.data.batchSize, e.data.evalBatchSize), totalmem());
  // A forward pass on one sample catches anything the dry shape inference could not.
  // The data set may live on a CPU backend while the model is on a GPU (see buildData).
  const [x] = data.test.dataset.getBatch!([0]).map((t) => toBackend(t as Tensor, backendName()));
  try {
    model.eval();
    const out = noGrad(() => model.call(x as Tensor));
    if (out.shape.length !== 2 || out.shape[1] !== data.numClasses) throw new GradkitError('experiment', `the model produced ${JSON.stringify(out.shape)} for one sample; expected [1, ${data.numClasses}]`);
  } catch (err) {
    if (err instanceof GradkitError && err.op !== 'experiment') throw new GradkitError('experiment', `the model fails on one sample of the data: ${err.message}`);
    throw err;
  } finally {
    model.train();
  }
  // Layer → ReLU (→ MaxPool) as one fused layer for training speed; after the check above, so
  // its errors name the layers as written. Names and state-dict keys are unchanged.
  fuse(model);
  const optimizer = makeOptimizer(e, model);
  const callbacks: Callback[] = [];
  const sched = makeSchedule(e, optimizer, data.train.length);
  if (sched) callbacks.push(sched);
  if (e.regularization.gradClipNorm !== null) callbacks.push(new GradClip({ maxNorm: e.regularization.gradClipNorm }));
  if (e.regularization.emaDecay !== null) callbacks.push(new EmaWeights(model.parameters(), { decay: e.regularization.emaDecay }));
  if (e.earlyStopping) {
    const monitor = e.data.validationFraction > 0 ? e.earlyStopping.monitor : e.earlyStopping.monitor.replace(/^val(.)/, (_, c: string) => c.toLowerCase());
    callbacks.push(new EarlyStopping({ ...e.earlyStopping, monitor }));
  }
  return { experiment: e, data, model, optimizer, callbacks };
}

/** Cross-entropy (with label smoothing) plus the L1/L2 penalties the experiment asks for. */
function makeLoss(e: Experiment, model: Sequential): (output: Tensor, target: Tensor) => Tensor {
  const { labelSmoothing, l1, l2 } = e.regularization;
  const params = model.parameters();
  return (output, target) => {
    let loss = losses.crossEntropy(output, target, { labelSmoothing });
    if (l1 > 0) loss = add(loss, losses.l1Penalty(params, { coeff: l1 }));
    if (l2 > 0) loss = add(loss, losses.l2Penalty(params, { coeff: l2 }));
    return loss;
  };
}

export function makeTrainer(run: BuiltRun, extra: Callback[]): Trainer {
  return new Trainer({
    loss: makeLoss(run.experiment, run.model),
    model: run.model,
    optimizer: run.optimizer,
    trainData: run.data.train,
    validData: run.data.valid ?? undefined,
    epochs: run.experiment.epochs,
    callbacks: [...run.callbacks, ...extra],
  });
}
