/**
 * Splitting a dataset into disjoint parts: at random, or keeping each class's share (stratified).
 * Both return `Subset`s (views: no samples are copied).
 */
import { GradkitError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Subset, TensorDataset, type Dataset } from './dataset.js';
import { permutation, pickRng, valuesOf, type SeedOptions } from './util.js';

/** Turns fractions (summing to 1) or counts (summing to n) into counts summing to n. */
function toCounts(op: string, n: number, sizes: readonly number[]): number[] {
  if (!Array.isArray(sizes) || sizes.length === 0) throw new GradkitError(op, 'expected a non-empty array of fractions or counts');
  if (sizes.some((s) => typeof s !== 'number' || !(s >= 0) || !Number.isFinite(s))) {
    throw new GradkitError(op, `sizes must be non-negative numbers, got [${sizes.join(', ')}]`);
  }
  const sum = sizes.reduce((a, b) => a + b, 0);
  if (sizes.every(Number.isInteger) && sum === n) return [...sizes];
  if (Math.abs(sum - 1) > 1e-6) {
    throw new GradkitError(op, `sizes must be counts summing to the dataset length ${n} or fractions summing to 1, got [${sizes.join(', ')}] (sum ${sum})`);
  }
  // Floor each share, then hand the leftover samples out one by one (as PyTorch does).
  const counts = sizes.map((f) => Math.floor(f * n));
  let left = n - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; left > 0; i = (i + 1) % counts.length, left--) counts[i]++;
  return counts;
}

/**
 * Random disjoint subsets: `randomSplit(ds, [0.8, 0.2], { seed: 0 })` or `randomSplit(ds, [800, 200])`.
 */
export function randomSplit(dataset: Dataset, sizes: readonly number[], opts: SeedOptions = {}): Subset[] {
  const counts = toCounts('randomSplit', dataset.length, sizes);
  const perm = permutation(dataset.length, pickRng('randomSplit', opts));
  const out: Subset[] = [];
  let start = 0;
  for (const c of counts) {
    out.push(new Subset(dataset, perm.subarray(start, start + c)));
    start += c;
  }
  return out;
}

/** Options of the stratified train/validation split: validation fraction, seed and where the labels come from. */
export interface StratifiedSplitOptions extends SeedOptions {
  /** Fraction of each class that goes to validation (default 0.2). */
  validationFraction?: number;
  /** The class labels (int32 [N]); default: field `labelField` of the dataset's samples. */
  labels?: Tensor | ArrayLike<number>;
  /** Which field of a sample is the label when `labels` is not given (default 1). */
  labelField?: number;
}

/**
 * Train/validation split keeping class proportions: each class contributes
 * round(fraction · classCount) samples to validation, chosen at random.
 */
export function stratifiedSplit(dataset: Dataset, opts: StratifiedSplitOptions = {}): { train: Subset; validation: Subset } {
  const op = 'stratifiedSplit';
  const frac = opts.validationFraction ?? 0.2;
  if (!(frac >= 0 && frac <= 1)) throw new GradkitError(op, `validationFraction must be in [0, 1], got ${frac}`);
  const labels = resolveLabels(op, dataset, opts);
  const rng = pickRng(op, opts);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l)) throw new GradkitError(op, `label ${l} at index ${i} is not an integer class`);
    let list = byClass.get(l);
    if (!list) byClass.set(l, (list = []));
    list.push(i);
  }
  const train: number[] = [];
  const validation: number[] = [];
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = byClass.get(cls)!;
    rng.shuffle(members);
    const nv = Math.round(frac * members.length);
    validation.push(...members.slice(0, nv));
    train.push(...members.slice(nv));
  }
  // Classes were appended one after another; keep index order so neither part is grouped by class.
  train.sort((a, b) => a - b);
  validation.sort((a, b) => a - b);
  return { train: new Subset(dataset, train), validation: new Subset(dataset, validation) };
}

function resolveLabels(op: string, dataset: Dataset, opts: StratifiedSplitOptions): ArrayLike<number> {
  if (opts.labels !== undefined) {
    const l = 'shape' in opts.labels ? valuesOf(opts.labels as Tensor) : (opts.labels as ArrayLike<number>);
    if (l.length !== dataset.length) throw new GradkitError(op, `got ${l.length} labels for ${dataset.length} samples`);
    return l;
  }
  const field = opts.labelField ?? 1;
  if (dataset instanceof TensorDataset && field < dataset.tensors.length && dataset.tensors[field].rank === 1) {
    return valuesOf(dataset.tensors[field]); // fast path: no per-sample copies
  }
  const out = new Float64Array(dataset.length);
  for (let i = 0; i < dataset.length; i++) {
    const s = dataset.get(i);
    if (field >= s.length) throw new GradkitError(op, `samples have ${s.length} field(s); labelField ${field} does not exist`);
    if (s[field].size !== 1) throw new GradkitError(op, `the label field must hold one value per sample, got shape [${s[field].shape.join(', ')}]`);
    out[i] = valuesOf(s[field])[0];
  }
  return out;
}
