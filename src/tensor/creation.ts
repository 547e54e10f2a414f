import { allocArray, castArray, checkDType, dtypeOfArray, isFloat, type DataArray, type DType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { checkShape, sizeOf, type Shape } from '../core/shape.js';
import { getGlobalRng, Random } from '../core/rng.js';
import { getBackend } from '../backend/registry.js';
import { Tensor, type NestedArray } from './tensor.js';

/** Options shared by the tensor creation functions: the element dtype and whether the tensor tracks gradients. */
export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

/** Creation options for random tensors: which generator (or seed) draws the values. */
export interface RandomOptions extends CreateOptions {
  /** Generator to draw from (default: the global one, see manualSeed). */
  rng?: Random;
  /** Shortcut: a fresh generator seeded with this value. */
  seed?: number;
}

/** Nested arrays or numbers, or a flat typed array (smaller integer arrays are widened to int32). */
export type TensorData = NestedArray | DataArray | Int8Array | Int16Array | Uint16Array | Uint8ClampedArray | Uint32Array | readonly number[];

function inferShape(op: string, data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

function flatten(op: string, data: NestedArray, shape: number[], out: number[], dim = 0, path: number[] = []): void {
  if (dim === shape.length) {
    if (Array.isArray(data)) throw new GradkitError(op, `ragged nested array: element at [${path.join(', ')}] is an array, expected a number`);
    if (typeof data === 'boolean') {
      out.push(data ? 1 : 0);
      return;
    }
    if (typeof data !== 'number') throw new GradkitError(op, `element at [${path.join(', ')}] is ${typeof data}, expected a number`);
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    const got = Array.isArray(data) ? `length ${data.length}` : 'a scalar';
    throw new GradkitError(op, `ragged nested array: element at [${path.join(', ')}] has ${got}, expected length ${shape[dim]} (shape ${fmtShape(shape)})`);
  }
  for (let i = 0; i < data.length; i++) flatten(op, data[i], shape, out, dim + 1, [...path, i]);
}

/** bool only when every leaf is a boolean: [true, 2] is numeric data (as in PyTorch), not a bool tensor holding 2. */
function allBooleans(data: NestedArray): boolean {
  if (!Array.isArray(data)) return typeof data === 'boolean';
  return data.length > 0 && data.every(allBooleans);
}

/**
 * The typed arrays a tensor can hold directly; other integer arrays are widened to int32.
 * A Uint8Array is bool storage, so without a dtype it must hold only 0/1: image bytes given
 * without `dtype` would otherwise become a "bool" tensor holding 255.
 */
function asDataArray(op: string, view: ArrayBufferView, dtype: DType | undefined): DataArray {
  if (view instanceof Float32Array || view instanceof Float64Array || view instanceof Int32Array) return view;
  if (view instanceof Uint8Array && !(view instanceof Uint8ClampedArray)) {
    if (dtype === undefined) {
      const bad = view.findIndex((v) => v > 1);
      if (bad >= 0) {
        throw new GradkitError(op, `a Uint8Array is read as bool, but value ${view[bad]} at index ${bad} is not 0/1; pass { dtype: 'int32' } or { dtype: 'float32' }`);
      }
    }
    return view;
  }
  if (view instanceof Int8Array || view instanceof Int16Array || view instanceof Uint16Array || view instanceof Uint8ClampedArray) {
    return Int32Array.from(view);
  }
  if (view instanceof Uint32Array) {
    const bad = view.findIndex((v) => v > 0x7fffffff);
    if (bad >= 0) throw new GradkitError(op, `Uint32Array value ${view[bad]} at index ${bad} does not fit in int32`);
    return Int32Array.from(view);
  }
  throw new GradkitError(op, `unsupported array type ${view.constructor.name}; expected Float32Array, Float64Array, Int32Array, Uint8Array (bool) or a smaller integer array`);
}

/**
 * Creates a tensor from nested arrays, a flat typed array (with `shape`), or a number.
 * dtype defaults to float32 for numbers, bool for booleans, and the array's own type for typed arrays.
 */
export function tensor(data: TensorData, opts: CreateOptions & { shape?: Shape } = {}): Tensor {
  const op = 'tensor';
  const dtype = opts.dtype !== undefined ? checkDType(op, opts.dtype) : undefined;
  let buffer: DataArray;
  let shape: number[];
  if (ArrayBuffer.isView(data)) {
    const typed = asDataArray(op, data, dtype);
    shape = opts.shape ? checkShape(op, opts.shape) : [typed.length];
    if (sizeOf(shape) !== typed.length) {
      throw new GradkitError(op, `shape ${fmtShape(shape)} needs ${sizeOf(shape)} values but the array has ${typed.length}`);
    }
    if (dtype === 'int32' && (typed instanceof Float32Array || typed instanceof Float64Array)) {
      // Same rule as for nested arrays: never truncate 1.5 (or NaN) to an int silently.
      const bad = typed.findIndex((v: number) => !Number.isInteger(v));
      if (bad >= 0) throw new GradkitError(op, `value ${typed[bad]} at flat index ${bad} is not an integer, but dtype is int32`);
    }
    buffer = castArray(typed.slice() as DataArray, dtype ?? dtypeOfArray(typed));
    // castArray keeps a Uint8Array as is; a bool tensor must still hold only 0/1.
    if (buffer instanceof Uint8Array) buffer = buffer.map((v) => (v !== 0 ? 1 : 0));
  } else {
    const nested = data as NestedArray;
    const inferred = inferShape(op, nested);
    const flat: number[] = [];
    flatten(op, nested, inferred, flat);
    shape = inferred;
    if (opts.shape) {
      const want = checkShape(op, opts.shape);
      if (sizeOf(want) !== flat.length) {
        throw new GradkitError(op, `shape ${fmtShape(want)} needs ${sizeOf(want)} values but the data has ${flat.length}`);
      }
      shape = want;
    }
    const leafType = allBooleans(nested) ? 'bool' : 'float32';
    const dt = dtype ?? leafType;
    buffer = allocArray(dt, flat.length);
    if (dt === 'int32') {
      for (let i = 0; i < flat.length; i++) {
        if (!Number.isInteger(flat[i])) throw new GradkitError(op, `value ${flat[i]} at flat index ${i} is not an integer, but dtype is int32`);
      }
    }
    // A bool buffer stores truth values (0/1), whatever numbers were given.
    buffer.set(dt === 'bool' ? flat.map((v) => (v !== 0 ? 1 : 0)) : flat);
  }
  return Tensor.fromArray(buffer, shape, { requiresGrad: opts.requiresGrad });
}

/** A 0-d tensor. */
export function scalar(value: number, opts: CreateOptions = {}): Tensor {
  return tensor(value, opts);
}

/** A tensor of the given shape filled with `value`. */
export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  const s = checkShape('full', shape);
  if (typeof value !== 'number') throw new GradkitError('full', `fill value must be a number, got ${typeof value}`);
  const dtype = dtypeOption('full', opts);
  if (dtype === 'int32' && !Number.isInteger(value)) throw new GradkitError('full', `fill value ${value} is not an integer, but dtype is int32`);
  if (value === 0) return new Tensor(getBackend().alloc(dtype, sizeOf(s)), s, { requiresGrad: opts.requiresGrad });
  const buf = allocArray(dtype, sizeOf(s));
  buf.fill(value);
  return Tensor.fromArray(buf, s, { requiresGrad: opts.requiresGrad });
}

/** A tensor of the given shape filled with 0 (float32 unless `dtype` says otherwise). */
export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

/** A tensor of the given shape filled with 1. */
export function ones(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** Zeros with `t`'s shape and dtype. */
export function zerosLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, ...opts });
}

