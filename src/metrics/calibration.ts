import { GradkitError } from '../core/errors.js';
import { asLabels, asRows, type Labels, type Matrix } from './util.js';

/** Expected calibration error, and the per-bin confidence and accuracy it is computed from. */
export interface CalibrationResult {
  /** Σ_b (n_b / N) · |accuracy_b − confidence_b|. */
  ece: number;
  /** Per bin (equal width over [0, 1]): samples, mean confidence, accuracy (0 for empty bins). */
  bins: { lo: number; hi: number; count: number; confidence: number; accuracy: number }[];
}

/**
 * Expected calibration error of predicted probabilities [N, C] (rows sum to 1; pass softmax of
 * the logits): samples are binned by their top probability; ECE is the sample-weighted mean gap
 * between each bin's accuracy and its mean confidence. A confidence of exactly 1 falls in the last
 * bin, and a bin is (lo, hi] as in Guo et al. 2017.
 */
export function expectedCalibrationError(probs: Matrix, target: Labels, opts: { bins?: number } = {}): CalibrationResult {
  const op = 'metrics.expectedCalibrationError';
  const nb = opts.bins ?? 15;
  if (!(Number.isInteger(nb) && nb > 0)) throw new GradkitError(op, `bins must be a positive integer, got ${nb}`);
  const { data, n, c } = asRows(op, 'probs', probs);
  if (n === 0) throw new GradkitError(op, 'no samples');
  const t = asLabels(op, 'target', target, n, c);
  const count = new Array<number>(nb).fill(0);
  const conf = new Array<number>(nb).fill(0);
  const hit = new Array<number>(nb).fill(0);
  for (let i = 0; i < n; i++) {
    let b = 0;
    let rowSum = 0;
    for (let j = 0; j < c; j++) {
      const v = data[i * c + j];
      if (!(v >= 0 && v <= 1)) throw new GradkitError(op, `probs[${i}][${j}] = ${v} is not a probability; pass softmax(logits)`);
      rowSum += v;
      if (v > data[i * c + b]) b = j;
    }
    if (Math.abs(rowSum - 1) > 1e-3) throw new GradkitError(op, `row ${i} of probs sums to ${rowSum}, expected 1; pass softmax(logits)`);
    const p = data[i * c + b];
    const bin = Math.min(nb - 1, Math.max(0, Math.ceil(p * nb) - 1));
    count[bin]++;
    conf[bin] += p;
    if (b === t[i]) hit[bin]++;
  }
  let ece = 0;
  const bins = count.map((k, i) => {
    const confidence = k === 0 ? 0 : conf[i] / k;
    const acc = k === 0 ? 0 : hit[i] / k;
    ece += (k / n) * Math.abs(acc - confidence);
    return { lo: i / nb, hi: (i + 1) / nb, count: k, confidence, accuracy: acc };
  });
  return { ece, bins };
}
