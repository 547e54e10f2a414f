/**
 * Classification metrics on scores (logits or probabilities, [N, C]) or predicted labels.
 * accuracy and topK on Tensor scores and labels run on the device and read one small tensor per
 * call (see device.ts for counts to accumulate per batch without any read); the rest is computed
 * on the host from the data, once per epoch.
 */
import { GradkitError } from '../core/errors.js';
import * as ops from '../ops/index.js';
import { readSync } from '../tensor/host.js';
import { Tensor } from '../tensor/tensor.js';
import { finiteRows, labelCheck, targetRanks } from './device.js';
import { argmaxRows, asLabels, asRows, rowFinite, type Labels, type Matrix } from './util.js';

function predictions(op: string, pred: Matrix | Labels, n: number | undefined): number[] {
  if ((pred instanceof Tensor && pred.rank === 2) || (Array.isArray(pred) && Array.isArray(pred[0]))) {
    const { data, n: rows, c } = asRows(op, 'scores', pred as Matrix);
    if (n !== undefined && rows !== n) throw new GradkitError(op, `scores have ${rows} rows but there are ${n} targets`);
    return argmaxRows(data, rows, c);
  }
  return asLabels(op, 'predictions', pred as Labels, n);
}

/**
 * Fraction of samples whose prediction equals the target. `pred` is scores [N, C] (argmax is
 * taken) or predicted labels [N]. A score row holding NaN or ±Infinity counts as wrong.
 */
export function accuracy(pred: Matrix | Labels, target: Labels): number {
  const op = 'metrics.accuracy';
  // Tensors in the ordinary case run on the device; anything else (and every error but a bad label) on the host.
  if (pred instanceof Tensor && target instanceof Tensor && pred.rank === 2 && target.rank === 1 && target.size > 0 && pred.shape[0] === target.size) {
    return deviceAccuracy(op, pred, target);
  }
  const t = asLabels(op, 'target', target);
  if (t.length === 0) throw new GradkitError(op, 'no samples');
  const p = predictions(op, pred, t.length);
  let ok = 0;
  for (let i = 0; i < t.length; i++) if (p[i] === t[i]) ok++;
  return ok / t.length;
}

/**
 * Top-k accuracy: the target is among the k highest scores. Ties at the k-th score count
 * against the sample only if the target ranks below k others (a strictly-greater count < k).
 * A row holding NaN or ±Infinity counts as wrong.
 */
export function topK(scores: Matrix, target: Labels, k = 5): number {
  const op = 'metrics.topK';
  if (scores instanceof Tensor && target instanceof Tensor && scores.rank === 2 && target.rank === 1 && target.size > 0 && scores.shape[0] === target.size) {
    const c = scores.shape[1];
    if (!(Number.isInteger(k) && k >= 1 && k <= c)) throw new GradkitError(op, `k must be an integer in 1..${c} (classes), got ${k}`);
    return deviceTopK(op, scores, target, k);
  }
  const { data, n, c } = asRows(op, 'scores', scores);
  if (!(Number.isInteger(k) && k >= 1 && k <= c)) throw new GradkitError(op, `k must be an integer in 1..${c} (classes), got ${k}`);
  const t = asLabels(op, 'target', target, n, c);
  if (n === 0) throw new GradkitError(op, 'no samples');
  let ok = 0;
  for (let i = 0; i < n; i++) {
    if (!rowFinite(data, i, c)) continue; // no ranking exists: wrong
    const s = data[i * c + t[i]];
    let above = 0;
    for (let j = 0; j < c; j++) if (data[i * c + j] > s) above++;
    if (above < k) ok++;
  }
  return ok / n;
}

/**
 * Reads [labels counted, first invalid label (−1 if none), correct] at once and throws asLabels'
 * error for an invalid label (the labels are read only then).
 */
function readCounts(op: string, target: Tensor, check: Tensor, correct: Tensor, classes?: number): { n: number; correct: number } {
  const [n, bad, ok] = readSync(ops.concat([check, ops.reshape(correct, [1])]));
  if (bad >= 0) {
    const v = readSync(target)[bad];
    throw new GradkitError(op, `target[${bad}] = ${v} is not a class index${classes !== undefined ? ` in 0..${classes - 1}` : ''}`);
  }
  return { n, correct: ok };
}

