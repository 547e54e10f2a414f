/**
 * Batch-level mixing (Zhang et al. 2017, mixup; Yun et al. 2019, cutmix). Each sample i is
 * paired with sample perm[i] of the same batch (a random permutation) and one λ ~ Beta(α, α)
 * is drawn per batch:
 *   mixup:  x̃ = λ·x + (1−λ)·x[perm],  ỹ = λ·y + (1−λ)·y[perm]
 *   cutmix: a box of area ≈ (1−λ)·H·W is pasted from x[perm]; λ is then recomputed from the
 *           clipped box, ỹ = λ·y + (1−λ)·y[perm], so targets match the pixels that were used.
 * Targets come back as soft float targets [N, K] (integer labels are one-hot encoded first).
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import type { Random } from '../core/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Batch } from './collate.js';
import { sampleBeta } from './sampling.js';
import { alloc, checkImages, checkTensor, permutation, pickRng, rowSize, tensorFrom, valuesOf, type SeedOptions } from './util.js';

/** Options of mixup and cutmix: the Beta(α, α) concentration, seed and number of classes. */
export interface MixOptions extends SeedOptions {
  /** Beta(α, α) concentration (default 1: λ uniform on [0, 1]; smaller α keeps λ near 0 or 1). */
  alpha?: number;
  /** Number of classes, needed when the targets are integer labels. */
  numClasses?: number;
}

/** A mixed batch from mixup/cutmix: mixed inputs, soft targets, the mixing weight and the partner of each sample. */
export interface MixResult {
  x: Tensor;
  /** Soft targets [N, K]; each row sums to 1 when y's rows do. */
  y: Tensor;
  /** The weight of the original sample (for cutmix: after clipping the box). */
  lambda: number;
  /** perm[i] is the partner of sample i. */
  permutation: Int32Array;
}

/** Soft targets as float values [N, K] (one-hot from int labels), in float32 unless y is float64. */
function softTargets(op: string, y: Tensor, n: number, numClasses: number | undefined): { values: ArrayLike<number>; k: number; dtype: 'float32' | 'float64' } {
  if (y.shape[0] !== n) throw new GradkitError(op, `targets ${fmtShape(y.shape)} and inputs disagree on the batch size (${y.shape[0]} vs ${n})`);
  if (y.dtype === 'int32') {
    if (y.rank !== 1) throw new GradkitError(op, `integer labels must have shape [N], got ${fmtShape(y.shape)}`);
    if (numClasses === undefined || !Number.isInteger(numClasses) || numClasses < 1) {
      throw new GradkitError(op, `numClasses (a positive integer) is needed to mix integer labels, got ${String(numClasses)}`);
    }
    const labels = valuesOf(y);
    const out = new Float32Array(n * numClasses);
    for (let i = 0; i < n; i++) {
      const l = labels[i];
      if (l < 0 || l >= numClasses) throw new GradkitError(op, `label ${l} at index ${i} is outside 0..${numClasses - 1}`);
      out[i * numClasses + l] = 1;
    }
    return { values: out, k: numClasses, dtype: 'float32' };
  }
  if ((y.dtype === 'float32' || y.dtype === 'float64') && y.rank === 2) {
    if (numClasses !== undefined && y.shape[1] !== numClasses) throw new GradkitError(op, `soft targets have ${y.shape[1]} classes but numClasses is ${numClasses}`);
    return { values: valuesOf(y), k: y.shape[1], dtype: y.dtype };
  }
  throw new GradkitError(op, `targets must be int32 labels [N] or float soft targets [N, K], got ${y.dtype} ${fmtShape(y.shape)}`);
}

function drawLambda(op: string, opts: MixOptions, rng: Random): number {
  const alpha = opts.alpha ?? 1;
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new GradkitError(op, `alpha must be a positive number, got ${alpha}`);
  return sampleBeta(rng, alpha, alpha);
}

function mixTargets(op: string, y: Tensor, n: number, opts: MixOptions, perm: Int32Array, lambda: number): Tensor {
  const { values, k, dtype } = softTargets(op, y, n, opts.numClasses);
  const out = alloc(dtype, n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) out[i * k + j] = lambda * values[i * k + j] + (1 - lambda) * values[perm[i] * k + j];
  }
  return tensorFrom(out, [n, k]);
}

