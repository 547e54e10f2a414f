/**
 * Small helpers shared by the data pipeline: read a tensor's values without a copy, build a
 * tensor around a fresh buffer, and pick a generator from `{ seed } | { rng }` options.
 * The pipeline works on typed arrays directly (batches, augmentation, statistics), never through
 * per-element tensor ops, because it runs on every batch and must stay cheap.
 */
import { allocArray, type DataArray, type DType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { getGlobalRng, Random } from '../core/rng.js';
import { sizeOf } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { readSync } from '../tensor/host.js';

/** The tensor's values as the backend holds them (no copy: callers must not write to them). */
export function valuesOf(t: Tensor): DataArray {
  return readSync(t);
}

/** A new tensor of `shape` holding `buffer` (which the backend may adopt: do not change it afterwards). */
export function tensorFrom(buffer: DataArray, shape: readonly number[]): Tensor {
  return Tensor.fromArray(buffer, shape);
}

/** A zero-filled host buffer (like `tensor()`, batches are built in JS memory). */
export function alloc(dtype: DType, size: number): DataArray {
  return allocArray(dtype, size);
}

export interface SeedOptions {
  /** A fresh generator seeded with this value. */
  seed?: number;
  /** A generator to draw from (its stream advances). */
  rng?: Random;
}

/** `{ rng }`, `{ seed }` or the global generator; both at once is an error. */
export function pickRng(op: string, opts: SeedOptions): Random {
  if (opts.rng !== undefined && opts.seed !== undefined) throw new GradkitError(op, 'pass either rng or seed, not both');
  if (opts.rng !== undefined) {
    if (!(opts.rng instanceof Random)) throw new GradkitError(op, 'rng must be a Random');
    return opts.rng;
  }
  if (opts.seed !== undefined) return new Random(opts.seed);
  return getGlobalRng();
}

export function checkTensor(op: string, name: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new GradkitError(op, `${name} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  return x;
}

/** Checks an NCHW float batch and returns its dimensions. */
export function checkImages(op: string, x: unknown): { n: number; c: number; h: number; w: number } {
  const t = checkTensor(op, 'images', x);
  if (t.rank !== 4) throw new GradkitError(op, `expected an NCHW image batch of rank 4, got shape ${fmtShape(t.shape)}`);
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new GradkitError(op, `expected float images, got dtype ${t.dtype}`);
  const [n, c, h, w] = t.shape;
  return { n, c, h, w };
}

export function checkPositiveInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new GradkitError(op, `${name} must be a positive integer, got ${String(v)}`);
  return v;
}

export function checkNonNegative(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new GradkitError(op, `${name} must be a finite number >= 0, got ${String(v)}`);
  return v;
}

export function checkProbability(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new GradkitError(op, `${name} must be a probability in [0, 1], got ${String(v)}`);
  return v;
}

/** Number of elements of one sample (all dimensions but the first). */
export function rowSize(t: Tensor): number {
  return sizeOf(t.shape.slice(1));
}

/** A random permutation of 0..n-1 (Fisher–Yates with the given generator). */
export function permutation(n: number, rng: Random): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Mixes two 32-bit words into a seed (used to derive per-epoch / per-batch generators). */
export function mixSeed(a: number, b: number): number {
  let h = (a ^ Math.imul(b + 0x9e3779b9, 0x85ebca6b)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
