/**
 * Small generated datasets for examples and tests: two (or more) spirals, Gaussian blobs, XOR and
 * a noisy sine regression. All are seeded (`{ seed }` or `{ rng }`) and return `{ x, y }` tensors:
 * x float32 [N, D]; y int32 class labels [N] (regression: float32 [N, 1]).
 */
import { GradkitError } from '../../core/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkNonNegative, checkPositiveInt, pickRng, tensorFrom, type SeedOptions } from '../util.js';

/** A synthetic data set as inputs x and targets y. */
export interface LabelledData {
  x: Tensor;
  y: Tensor;
}

/** Options of `makeSpirals`: points per arm, number of arms, angular noise and turns. */
export interface SpiralsOptions extends SeedOptions {
  /** Points per arm (default 100). */
  samplesPerClass?: number;
  /** Number of arms = classes (default 2). */
  classes?: number;
  /** Std of the Gaussian noise added to the angle, in radians (default 0.2). */
  noise?: number;
  /** How many full turns each arm makes (default 1). */
  turns?: number;
}

/**
 * Interleaved spiral arms in the unit disc: point i of arm j has radius r = (i+1)/n and angle
 * 2π·turns·r + 2πj/classes (+ noise). Not linearly separable: a good first nonlinear problem.
 */
export function makeSpirals(opts: SpiralsOptions = {}): LabelledData {
  const op = 'makeSpirals';
  const n = checkPositiveInt(op, 'samplesPerClass', opts.samplesPerClass ?? 100);
  const k = checkPositiveInt(op, 'classes', opts.classes ?? 2);
  const noise = checkNonNegative(op, 'noise', opts.noise ?? 0.2);
  const turns = checkNonNegative(op, 'turns', opts.turns ?? 1);
  const rng = pickRng(op, opts);
  const x = new Float32Array(n * k * 2);
  const y = new Int32Array(n * k);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < n; i++) {
      const r = (i + 1) / n;
      const t = 2 * Math.PI * turns * r + (2 * Math.PI * j) / k + noise * rng.normal();
      const idx = j * n + i;
      x[2 * idx] = r * Math.cos(t);
      x[2 * idx + 1] = r * Math.sin(t);
      y[idx] = j;
    }
  }
  return { x: tensorFrom(x, [n * k, 2]), y: tensorFrom(y, [n * k]) };
}

/** Options of `makeBlobs`: points per blob, the centres (or how many), dimension and spread. */
export interface BlobsOptions extends SeedOptions {
  /** Points per blob (default 100). */
  samplesPerClass?: number;
  /** Number of blobs (random centres in [−5, 5]^dim) or the centres themselves (default 3). */
  centers?: number | readonly (readonly number[])[];
  /** Dimensions when centres are random (default 2). */
  dim?: number;
  /** Standard deviation of every blob (default 1). */
  std?: number;
}

/** Isotropic Gaussian blobs, one class per centre. */
export function makeBlobs(opts: BlobsOptions = {}): LabelledData & { centers: number[][] } {
  const op = 'makeBlobs';
  const n = checkPositiveInt(op, 'samplesPerClass', opts.samplesPerClass ?? 100);
  const std = checkNonNegative(op, 'std', opts.std ?? 1);
  const rng = pickRng(op, opts);
  let centers: number[][];
  const spec = opts.centers ?? 3;
  if (typeof spec === 'number') {
    const k = checkPositiveInt(op, 'centers', spec);
    const dim = checkPositiveInt(op, 'dim', opts.dim ?? 2);
    centers = Array.from({ length: k }, () => Array.from({ length: dim }, () => rng.uniform(-5, 5)));
  } else {
    if (!Array.isArray(spec) || spec.length === 0) throw new GradkitError(op, 'centers must be a count or a non-empty array of points');
    const dim = spec[0].length;
    for (const [i, c] of spec.entries()) {
      if (!Array.isArray(c) || c.length !== dim || c.some((v) => !Number.isFinite(v))) {
        throw new GradkitError(op, `centre ${i} must be ${dim} finite numbers like centre 0`);
      }
    }
    centers = spec.map((c) => [...c]);
  }
  const k = centers.length;
  const dim = centers[0].length;
  const x = new Float32Array(n * k * dim);
  const y = new Int32Array(n * k);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < n; i++) {
      const idx = j * n + i;
      for (let d = 0; d < dim; d++) x[idx * dim + d] = centers[j][d] + std * rng.normal();
      y[idx] = j;
    }
  }
  return { x: tensorFrom(x, [n * k, dim]), y: tensorFrom(y, [n * k]), centers };
}

/** Options of `makeXor`: number of points and coordinate noise. */
export interface XorOptions extends SeedOptions {
  /** Number of points (default 200). */
  samples?: number;
  /** Std of Gaussian noise added to the coordinates after labelling (default 0). */
  noise?: number;
}

/** Points uniform in [−1, 1]²; label 1 when x and y have different signs (XOR of the signs). */
export function makeXor(opts: XorOptions = {}): LabelledData {
  const op = 'makeXor';
  const n = checkPositiveInt(op, 'samples', opts.samples ?? 200);
  const noise = checkNonNegative(op, 'noise', opts.noise ?? 0);
  const rng = pickRng(op, opts);
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng.uniform(-1, 1);
    const b = rng.uniform(-1, 1);
    y[i] = a > 0 !== b > 0 ? 1 : 0;
    x[2 * i] = a + noise * rng.normal();
    x[2 * i + 1] = b + noise * rng.normal();
  }
  return { x: tensorFrom(x, [n, 2]), y: tensorFrom(y, [n]) };
}

/** Options of `makeSine`, a noisy sine regression set: number of points, target noise and x range. */
export interface SineOptions extends SeedOptions {
  /** Number of points (default 200). */
  samples?: number;
  /** Std of Gaussian noise on the targets (default 0.1). */
  noise?: number;
  /** x range (default [−π, π]). */
  range?: readonly [number, number];
}

/** Regression: x uniform in the range, y = sin(x) + noise; both float32 [N, 1]. */
export function makeSine(opts: SineOptions = {}): LabelledData {
  const op = 'makeSine';
  const n = checkPositiveInt(op, 'samples', opts.samples ?? 200);
  const noise = checkNonNegative(op, 'noise', opts.noise ?? 0.1);
  const [lo, hi] = opts.range ?? [-Math.PI, Math.PI];
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) throw new GradkitError(op, `range must be [low, high] with low < high, got [${lo}, ${hi}]`);
  const rng = pickRng(op, opts);
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = rng.uniform(lo, hi);
    y[i] = Math.sin(x[i]) + noise * rng.normal();
  }
  return { x: tensorFrom(x, [n, 1]), y: tensorFrom(y, [n, 1]) };
}