/** mixup of a batch: `const { x, y, lambda } = mixup(xb, yb, { alpha: 0.2, numClasses: 10, rng })`. */
export function mixup(x: Tensor, y: Tensor, opts: MixOptions = {}): MixResult {
  const op = 'mixup';
  checkTensor(op, 'x', x);
  checkTensor(op, 'y', y);
  if (x.rank < 1 || (x.dtype !== 'float32' && x.dtype !== 'float64')) throw new GradkitError(op, `inputs must be a float tensor [N, ...], got ${x.dtype} ${fmtShape(x.shape)}`);
  const rng = pickRng(op, opts);
  const n = x.shape[0];
  const lambda = drawLambda(op, opts, rng);
  const perm = permutation(n, rng);
  const yMixed = mixTargets(op, y, n, opts, perm, lambda);
  const row = rowSize(x);
  const src = valuesOf(x);
  const out = alloc(x.dtype, src.length);
  for (let i = 0; i < n; i++) {
    const a = i * row;
    const b = perm[i] * row;
    for (let k = 0; k < row; k++) out[a + k] = lambda * src[a + k] + (1 - lambda) * src[b + k];
  }
  return { x: tensorFrom(out, x.shape), y: yMixed, lambda, permutation: perm };
}

/** cutmix of an NCHW batch; `box` is [y0, x0, y1, x1) of the pasted region. */
export function cutmix(x: Tensor, y: Tensor, opts: MixOptions = {}): MixResult & { box: [number, number, number, number] } {
  const op = 'cutmix';
  const { n, c, h, w } = checkImages(op, x);
  checkTensor(op, 'y', y);
  const rng = pickRng(op, opts);
  const lam0 = drawLambda(op, opts, rng);
  const perm = permutation(n, rng);
  const r = Math.sqrt(1 - lam0);
  const bh = Math.floor(h * r);
  const bw = Math.floor(w * r);
  const cy = rng.int(0, h);
  const cx = rng.int(0, w);
  const y0 = Math.max(0, cy - Math.floor(bh / 2));
  const x0 = Math.max(0, cx - Math.floor(bw / 2));
  const y1 = Math.min(h, cy - Math.floor(bh / 2) + bh);
  const x1 = Math.min(w, cx - Math.floor(bw / 2) + bw);
  const area = Math.max(0, y1 - y0) * Math.max(0, x1 - x0);
  const lambda = 1 - area / (h * w);
  const yMixed = mixTargets(op, y, n, opts, perm, lambda);
  const src = valuesOf(x);
  const out = alloc(x.dtype, src.length);
  out.set(src as ArrayLike<number>);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const a = (i * c + ch) * h * w;
      const b = (perm[i] * c + ch) * h * w;
      for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) out[a + yy * w + xx] = src[b + yy * w + xx];
    }
  }
  return { x: tensorFrom(out, x.shape), y: yMixed, lambda, permutation: perm, box: [y0, x0, y1, x1] };
}

/**
 * A DataLoader `batchTransform` that mixes [x, y] batches:
 * `new DataLoader(ds, { batchTransform: mixupTransform({ alpha: 0.2, numClasses: 10 }) })`.
 */
export function mixupTransform(opts: Omit<MixOptions, 'seed' | 'rng'> & { mode?: 'mixup' | 'cutmix' } = {}): (batch: Batch, rng: Random) => Batch {
  const mode = opts.mode ?? 'mixup';
  if (mode !== 'mixup' && mode !== 'cutmix') throw new GradkitError('mixupTransform', `mode must be 'mixup' or 'cutmix', got ${String(mode)}`);
  return (batch, rng) => {
    if (batch.length < 2) throw new GradkitError('mixupTransform', `needs [inputs, targets] batches, got ${batch.length} field(s)`);
    const r = (mode === 'mixup' ? mixup : cutmix)(batch[0], batch[1], { alpha: opts.alpha, numClasses: opts.numClasses, rng });
    return [r.x, r.y, ...batch.slice(2)];
  };
}
