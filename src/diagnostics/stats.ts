/**
 * Summary statistics of one activation tensor: mean, std, a histogram and, depending on the
 * nonlinearity, the fraction of saturated (tanh/sigmoid) or dead (ReLU-family) units. Plain
 * loops over the data: this runs on a batch now and then, never in the inner loop.
 */
import { GradkitError } from '../core/errors.js';
import type { AnyModule } from '../nn/module.js';
import { ELU, LeakyReLU, PReLU, ReLU, SELU, Sigmoid, Tanh } from '../nn/activation.js';

/** What the numbers of a layer are judged against. */
export type ActivationKind = 'tanh' | 'sigmoid' | 'relu' | 'other';

/** A histogram: bin edges and the count in each bin. */
export interface Histogram {
  /** bins + 1 edges, ascending. */
  edges: number[];
  counts: number[];
}

/** Summary statistics of a tensor's values: mean, std, range, histogram, and saturated or dead fractions for activations. */
export interface TensorStats {
  mean: number;
  /** Population std over every value (all units and samples). */
  std: number;
  min: number;
  max: number;
  histogram: Histogram;
  /** tanh: |y| > 0.99; sigmoid: y < 0.01 or y > 0.99; null for other kinds. */
  saturated: number | null;
  /** ReLU-family: fraction of units (positions except the batch axis) that are exactly 0 for every sample; null otherwise. */
  dead: number | null;
}

/** Options of tensor statistics: the activation kind and the histogram bins and range. */
export interface StatsOptions {
  kind?: ActivationKind;
  /** Histogram bins (default 30). */
  bins?: number;
  /** Histogram range; default [min, max] of the data (tanh: [-1, 1], sigmoid: [0, 1]). */
  range?: [number, number];
}

/** The kind of a module: which saturation/dead rule applies to its output. */
export function activationKind(m: AnyModule): ActivationKind {
  if (m instanceof Tanh) return 'tanh';
  if (m instanceof Sigmoid) return 'sigmoid';
  // ELU/SELU/leaky units are never exactly 0 except at 0 input, so "dead" stays meaningful (near 0).
  if (m instanceof ReLU || m instanceof LeakyReLU || m instanceof PReLU || m instanceof ELU || m instanceof SELU) return 'relu';
  return 'other';
}

/**
 * Statistics of `values` laid out as [batch, ...unit]. `batch` is the size of the leading axis
 * (used only for the dead fraction: a unit is dead when it is 0 for every sample).
 */
export function tensorStats(values: ArrayLike<number>, batch: number, opts: StatsOptions = {}): TensorStats {
  const op = 'diagnostics.tensorStats';
  const n = values.length;
  if (n === 0) throw new GradkitError(op, 'cannot summarise an empty tensor');
  if (!(Number.isInteger(batch) && batch > 0 && n % batch === 0)) throw new GradkitError(op, `batch ${batch} does not divide the ${n} values`);
  const kind = opts.kind ?? 'other';
  const bins = opts.bins ?? 30;
  if (!(Number.isInteger(bins) && bins > 0)) throw new GradkitError(op, `bins must be a positive integer, got ${bins}`);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  // Two passes: the one-pass formula loses digits when |mean| >> std.
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  const std = Math.sqrt(ss / n);
  const range = opts.range ?? (kind === 'tanh' ? [-1, 1] : kind === 'sigmoid' ? [0, 1] : [min, max === min ? min + 1 : max]);
  const [lo, hi] = range;
  if (!(hi > lo)) throw new GradkitError(op, `histogram range must have high > low, got [${lo}, ${hi}]`);
  const counts = new Array<number>(bins).fill(0);
  const width = (hi - lo) / bins;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v < lo || v > hi || Number.isNaN(v)) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  let saturated: number | null = null;
  if (kind === 'tanh' || kind === 'sigmoid') {
    let c = 0;
    if (kind === 'tanh') for (let i = 0; i < n; i++) c += Math.abs(values[i]) > 0.99 ? 1 : 0;
    else for (let i = 0; i < n; i++) c += values[i] < 0.01 || values[i] > 0.99 ? 1 : 0;
    saturated = c / n;
  }
  let dead: number | null = null;
  if (kind === 'relu') {
    const units = n / batch;
    let d = 0;
    for (let j = 0; j < units; j++) {
      let allZero = true;
      for (let b = 0; b < batch && allZero; b++) allZero = values[b * units + j] === 0;
      if (allZero) d++;
    }
    dead = d / units;
  }
  return { mean, std, min, max, histogram: { edges, counts }, saturated, dead };
}
