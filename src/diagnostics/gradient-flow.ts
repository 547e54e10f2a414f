/**
 * Gradient-flow monitor: per-parameter gradient norms and update/weight ratios every N steps,
 * with alerts when the ratio is far from the lectures' ~1e-3 rule of thumb, or when activation
 * layers go dead or saturate.
 */
import { GradkitError } from '../core/errors.js';
import type { Parameter } from '../nn/parameter.js';
import type { Callback } from '../train/callback.js';
import type { Trainer } from '../train/trainer.js';
import { watchActivations } from './activations.js';

/** Options of the GradientFlow callback: how often to measure and the thresholds that raise alerts. */
export interface GradientFlowOptions {
  /** Measure every N optimizer steps (default 1; step 0 is always measured). */
  every?: number;
  /** Update/weight ratios outside [low, high] raise an alert (default [1e-4, 1e-2]). */
  ratioRange?: [number, number];
  /** Watch activation layers too and alert on dead/saturated fractions (default true). */
  activations?: boolean;
  /** Alert when a ReLU-family layer has more than this fraction of dead units (default 0.5). */
  deadThreshold?: number;
  /** Alert when a tanh/sigmoid layer has more than this fraction saturated (default 0.3). */
  saturatedThreshold?: number;
  /** Also print alerts here (e.g. process.stdout); they are always kept in `alerts`. */
  sink?: { write(s: string): unknown };
}

/** One GradientFlow measurement: gradient norms and update/weight ratios per parameter at one step. */
export interface GradientFlowRecord {
  step: number;
  /** L2 norm of each parameter's gradient, by parameter name. */
  gradNorm: Record<string, number>;
  /** ‖Δw‖ / ‖w‖ of the step just taken, by parameter name (‖w‖ before the step). */
  updateRatio: Record<string, number>;
}

/** A problem GradientFlow noticed (bad update ratio, dead or saturated units, vanishing gradient) at one step. */
export interface GradientFlowAlert {
  step: number;
  kind: 'updateRatio' | 'dead' | 'saturated' | 'vanishingGrad';
  name: string;
  value: number;
  message: string;
}

const l2 = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
};

/**
 * ‖w1 − w0‖ / ‖w0‖, the update/weight ratio of one step, or null when ‖w0‖ = 0 (a zero weight,
 * such as a bias at init, has no meaningful ratio; skip it rather than divide by 0).
 */
export function updateRatio(w0: ArrayLike<number>, w1: ArrayLike<number>): number | null {
  let du = 0;
  for (let i = 0; i < w0.length; i++) du += (w1[i] - w0[i]) ** 2;
  const wn = l2(w0);
  return wn === 0 ? null : Math.sqrt(du) / wn;
}

/**
 * Trainer callback. Per measured step it appends to `history`, writes `gradNorm/<param>` and
 * `updateRatio/<param>` into the trainer's logs, and pushes alerts into `alerts`.
 *
 * ```ts
 * const flow = new diagnostics.GradientFlow({ every: 10 });
 * await new train.Trainer({ model, optimizer, trainData, callbacks: [flow] }).fit({ epochs: 1 });
 * for (const a of flow.alerts) console.log(a.message);
 * ```
 */
export class GradientFlow implements Callback {
  readonly name = 'gradientFlow';
  // After gradient clipping (20) would measure clipped grads; we want what backward produced, so before it.
  readonly order = 15;
  readonly history: GradientFlowRecord[] = [];
  readonly alerts: GradientFlowAlert[] = [];
  private readonly every: number;
  private readonly range: [number, number];
  private readonly deadThreshold: number;
  private readonly saturatedThreshold: number;
  private before: Map<Parameter, Float64Array> | null = null;
  private current: GradientFlowRecord | null = null;
  private watch: ReturnType<typeof watchActivations> | null = null;

  /** Per-layer keys, known only once the model has run. */
  logKeys(): null {
    return null;
  }

  constructor(private readonly opts: GradientFlowOptions = {}) {
    const op = 'GradientFlow';
    this.every = opts.every ?? 1;
    if (!(Number.isInteger(this.every) && this.every > 0)) throw new GradkitError(op, `every must be a positive integer, got ${String(opts.every)}`);
    this.range = opts.ratioRange ?? [1e-4, 1e-2];
    if (!(this.range[0] > 0 && this.range[1] > this.range[0])) throw new GradkitError(op, `ratioRange must be [low, high] with 0 < low < high, got [${this.range.join(', ')}]`);
    this.deadThreshold = opts.deadThreshold ?? 0.5;
    this.saturatedThreshold = opts.saturatedThreshold ?? 0.3;
  }

  private measuring(t: Trainer): boolean {
    return t.training && t.step % this.every === 0;
  }

  private alert(a: Omit<GradientFlowAlert, 'message'>, message: string): void {
    const full = { ...a, message: `step ${a.step}: ${message}` };
    this.alerts.push(full);
    this.opts.sink?.write(`${full.message}\n`);
  }

  beforeBatch(t: Trainer): void {
    if (this.measuring(t) && this.opts.activations !== false) this.watch = watchActivations(t.model);
  }

  afterForward(t: Trainer): void {
    if (this.watch === null) return;
    this.watch.remove();
    for (const l of this.watch.records) {
      if (l.dead !== null && l.dead > this.deadThreshold) {
        this.alert({ step: t.step, kind: 'dead', name: l.name, value: l.dead }, `${(l.dead * 100).toFixed(1)}% of the units of layer '${l.name}' (${l.type}) are dead (0 for the whole batch); lower the learning rate or check the init`);
      }
      if (l.saturated !== null && l.saturated > this.saturatedThreshold) {
        this.alert({ step: t.step, kind: 'saturated', name: l.name, value: l.saturated }, `${(l.saturated * 100).toFixed(1)}% of the outputs of layer '${l.name}' (${l.type}) are saturated; the weights are probably too large`);
      }
    }
    this.watch = null;
  }

  afterBackward(t: Trainer): void {
    if (!this.measuring(t)) return;
    const gradNorm: Record<string, number> = {};
    this.before = new Map();
    for (const [name, p] of t.model.namedParameters()) {
      if (p.grad === null || p.grad === undefined) continue;
      gradNorm[name] = l2(p.grad.dataSync());
      this.before.set(p, Float64Array.from(p.dataSync()));
    }
    this.current = { step: t.step, gradNorm, updateRatio: {} };
  }

  afterStep(t: Trainer): void {
    if (this.current === null || this.before === null) return;
    const rec = this.current;
    const names = new Map<Parameter, string>();
    for (const [name, p] of t.model.namedParameters()) names.set(p, name);
    for (const [p, w0] of this.before) {
      const name = names.get(p)!;
      const ratio = updateRatio(w0, p.dataSync());
      if (ratio === null) continue;
      rec.updateRatio[name] = ratio;
      t.logs[`updateRatio/${name}`] = ratio;
      t.logs[`gradNorm/${name}`] = rec.gradNorm[name];
      const [lo, hi] = this.range;
      if (ratio < lo || ratio > hi) {
        this.alert(
          { step: rec.step, kind: 'updateRatio', name, value: ratio },
          `update/weight ratio of '${name}' is ${ratio.toExponential(2)}, outside [${lo}, ${hi}] (~1e-3 is healthy); the learning rate is probably too ${ratio < lo ? 'low' : 'high'}`,
        );
      }
    }
    this.history.push(rec);
    this.before = null;
    this.current = null;
  }

  afterBatch(): void {
    this.watch?.remove();
    this.watch = null;
  }
}