/** accuracy of Tensor scores [N, C] against Tensor labels [N] (same N > 0), on the device, with one read. */
function deviceAccuracy(op: string, scores: Tensor, target: Tensor): number {
  const n = target.shape[0];
  // argmax (first on ties) equals the target, on a finite row. Labels ≥ C never match.
  const hit = ops.logicalAnd(ops.eq(ops.argmax(scores, 1), ops.cast(target, 'int32')), finiteRows(scores));
  return readCounts(op, target, labelCheck(target, Infinity), ops.sum(ops.cast(hit, 'int32'))).correct / n;
}

/** topK of Tensor scores [N, C] against Tensor labels [N] (same N > 0, valid k), on the device, with one read. */
function deviceTopK(op: string, scores: Tensor, target: Tensor, k: number): number {
  const [n, c] = scores.shape;
  const ok = ops.lt(targetRanks(scores, target, 'none'), k);
  return readCounts(op, target, labelCheck(target, c), ops.sum(ops.cast(ok, 'int32')), c).correct / n;
}

/** counts[t][p]: samples of true class t predicted as p (rows: truth, columns: prediction, as scikit-learn). */
export function confusionMatrix(pred: Matrix | Labels, target: Labels, numClasses?: number): number[][] {
  const op = 'metrics.confusionMatrix';
  const t = asLabels(op, 'target', target);
  const p = predictions(op, pred, t.length);
  const c = numClasses ?? Math.max(0, ...t, ...p) + 1;
  if (!(Number.isInteger(c) && c > 0)) throw new GradkitError(op, `numClasses must be a positive integer, got ${numClasses}`);
  const m = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  for (let i = 0; i < t.length; i++) {
    if (p[i] < 0) throw new GradkitError(op, `scores row ${i} holds NaN or Infinity, so it has no predicted class; check the model for non-finite outputs`);
    if (t[i] >= c || p[i] >= c) throw new GradkitError(op, `sample ${i}: class ${Math.max(t[i], p[i])} is outside 0..${c - 1} (numClasses ${c})`);
    m[t[i]][p[i]]++;
  }
  return m;
}

/** Per-class precision, recall, F1 and support, with macro and support-weighted averages and the accuracy. */
export interface ClassificationReport {
  precision: number[];
  recall: number[];
  f1: number[];
  /** True samples per class. */
  support: number[];
  macro: { precision: number; recall: number; f1: number };
  /** Averages weighted by support. */
  weighted: { precision: number; recall: number; f1: number };
  accuracy: number;
}

/**
 * Per-class precision, recall and F1 with macro and support-weighted averages. A ratio with a
 * zero denominator (a class never predicted, or absent) is 0, as scikit-learn's default.
 */
export function precisionRecallF1(pred: Matrix | Labels, target: Labels, numClasses?: number): ClassificationReport {
  const m = confusionMatrix(pred, target, numClasses);
  const c = m.length;
  const div = (a: number, b: number): number => (b === 0 ? 0 : a / b);
  const precision: number[] = [];
  const recall: number[] = [];
  const f1: number[] = [];
  const support: number[] = [];
  let correct = 0;
  let total = 0;
  for (let k = 0; k < c; k++) {
    const tp = m[k][k];
    let predicted = 0;
    let actual = 0;
    for (let j = 0; j < c; j++) {
      predicted += m[j][k];
      actual += m[k][j];
    }
    const p = div(tp, predicted);
    const r = div(tp, actual);
    precision.push(p);
    recall.push(r);
    f1.push(div(2 * p * r, p + r));
    support.push(actual);
    correct += tp;
    total += actual;
  }
  const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / c;
  const wmean = (a: number[]): number => div(a.reduce((s, v, i) => s + v * support[i], 0), total);
  return {
    precision, recall, f1, support,
    macro: { precision: mean(precision), recall: mean(recall), f1: mean(f1) },
    weighted: { precision: wmean(precision), recall: wmean(recall), f1: wmean(f1) },
    accuracy: div(correct, total),
  };
}
