/**
 * `gradkit train` and `gradkit eval`. A run folder holds:
 *   config.json          the experiment, with every default filled in
 *   preprocessing.json   the preprocessing statistics fitted on the training split
 *   metrics.jsonl        one JSON line per epoch
 *   best.ckpt, last.ckpt checkpoints (best by the monitored validation metric; last to resume)
 *   summary.json         outcome, timings, test loss/accuracy, history
 *   curves.svg/.png      loss, accuracy and learning rate per epoch (rewritten every epoch)
 *   tensorboard/         TensorBoard event files (experiment option "tensorboard": true)
 *   record.jsonl         activation/gradient histograms, update ratios every N steps ("record")
 *   analysis.json        confusion matrix, per-class accuracy; misclassified/*.png ("analysis")
 * Everything that can be wrong with the input is checked before the folder is created.
 */
import '../index.js'; // registers the tensor methods and the backends (main.ts no longer loads the library)
import type { Trainer } from '../train/trainer.js';
import { readJsonFile } from './json-file.js';
import { GradkitError } from '../core/errors.js';
import { backendName } from '../backend/registry.js';
import { canReadSync } from '../tensor/host.js';
import type { PreprocessorJSON } from '../data/index.js';
import type { Sequential } from '../nn/containers.js';
import { Checkpoint } from '../train/callbacks/checkpointer.js';
import { MetricsLog } from '../train/callbacks/metrics-log.js';
import { Progress, type TextSink } from '../train/callbacks/progress.js';
import { checkModelFits, decodeCheckpoint, type CheckpointState } from '../train/checkpoint.js';
import { evaluateAsync, type EvaluateResult } from '../train/evaluate.js';
import { joinPath, type Storage } from '../train/storage.js';
import { CurvesPlot } from '../diagnostics/curves-callback.js';
import { TensorBoard } from '../train/tensorboard/callback.js';
import { TrainingRecorder } from '../diagnostics/recorder.js';
import { analyzeClassifier, inputImageSize, inputPng, writeAnalysis } from '../diagnostics/analysis.js';
import type { Callback } from '../train/callback.js';
import { DEFAULT_EXPERIMENT, resolveExperiment, type Experiment } from './experiment.js';
import { buildRun, makeTrainer } from './run-builder.js';
import { claimRunFolder } from './run-folder.js';
import { interruptCallback, type InterruptWatch } from './interrupt.js';

export interface CommandEnv {
  storage: Storage;
  sink: TextSink;
  /** Peak resident memory so far in bytes, where the host can tell. */
  peakMemory?: () => number | null;
  /** Current time in ms (tests may pin it). */
  now?: () => number;
  /** Catches SIGINT/SIGTERM while training, so a run stops between batches (Node's CLI sets it). */
  watchInterrupts?: () => InterruptWatch;
  /** The machine's name, for TensorBoard's `events.out.tfevents.<time>.<host>` (Node's CLI sets it). */
  hostname?: string;
}

export interface TrainOptions {
  /** Path of an experiment JSON file; omitted: the default digits CNN. */
  experiment?: string;
  /** Run folder (default runs/<name>-<timestamp>). */
  out?: string;
  /** Continue the run in this folder from its last checkpoint. */
  resume?: string;
  /** Override the experiment's epochs. */
  epochs?: number;
  /** Turn TensorBoard logging on (the --tensorboard flag), whatever the experiment says. */
  tensorboard?: boolean;
}

export interface RunSummary {
  name: string;
  status: 'completed' | 'stopped early' | 'failed';
  stopReason: string | null;
  error?: string;
  epochs: number;
  steps: number;
  seconds: number;
  peakMemoryMB: number | null;
  backend: string;
  parameters: number;
  samples: { train: number; valid: number; test: number };
  best: { monitor: string; value: number; epoch: number } | null;
  test: EvaluateResult | null;
  history: Record<string, number>[];
}



/** Puts a checkpoint's weights in the model (the EMA averages when the run kept them). */
export function loadRunWeights(model: Sequential, ckpt: CheckpointState, where: string, op = 'gradkit eval'): void {
  checkModelFits(`${op} (${where})`, model, ckpt.model);
  model.loadStateDict(ckpt.model);
  const ema = ckpt.callbacks.ema as { shadow?: (Float32Array | Float64Array)[] } | undefined;
  if (ema?.shadow) {
    const params = model.parameters();
    if (ema.shadow.length !== params.length) throw new GradkitError(op, `${where}: the EMA state has ${ema.shadow.length} tensors but the model has ${params.length} parameters`);
    params.forEach((p, i) => p.assign(ema.shadow![i]));
  }
}