/** Ones with `t`'s shape and dtype. */
export function onesLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, ...opts });
}

/** `value` everywhere, with `t`'s shape and dtype. */
export function fullLike(t: Tensor, value: number, opts: CreateOptions = {}): Tensor {
  return full(t.shape, value, { dtype: t.dtype, ...opts });
}

/** Values start, start+step, … below end (like Python's range); float32 unless dtype is given. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step)) throw new GradkitError('arange', `step must be a non-zero finite number, got ${step}`);
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new GradkitError('arange', `start and end must be finite, got ${start} and ${end}`);
  const dtype = dtypeOption('arange', opts);
  if (dtype === 'int32' && !(Number.isInteger(start) && Number.isInteger(step))) {
    throw new GradkitError('arange', `start (${start}) and step (${step}) must be integers for dtype int32`);
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  const buf = allocArray(dtype, n);
  for (let i = 0; i < n; i++) buf[i] = start + i * step;
  return Tensor.fromArray(buf, [n], { requiresGrad: opts.requiresGrad });
}

/** `num` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, num: number, opts: CreateOptions = {}): Tensor {
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new GradkitError('linspace', `start and end must be finite, got ${start} and ${end}`);
  if (!Number.isInteger(num) || num < 0) throw new GradkitError('linspace', `num must be a non-negative integer, got ${num}`);
  const buf = allocArray(dtypeOption('linspace', opts), num);
  for (let i = 0; i < num; i++) buf[i] = num === 1 ? start : start + ((end - start) * i) / (num - 1);
  return Tensor.fromArray(buf, [num], { requiresGrad: opts.requiresGrad });
}

/** Identity matrix n×m (m defaults to n). */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  checkShape('eye', [n, m]);
  const buf = allocArray(dtypeOption('eye', opts), n * m);
  for (let i = 0; i < Math.min(n, m); i++) buf[i * m + i] = 1;
  return Tensor.fromArray(buf, [n, m], { requiresGrad: opts.requiresGrad });
}

