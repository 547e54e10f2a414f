/**
 * `gradkit finetune <model-file-or-run-folder> <experiment.json>`: load a trained model, apply
 * the experiment's `transfer` section (freeze early layers, replace the head, per-layer learning
 * rates) and train on the experiment's data, writing a run folder like `gradkit train`
 * (config.json, preprocessing.json, metrics.jsonl, best.ckpt/last.ckpt, summary.json) plus
 * finetune.json (the source and the transfer section). A run fine-tuned from a run folder can be
 * evaluated with `gradkit eval` when its head matches the data's class count.
 *
 * The experiment file is an ordinary experiment plus
 *   "transfer": { "freeze": { "upTo": 2, "unit": "child", "batchNorm": "eval" },
 *                 "replaceHead": { "numClasses": 10 }, "lrDecayPerLayer": 0.5 }
 * Its `model` section is ignored: the model is the loaded one. The source's fitted
 * preprocessing is reused (the loaded weights expect inputs scaled as in pretraining); a source
 * without any falls back to the experiment's own preprocessing, fitted on the new data.
 * Everything is checked before the run folder is created.
 */
import '../index.js'; // registers the tensor methods and the backends (main.ts no longer loads the library)
import { readJsonFile } from './json-file.js';
import { GradkitError } from '../core/errors.js';
import { backendName } from '../backend/registry.js';
import type { PreprocessorJSON } from '../data/index.js';
import { readModelFile } from '../io/model-file.js';
import { build, type Architecture } from '../zoo/architecture.js';
import { fuse } from '../nn/fuse-activations.js';
import { Linear } from '../nn/linear.js';
import type { AnyModule } from '../nn/module.js';
import * as optim from '../optim/index.js';
import * as losses from '../losses/index.js';
import { add } from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { freeze, trainableParameters, type FreezeOptions } from '../transfer/freeze.js';
import { replaceHead } from '../transfer/head.js';
import { layerwiseLrGroups, type LrGroup } from '../transfer/lr-groups.js';
import { assignWeights } from '../io/model-file.js';
import type { Callback } from '../train/callback.js';
import { Checkpoint } from '../train/callbacks/checkpointer.js';
import { EarlyStopping } from '../train/callbacks/early-stopping.js';
import { GradClip } from '../train/callbacks/grad-clip.js';
import { LrSchedule } from '../train/callbacks/schedule.js';
import { MetricsLog } from '../train/callbacks/metrics-log.js';
import { CurvesPlot } from '../diagnostics/curves-callback.js';
import { Progress } from '../train/callbacks/progress.js';
import { decodeCheckpoint } from '../train/checkpoint.js';
import { evaluateAsync } from '../train/evaluate.js';
import { joinPath, type Storage } from '../train/storage.js';
import { claimRunFolder } from './run-folder.js';
import { interruptCallback } from './interrupt.js';
import { Trainer } from '../train/trainer.js';
import { manualSeed } from '../core/rng.js';
import { fitIntoSummary, loadRunWeights, type CommandEnv, type RunSummary } from './commands.js';
import { buildData } from './data-builder.js';
import { checkNesting, resolveExperiment, type Experiment } from './experiment.js';
import { buildModel } from './model-builder.js';
import { int, num, obj, str, validate, type Spec } from './schema.js';

const OP = 'gradkit finetune';

export interface TransferSpec {
  freeze?: { upTo: number | string; unit?: 'child' | 'layer'; batchNorm?: 'eval' | 'train' };
  replaceHead?: { numClasses: number };
  /** Layerwise learning rates: the head gets optimizer.lr, each earlier unit this factor times the next. */
  lrDecayPerLayer?: number;
}

export const transferSpec: Spec = obj({
  freeze: obj({
    upTo: { kind: 'anyOf', options: [{ kind: 'number', integer: true }, str()], describe: 'a whole number of units (negative counts from the end) or a layer name' },
    unit: str(['child', 'layer']),
    batchNorm: str(['eval', 'train']),
  }, ['upTo']),
  replaceHead: obj({ numClasses: int(1) }, ['numClasses']),
  lrDecayPerLayer: num({ min: 0, max: 1, minExclusive: true }),
});