export async function trainCommand(opts: TrainOptions, env: CommandEnv): Promise<RunSummary> {
  const { storage, sink } = env;
  const now = env.now ?? Date.now;
  const say = (s: string): void => void sink.write(`${s}\n`);
  // 1. The experiment, validated, before anything else.
  let experiment: Experiment;
  let fitted: PreprocessorJSON[] | undefined;
  if (opts.resume !== undefined) {
    if (opts.experiment !== undefined) throw new GradkitError('gradkit train', 'give either an experiment file or --resume <run folder>, not both');
    experiment = resolveExperiment(await readJsonFile(storage, joinPath(opts.resume, 'config.json'), 'gradkit train --resume'));
    fitted = (await readJsonFile(storage, joinPath(opts.resume, 'preprocessing.json'), 'gradkit train --resume')) as PreprocessorJSON[];
  } else if (opts.experiment !== undefined) {
    experiment = resolveExperiment(await readJsonFile(storage, opts.experiment, 'experiment'), opts.experiment);
  } else {
    experiment = structuredClone(DEFAULT_EXPERIMENT);
  }
  if (opts.epochs !== undefined) {
    if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new GradkitError('gradkit train', `--epochs must be a positive whole number, got ${opts.epochs}`);
    experiment.epochs = opts.epochs;
  }
  if (opts.tensorboard === true) experiment.tensorboard = true;
  // 2. Data, model (checked on one sample), optimizer: still nothing written.
  const run = await buildRun(experiment, fitted);
  const name = experiment.name ?? 'run';
  // 3. The run folder: created (or reopened), locked against a second writer, cleaned of dead temp files.
  const claimed = await claimRunFolder(storage, {
    op: 'gradkit train', dir: opts.resume ?? opts.out, resume: opts.resume !== undefined, name, now, say,
    notEmpty: (d) => `the run folder ${d} already exists and is not empty; choose another --out, or continue it with --resume ${d}`,
  });
  const watch = env.watchInterrupts?.();
  try {
    return await trainInFolder(claimed.dir, name, experiment, run, opts, env, watch);
  } finally {
    watch?.dispose();
    claimed.release();
  }
}

async function trainInFolder(
  dir: string, name: string, experiment: Experiment, run: Awaited<ReturnType<typeof buildRun>>, opts: TrainOptions, env: CommandEnv, watch: InterruptWatch | undefined,
): Promise<RunSummary> {
  const { storage, sink } = env;
  const now = env.now ?? Date.now;
  const say = (s: string): void => void sink.write(`${s}\n`);
  const hasValid = run.data.valid !== null;
  const monitor = experiment.earlyStopping?.monitor ?? 'valLoss';
  const ckptMonitor = hasValid ? monitor : monitor.replace(/^val(.)/, (_, c: string) => c.toLowerCase());
  const checkpoint = new Checkpoint({ storage, dir, everySteps: experiment.checkpoint.everySteps ?? undefined, monitor: ckptMonitor });
  const metricsPath = joinPath(dir, 'metrics.jsonl');
  const extra: Callback[] = [checkpoint, new MetricsLog({ storage, path: metricsPath, everySteps: experiment.logEverySteps ?? undefined }), new Progress({ sink }), new CurvesPlot({ storage, dir, name })];
  const tensorboard = experiment.tensorboard ? new TensorBoard({ storage, dir: joinPath(dir, 'tensorboard'), histograms: true, everySteps: experiment.logEverySteps ?? undefined, now, host: env.hostname }) : null;
  if (tensorboard) extra.push(tensorboard);
  if (experiment.record) extra.push(new TrainingRecorder({ storage, path: joinPath(dir, 'record.jsonl'), ...experiment.record }));
  if (watch !== undefined) extra.push(interruptCallback(watch, `${dir} keeps its last checkpoint; continue with gradkit train --resume ${dir}`));
  const trainer = makeTrainer(run, extra);
  if (opts.resume !== undefined) {
    const lastPath = joinPath(dir, 'last.ckpt');
    if (await storage.exists(lastPath)) {
      await trainer.loadCheckpoint(storage, lastPath);
      say(`resuming ${dir} at epoch ${trainer.epoch + 1}, step ${trainer.step}`);
    } else {
      // Killed before its first checkpoint: nothing to continue from, but the folder is valid; start over.
      say(`${dir} has no checkpoint yet (the run stopped before its first one); training it again from the start`);
      if (await storage.exists(metricsPath)) await storage.writeAtomic(metricsPath, '');
    }
  }
  if (opts.resume === undefined) {
    await storage.writeAtomic(joinPath(dir, 'config.json'), `${JSON.stringify(experiment, null, 2)}\n`);
    await storage.writeAtomic(joinPath(dir, 'preprocessing.json'), JSON.stringify(run.data.preprocessing));
  }
  const c = run.data.counts;
  say(`gradkit train · ${name} · ${experiment.data.dataset}: ${c.train} train / ${c.valid} validation / ${c.test} test · ${run.model.numParameters()} parameters · backend ${backendName()}`);
  say(`run folder: ${dir}`);
  const summary: RunSummary = {
    name, status: 'completed', stopReason: null, epochs: 0, steps: 0, seconds: 0, peakMemoryMB: null, backend: backendName(),
    parameters: run.model.numParameters(), samples: c, best: null, test: null, history: [],
  };
  const finish = await fitIntoSummary(trainer, summary, dir, env);
  // 4. Test the weights a later `gradkit eval` will load (the best checkpoint when there is one).
  const bestPath = joinPath(dir, 'best.ckpt');
  let weights = 'the final weights';
  if (ckptMonitor !== null && (await storage.exists(bestPath))) {
    loadRunWeights(run.model, decodeCheckpoint(await storage.read(bestPath), bestPath), bestPath, 'gradkit train');
    summary.best = { monitor: ckptMonitor, value: checkpoint.best, epoch: checkpoint.bestEpoch };
    weights = 'best.ckpt';
  }
  summary.test = await evaluateAsync(run.model, run.data.test);
  if (experiment.analysis && !canReadSync()) {
    say(`analysis skipped: it reads every prediction synchronously, which the ${backendName()} backend cannot; the test numbers below are complete (run the analysis on wasm)`);
  } else if (experiment.analysis) {
    const a = analyzeClassifier(run.model, run.data.test, { numClasses: run.data.numClasses, misclassified: experiment.analysis.misclassified });
    await writeAnalysis(storage, dir, a, { weights, split: 'test' });
    // The same misclassified inputs as TensorBoard images, at the run's last step.
    if (tensorboard) {
      for (const [i, m] of a.misclassified.entries()) {
        const png = inputPng(m.input, m.shape);
        const size = inputImageSize(m.shape);
        if (png && size) tensorboard.writer.addImage(`misclassified/${i}-true${m.label}-pred${m.predicted}`, png, size, trainer.step);
      }
      await tensorboard.writer.flush();
    }
  }
  await finish();
  say(`test accuracy ${(summary.test.accuracy * 100).toFixed(2)}% · test loss ${summary.test.loss.toFixed(4)} · ${summary.seconds.toFixed(1)}s${summary.peakMemoryMB !== null ? ` · peak memory ${summary.peakMemoryMB} MB` : ''}`);
  return summary;
}

