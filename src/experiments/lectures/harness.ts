/**
 * Runs one arm of an experiment — a model, its data and optimizer, trained by the public Trainer
 * for some epochs — once per seed, and keeps the per-epoch curves and the final metrics. Every
 * seed re-seeds the global generator first, so a seed's initial weights, dropout masks and
 * loader order are reproducible.
 */
import * as g from '../../index.js';
import type { AnyModule } from '../../nn/module.js';
import type { Optimizer } from '../../optim/optimizer.js';
import type { Batch } from '../../data/collate.js';
import type { Callback } from '../../train/callback.js';
import type { TrainData } from '../../train/trainer.js';
import type { Tensor } from '../../tensor/tensor.js';

export interface ArmSetup {
  model: AnyModule;
  optimizer: Optimizer<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- any optimizer subclass
  trainData: TrainData;
  validData?: Iterable<Batch>;
  callbacks?: Callback[];
  loss?: (output: Tensor, target: Tensor) => Tensor;
}

export interface ArmSpec {
  name: string;
  /** Builds the arm for a seed (called after the global generator is seeded with it). */
  setup: (seed: number) => ArmSetup | Promise<ArmSetup>;
  epochs: number;
  /** Extra numbers measured after training (dead-unit fraction, a gap…), merged into `final`. */
  measure?: (setup: ArmSetup, history: Record<string, number>[]) => Record<string, number> | Promise<Record<string, number>>;
}

/** What one arm produced over its seeds; plain data, so a report can be rendered from JSON. */
export interface ArmResult {
  name: string;
  seeds: number[];
  /** metric → one curve (value per epoch) per seed. */
  curves: Record<string, number[][]>;
  /** metric → its value at the end of training, one per seed (plus what `measure` returned). */
  final: Record<string, number[]>;
  /** Wall time of all seeds, seconds. */
  seconds: number;
}

/**
 * Trains the arm once per seed. A run that produces a non-finite loss keeps going (the NaN guard
 * is left out on purpose): a diverged run is a result, recorded as NaN/Infinity, not an error.
 */
export async function runArm(spec: ArmSpec, seeds: readonly number[]): Promise<ArmResult> {
  const t0 = performance.now();
  const curves: Record<string, number[][]> = {};
  const final: Record<string, number[]> = {};
  const push = (rec: Record<string, number[]>, k: string, v: number): void => void (rec[k] ??= []).push(v);
  for (const seed of seeds) {
    g.manualSeed(seed);
    const setup = await spec.setup(seed);
    const trainer = new g.train.Trainer({
      model: setup.model,
      optimizer: setup.optimizer,
      trainData: setup.trainData,
      validData: setup.validData,
      loss: setup.loss,
      defaultCallbacks: false,
      callbacks: [new g.train.MetricsCallback(), ...(setup.callbacks ?? [])],
    });
    const fit = await trainer.fit({ epochs: spec.epochs });
    const keys = new Set(fit.history.flatMap((h) => Object.keys(h)));
    for (const k of keys) {
      (curves[k] ??= []).push(fit.history.map((h) => h[k] ?? NaN));
      push(final, k, fit.history[fit.history.length - 1]?.[k] ?? NaN);
    }
    if (spec.measure) for (const [k, v] of Object.entries(await spec.measure(setup, fit.history))) push(final, k, v);
  }
  return { name: spec.name, seeds: [...seeds], curves, final, seconds: (performance.now() - t0) / 1000 };
}

/** Runs several arms on the same seeds. */
export async function runArms(specs: readonly ArmSpec[], seeds: readonly number[], log?: (line: string) => void): Promise<ArmResult[]> {
  const out: ArmResult[] = [];
  for (const s of specs) {
    const r = await runArm(s, seeds);
    log?.(`  ${s.name}: ${r.seconds.toFixed(1)} s`);
    out.push(r);
  }
  return out;
}

/** Mean training loss over all epochs of a history (the area under the loss curve; lower is faster). */
export function meanLoss(history: readonly Record<string, number>[]): number {
  return history.reduce((s, h) => s + h.loss, 0) / history.length;
}

/** First epoch (1-based) whose value reaches `target` (≥ for higher-is-better), or epochs + 1 when never. */
export function epochsToReach(curve: readonly number[], target: number, better: 'higher' | 'lower' = 'higher'): number {
  const i = curve.findIndex((v) => (better === 'higher' ? v >= target : v <= target));
  return i < 0 ? curve.length + 1 : i + 1;
}
