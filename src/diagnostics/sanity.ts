/**
 * Sanity checks before a long run (the lectures' checklist): the loss at initialization should be
 * about log(C) for C balanced classes, and the model must be able to overfit a handful of samples.
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import { noGrad } from '../autograd/engine.js';
import type { AnyModule } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Tensor } from '../tensor/tensor.js';
import { defaultClassificationLoss } from '../train/loss.js';
import { accuracy } from '../metrics/classification.js';
import { slice } from '../ops/shape.js';

/** The initial-loss check: the loss expected from an untrained classifier, the one measured, and a verdict. */
export interface InitialLossResult {
  /** log(C). */
  expected: number;
  actual: number;
  ok: boolean;
  message: string;
}

/**
 * Evaluates the (untrained) model once and compares the mean cross-entropy with log(C), C the
 * number of logits. `tolerance` is relative (default 0.25: a random init is not exactly uniform).
 */
export function checkInitialLoss(model: AnyModule, x: Tensor, y: Tensor, opts: { loss?: (o: Tensor, t: Tensor) => Tensor; tolerance?: number } = {}): InitialLossResult {
  const op = 'diagnostics.checkInitialLoss';
  const tol = opts.tolerance ?? 0.25;
  if (!(tol > 0)) throw new GradkitError(op, `tolerance must be > 0, got ${tol}`);
  const out = noGrad(() => model.call(x) as Tensor);
  if (!(out instanceof Tensor) || out.rank !== 2 || out.shape[1] < 2) throw new GradkitError(op, `expected logits [N, C] with C >= 2, got ${out instanceof Tensor ? fmtShape(out.shape) : typeof out}`);
  const c = out.shape[1];
  const expected = Math.log(c);
  const actual = noGrad(() => (opts.loss ?? defaultClassificationLoss)(out, y).item());
  const ok = Number.isFinite(actual) && Math.abs(actual - expected) <= tol * expected;
  const message = ok
    ? `initial loss ${actual.toFixed(4)} ≈ log(${c}) = ${expected.toFixed(4)}`
    : `initial loss ${actual.toFixed(4)} is far from log(${c}) = ${expected.toFixed(4)} (tolerance ${tol * 100}%); the last layer's weights or biases are probably too large`;
  return { expected, actual, ok, message };
}

/** Options of the overfit check: the model, optimizer and data, how many samples, the step budget and target accuracy. */
export interface OverfitOptions {
  model: AnyModule;
  optimizer: Optimizer<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- any optimizer subclass
  x: Tensor;
  /** Integer labels [N]. */
  y: Tensor;
  /** Samples to overfit: the first k (default 20). */
  k?: number;
  /** Full-batch steps at most (default 300). */
  maxSteps?: number;
  /** Training accuracy that counts as overfitted (default 1). */
  targetAccuracy?: number;
  loss?: (o: Tensor, t: Tensor) => Tensor;
}

/** The overfit check's outcome: whether the small subset was fitted, its accuracy and loss, and steps taken. */
export interface OverfitResult {
  ok: boolean;
  accuracy: number;
  loss: number;
  steps: number;
  k: number;
}

/**
 * Trains on the first k samples (full batch) until the training accuracy reaches the target or
 * maxSteps pass. It trains the given model in place: run it on a fresh model, not the one you
 * mean to train.
 */
export function overfitSubset(opts: OverfitOptions): OverfitResult {
  const op = 'diagnostics.overfitSubset';
  const { model, optimizer, x, y } = opts;
  const k = opts.k ?? 20;
  if (!(Number.isInteger(k) && k > 0 && k <= x.shape[0])) throw new GradkitError(op, `k must be an integer in 1..${x.shape[0]} (samples in x ${fmtShape(x.shape)}), got ${k}`);
  if (y.rank !== 1 || y.shape[0] !== x.shape[0]) throw new GradkitError(op, `y must have shape [${x.shape[0]}] (one label per sample of x), got ${fmtShape(y.shape)}`);
  const maxSteps = opts.maxSteps ?? 300;
  const target = opts.targetAccuracy ?? 1;
  const lossFn = opts.loss ?? defaultClassificationLoss;
  const xs = slice(x, [0], [k]);
  const ys = slice(y, [0], [k]);
  model.train();
  let acc = 0;
  let loss = Infinity;
  let steps = 0;
  for (; ; steps++) {
    const out = model.call(xs) as Tensor;
    const l = lossFn(out, ys);
    loss = l.item();
    acc = accuracy(out, ys);
    if (acc >= target || steps >= maxSteps || !Number.isFinite(loss)) break;
    optimizer.zeroGrad();
    l.backward();
    optimizer.step();
  }
  return { ok: acc >= target, accuracy: acc, loss, steps, k };
}