/**
 * Runs trainer.fit() and records its outcome in `summary`; returns `finish`, which stamps the
 * time, peak memory and history and writes summary.json atomically. A failed fit writes the
 * summary (status 'failed', the error, how far it got) and rethrows.
 */
export async function fitIntoSummary(trainer: Trainer, summary: RunSummary, dir: string, env: CommandEnv): Promise<() => Promise<void>> {
  const now = env.now ?? Date.now;
  const started = now();
  const finish = async (): Promise<void> => {
    summary.seconds = (now() - started) / 1000;
    const peak = env.peakMemory?.() ?? null;
    summary.peakMemoryMB = peak === null ? null : Math.round(peak / 2 ** 20);
    summary.history = trainer.history;
    await env.storage.writeAtomic(joinPath(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  };
  try {
    const result = await trainer.fit();
    summary.epochs = result.epochs;
    summary.steps = result.steps;
    summary.stopReason = result.stopReason;
    if (result.stopReason !== null) summary.status = 'stopped early';
  } catch (e) {
    summary.status = 'failed';
    summary.error = (e as Error).message;
    summary.epochs = trainer.epoch;
    summary.steps = trainer.step;
    try {
      await finish();
    } catch {
      /* a full or read-only disk fails this write too; the run's own error is the one to report */
    }
    throw e;
  }
  return finish;
}

export interface EvalOptions {
  run: string;
  /** 'best' (default, falls back to last) or 'last'. */
  checkpoint?: 'best' | 'last';
}

export async function evalCommand(opts: EvalOptions, env: CommandEnv): Promise<EvaluateResult & { checkpoint: string }> {
  const { storage, sink } = env;
  const op = 'gradkit eval';
  if (!(await storage.exists(joinPath(opts.run, 'config.json')))) throw new GradkitError(op, `${opts.run} is not a run folder (no config.json)`);
  const experiment = resolveExperiment(await readJsonFile(storage, joinPath(opts.run, 'config.json'), op));
  const fitted = (await readJsonFile(storage, joinPath(opts.run, 'preprocessing.json'), op)) as PreprocessorJSON[];
  const which = opts.checkpoint ?? 'best';
  let path = joinPath(opts.run, `${which}.ckpt`);
  if (which === 'best' && !(await storage.exists(path))) path = joinPath(opts.run, 'last.ckpt');
  if (!(await storage.exists(path))) throw new GradkitError(op, `${opts.run} has no checkpoint (${which}.ckpt or last.ckpt); did the run finish an epoch?`);
  const ckpt = decodeCheckpoint(await storage.read(path), path);
  const run = await buildRun(experiment, fitted);
  loadRunWeights(run.model, ckpt, path);
  const r = await evaluateAsync(run.model, run.data.test);
  sink.write(`${opts.run} (${path.split('/').pop()}): test accuracy ${(r.accuracy * 100).toFixed(2)}% · test loss ${r.loss.toFixed(4)} · ${r.samples} samples\n`);
  return { ...r, checkpoint: path };
}