/** The dtype option, validated (a typo must not reach the allocator), float32 by default. */
function dtypeOption(op: string, opts: CreateOptions): DType {
  return opts.dtype === undefined ? 'float32' : checkDType(op, opts.dtype);
}

function pickRng(opts: RandomOptions): Random {
  if (opts.rng && opts.seed !== undefined) throw new GradkitError('random', 'pass either rng or seed, not both');
  if (opts.rng) return opts.rng;
  if (opts.seed !== undefined) return new Random(opts.seed);
  return getGlobalRng();
}

/** A tensor of `shape` whose buffer `fill` writes from the chosen generator. */
function randomFill(op: string, shape: Shape, opts: RandomOptions, fill: (rng: Random, buf: DataArray) => void): Tensor {
  const s = checkShape(op, shape);
  const dtype = dtypeOption(op, opts);
  if (op !== 'randint' && !isFloat(dtype)) throw new GradkitError(op, `dtype must be float32 or float64, got ${dtype} (use randint for integers)`);
  const buf = allocArray(dtype, sizeOf(s));
  fill(pickRng(opts), buf);
  return Tensor.fromArray(buf, s, { requiresGrad: opts.requiresGrad });
}

/** A fill that draws each element in order. */
function eachDrawn(draw: (rng: Random) => number): (rng: Random, buf: DataArray) => void {
  return (rng, buf) => {
    for (let i = 0; i < buf.length; i++) buf[i] = draw(rng);
  };
}

/** Uniform on [low, high). */
export function rand(shape: Shape, opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const low = opts.low ?? 0;
  const high = opts.high ?? 1;
  if (!Number.isFinite(low) || !Number.isFinite(high)) throw new GradkitError('rand', `low and high must be finite, got ${low} and ${high}`);
  if (!(high >= low)) throw new GradkitError('rand', `high (${high}) must be >= low (${low})`);
  // Float dtypes only (randomFill checks): one bulk fill, the values of uniform() in order.
  return randomFill('rand', shape, opts, (r, buf) => r.fillUniform(buf as Float32Array | Float64Array, low, high));
}

/** Normal with the given mean and std (default standard normal). */
export function randn(shape: Shape, opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  if (!(std >= 0) || !Number.isFinite(std)) throw new GradkitError('randn', `std must be a finite non-negative number, got ${std}`);
  if (!Number.isFinite(mean)) throw new GradkitError('randn', `mean must be finite, got ${mean}`);
  return randomFill('randn', shape, opts, eachDrawn((r) => r.normal(mean, std)));
}

/** Integers uniform in [low, high), int32. */
export function randint(low: number, high: number, shape: Shape, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new GradkitError('randint', `need integers low < high, got low=${low}, high=${high}`);
  }
  return randomFill('randint', shape, { dtype: 'int32', ...opts }, eachDrawn((r) => r.int(low, high)));
}

/** Uniform [0, 1) samples with `t`'s shape and dtype (seeded by the global or given Random). */
export function randLike(t: Tensor, opts: RandomOptions = {}): Tensor {
  return rand(t.shape, { dtype: t.dtype, ...opts });
}

/** Standard normal samples with `t`'s shape and dtype. */
export function randnLike(t: Tensor, opts: RandomOptions = {}): Tensor {
  return randn(t.shape, { dtype: t.dtype, ...opts });
}