export interface FinetuneOptions {
  /** A model file (loadModel format) or a `gradkit train` run folder. */
  source: string;
  /** Path of the experiment JSON (with a `transfer` section). */
  experiment: string;
  /** Run folder (default runs/<name>-finetune-<timestamp>). */
  out?: string;
}

/** Splits the file into the ordinary experiment and its validated transfer section. */
export function resolveFinetuneExperiment(raw: unknown): { experiment: Experiment; transfer: TransferSpec } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new GradkitError('experiment', `the file must hold a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  checkNesting(raw, 'experiment'); // before the recursive validators, which a 100,000-deep file would overflow
  const { transfer = {}, ...rest } = raw as Record<string, unknown>;
  validate(transfer, transferSpec, 'transfer');
  const experiment = resolveExperiment(rest);
  if (experiment.regularization.emaDecay !== null) throw new GradkitError('experiment', 'regularization.emaDecay is not supported by gradkit finetune; remove it');
  if (experiment.schedule.type !== 'none' && experiment.schedule.type !== 'cosine') {
    throw new GradkitError('experiment', `gradkit finetune supports schedule.type 'none' or 'cosine', got '${experiment.schedule.type}'`);
  }
  return { experiment, transfer: transfer as TransferSpec };
}

interface LoadedSource {
  model: AnyModule;
  fitted: PreprocessorJSON[] | undefined;
  from: string;
  /** The source run's model section (run folders only): lets config.json describe the fine-tuned model. */
  modelSpec?: Experiment['model'];
}

/** A run folder (config.json + best.ckpt or last.ckpt) or a model file. */
async function loadSource(storage: Storage, source: string, inputShape: number[]): Promise<LoadedSource> {
  const config = joinPath(source, 'config.json');
  if (await storage.exists(config)) {
    const src = resolveExperiment(await readJsonFile(storage, config, OP));
    const fitted = (await readJsonFile(storage, joinPath(source, 'preprocessing.json'), OP)) as PreprocessorJSON[];
    let path = joinPath(source, 'best.ckpt');
    if (!(await storage.exists(path))) path = joinPath(source, 'last.ckpt');
    if (!(await storage.exists(path))) throw new GradkitError(OP, `${source} has no checkpoint (best.ckpt or last.ckpt); did its run finish an epoch?`);
    const layers = src.model.layers;
    const last = layers[layers.length - 1];
    if (last.type !== 'linear') throw new GradkitError(OP, `${source}: the source model does not end in a linear layer`);
    // The source model must accept the new data's samples; a mismatch surfaces as a weight-shape error.
    const model = buildModel(layers, inputShape, src.model.init, last.outFeatures);
    loadRunWeights(model, decodeCheckpoint(await storage.read(path), path), path, OP);
    return { model, fitted, from: path, modelSpec: src.model };
  }
  if (!(await storage.exists(source))) throw new GradkitError(OP, `${source} is neither a run folder (with config.json) nor a model file`);
  const bytes = await storage.read(source);
  const file = readModelFile(bytes, { path: source });
  if (file.architecture === undefined) throw new GradkitError(OP, `${source} holds weights only (no architecture in its metadata); gradkit finetune needs a model file saved with an architecture`);
  const model = build(file.architecture as unknown as Architecture);
  assignWeights(model, file, source);
  const p = file.preprocessing;
  const fitted = p === undefined || p === null ? undefined : ((Array.isArray(p) ? p : [p]) as unknown as PreprocessorJSON[]);
  return { model, fitted, from: source };
}

/** Applies replaceHead, freeze and the learning-rate groups; returns the optimizer's parameter groups. */
function applyTransfer(model: AnyModule, t: TransferSpec, lr: number, numClasses: number): { groups: LrGroup[]; frozen: string[] } {
  if (t.replaceHead !== undefined) {
    if (t.replaceHead.numClasses < numClasses) {
      throw new GradkitError(OP, `transfer.replaceHead.numClasses is ${t.replaceHead.numClasses} but the data has ${numClasses} classes (labels up to ${numClasses - 1})`);
    }
    const children = [...model.namedChildren()];
    const [name, head] = children[children.length - 1] ?? ['', null];
    if (!(head instanceof Linear)) throw new GradkitError(OP, `transfer.replaceHead needs a model whose last layer is a Linear; '${name}' is ${head === null ? 'missing' : head.constructor.name}`);
    replaceHead(model, new Linear(head.inFeatures, t.replaceHead.numClasses, { init: 'xavier' }));
  }
  let frozen: string[] = [];
  if (t.freeze !== undefined) {
    const opts: FreezeOptions = { batchNorm: t.freeze.batchNorm ?? 'eval' };
    frozen = freeze(model, { upTo: t.freeze.upTo, unit: t.freeze.unit }, opts).parameters;
  }
  const groups = t.lrDecayPerLayer !== undefined
    ? layerwiseLrGroups(model, { baseLr: lr, decay: t.lrDecayPerLayer, unit: t.freeze?.unit, trainableOnly: true })
    : [{ params: trainableParameters(model), lr }];
  if (groups.every((g) => g.params.length === 0)) throw new GradkitError(OP, 'every parameter is frozen; nothing would train (lower transfer.freeze.upTo)');
  return { groups, frozen };
}

function makeOptimizer(e: Experiment, groups: LrGroup[]): optim.Optimizer<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const o = e.optimizer;
  switch (o.type) {
    case 'sgd': return new optim.SGD(groups, { lr: o.lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay });
    case 'adam': return new optim.Adam(groups, { lr: o.lr, betas: o.betas, weightDecay: o.weightDecay });
    case 'adamw': return new optim.AdamW(groups, { lr: o.lr, betas: o.betas, weightDecay: o.weightDecay });
    case 'rmsprop': return new optim.RMSprop(groups, { lr: o.lr, weightDecay: o.weightDecay });
  }
}

export interface FinetuneSummary extends RunSummary {
  source: string;
  frozenParameters: string[];
}

export async function finetuneCommand(opts: FinetuneOptions, env: CommandEnv): Promise<FinetuneSummary> {
  const held: { release(): void }[] = [];
  try {
    return await finetuneInFolder(opts, env, held);
  } finally {
    for (const c of held) c.release();
  }
}

/** The command; the run folder it claims goes into `held`, for the caller to release. */
async function finetuneInFolder(opts: FinetuneOptions, env: CommandEnv, held: { release(): void }[]): Promise<FinetuneSummary> {
  const { storage, sink } = env;
  const now = env.now ?? Date.now;
  const say = (s: string): void => void sink.write(`${s}\n`);
  // 1. Experiment and transfer section, data, source model, transfer: nothing written yet.
  const { experiment, transfer } = resolveFinetuneExperiment(await readJsonFile(storage, opts.experiment, OP));
  manualSeed(experiment.seed);
  // Data first without preprocessing statistics only to learn the sample shape, then with the source's.
  const probe = await buildData(experiment);
  const src = await loadSource(storage, opts.source, probe.inputShape);
  const data = src.fitted === undefined ? probe : await buildData(experiment, src.fitted);
  const { model } = src;
  const { groups, frozen } = applyTransfer(model, transfer, experiment.optimizer.lr, data.numClasses);
  fuse(model); // Layer → ReLU (→ MaxPool) as one fused layer for speed; same parameters and names
  const optimizer = makeOptimizer(experiment, groups);
  const callbacks: Callback[] = [];
  if (experiment.schedule.type === 'cosine') {
    const s = experiment.schedule;
    const total = Math.max(1, experiment.epochs * data.train.length);
    callbacks.push(new LrSchedule({ scheduler: new optim.LrScheduler(optimizer, (lr) => optim.cosineAnnealing({ baseLr: lr, tMax: total, etaMin: s.minLr })), interval: 'step' }));
  }
  if (experiment.regularization.gradClipNorm !== null) callbacks.push(new GradClip({ maxNorm: experiment.regularization.gradClipNorm }));
  const hasValid = data.valid !== null;
  const monitor = experiment.earlyStopping?.monitor ?? 'valLoss';
  const ckptMonitor = hasValid ? monitor : monitor.replace(/^val(.)/, (_, c: string) => c.toLowerCase());
  if (experiment.earlyStopping) callbacks.push(new EarlyStopping({ ...experiment.earlyStopping, monitor: ckptMonitor }));
  const name = `${experiment.name ?? 'run'}-finetune`;
  // The run folder: created (a fresh unique name by default) and locked against a second writer.
  const claimed = await claimRunFolder(storage, { op: OP, dir: opts.out, name, now, say });
  held.push(claimed);
  const dir = claimed.dir;
  const watch = env.watchInterrupts?.();
  if (watch !== undefined) held.push({ release: () => watch.dispose() });
  const { labelSmoothing, l1, l2 } = experiment.regularization;
  const trainable = trainableParameters(model);
  const loss = (output: Tensor, target: Tensor): Tensor => {
    let l = losses.crossEntropy(output, target, { labelSmoothing });
    if (l1 > 0) l = add(l, losses.l1Penalty(trainable, { coeff: l1 }));
    if (l2 > 0) l = add(l, losses.l2Penalty(trainable, { coeff: l2 }));
    return l;
  };
  const checkpoint = new Checkpoint({ storage, dir, everySteps: experiment.checkpoint.everySteps ?? undefined, monitor: ckptMonitor });
  const trainer = new Trainer({
    loss, model, optimizer, trainData: data.train, validData: data.valid ?? undefined, epochs: experiment.epochs,
    callbacks: [
      ...callbacks, checkpoint, new MetricsLog({ storage, path: joinPath(dir, 'metrics.jsonl') }), new Progress({ sink }), new CurvesPlot({ storage, dir }),
      ...(watch === undefined ? [] : [interruptCallback(watch, `the checkpoints written to ${dir} so far are intact`)]),
    ],
  });
  // 2. The run folder. config.json stays a plain experiment; from a run folder its model section is
  // the source's layers with the new head, so `gradkit eval` can rebuild the fine-tuned model.
  // finetune.json records where the weights came from and what was frozen.
  const modelSpec = src.modelSpec === undefined ? experiment.model : {
    init: src.modelSpec.init,
    layers: src.modelSpec.layers.map((l, i, all) => (i === all.length - 1 && l.type === 'linear' && transfer.replaceHead ? { ...l, outFeatures: transfer.replaceHead.numClasses } : l)),
  };
  await storage.writeAtomic(joinPath(dir, 'config.json'), `${JSON.stringify({ ...experiment, model: modelSpec }, null, 2)}\n`);
  await storage.writeAtomic(joinPath(dir, 'finetune.json'), `${JSON.stringify({ source: src.from, transfer, frozenParameters: frozen }, null, 2)}\n`);
  await storage.writeAtomic(joinPath(dir, 'preprocessing.json'), JSON.stringify(data.preprocessing));
  const c = data.counts;
  say(`gradkit finetune · ${src.from} → ${name} · ${c.train} train / ${c.valid} validation / ${c.test} test · ${frozen.length} frozen parameter tensors · backend ${backendName()}`);
  say(`run folder: ${dir}`);
  const summary: FinetuneSummary = {
    name, status: 'completed', stopReason: null, epochs: 0, steps: 0, seconds: 0, peakMemoryMB: null, backend: backendName(),
    parameters: model.numParameters(), samples: c, best: null, test: null, history: [], source: src.from, frozenParameters: frozen,
  };
  const finish = await fitIntoSummary(trainer, summary, dir, env);
  const bestPath = joinPath(dir, 'best.ckpt');
  if (await storage.exists(bestPath)) {
    model.loadStateDict(decodeCheckpoint(await storage.read(bestPath), bestPath).model);
    summary.best = { monitor: ckptMonitor, value: checkpoint.best, epoch: checkpoint.bestEpoch };
  }
  summary.test = await evaluateAsync(model, data.test);
  await finish();
  say(`test accuracy ${(summary.test.accuracy * 100).toFixed(2)}% · test loss ${summary.test.loss.toFixed(4)} · ${summary.seconds.toFixed(1)}s`);
  return summary;
}
