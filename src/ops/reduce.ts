import { isFloat } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { normalizeAxes, normalizeAxis, sizeOf } from '../core/shape.js';
import type { ReduceOp } from '../backend/kernels.js';
import { record, registerRules, type RuleTable, type Spec } from '../autograd/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, div, eq, exp, log, mul, sqrt, square, sub, where } from './elementwise.js';
import { broadcastTo, reshape } from './shape.js';
import { castTo, checkTensor, kernels, requireFloat, wrap } from './util.js';

/** Options of the reductions (sum, mean, max, …): whether reduced axes are kept as size 1. */
export interface ReduceOptions {
  /** Keep reduced axes as size 1 (default false). */
  keepDims?: boolean;
}

function keptShape(shape: readonly number[], axes: number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function reduceOp(op: ReduceOp, x: Tensor, axis: number | readonly number[] | undefined, opts: ReduceOptions): { y: Tensor; axes: number[] } {
  checkTensor(op, 'input', x);
  const axes = normalizeAxes(op, axis, x.rank);
  if ((op === 'max' || op === 'min') && axes.some((a) => x.shape[a] === 0)) {
    throw new GradkitError(op, `cannot take the ${op} over an empty axis (shape ${fmtShape(x.shape)})`);
  }
  const src = x.dtype === 'bool' ? castTo(x, 'int32') : x;
  const y = wrap(kernels().reduce(op, src.handle, src.shape, axes), keptShape(x.shape, axes, opts.keepDims ?? false));
  return { y, axes };
}

/** Expands a reduced gradient back over the reduced axes of an input of `shape`. */
function expandBack(g: Tensor, shape: readonly number[], axes: number[]): Tensor {
  return broadcastTo(reshape(g, keptShape(shape, axes, true)), shape);
}

/** Attributes of the reduce primitives: the input's shape and the reduced axes. */
export interface ReduceAttrs {
  shape: readonly number[];
  axes: number[];
}

/** What each reduce primitive's rule saves and its attributes. */
export interface ReduceSpecs {
  sum: Spec<[], ReduceAttrs>;
  /** x: the input, y: the reduced output. */
  max: Spec<[x: Tensor, y: Tensor], ReduceAttrs>;
  min: Spec<[x: Tensor, y: Tensor], ReduceAttrs>;
}

/** The reduce family's primitives. */
export type ReducePrimitive = keyof ReduceSpecs;

/** Sum over `axis` (all axes when omitted). */
export function sum(x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}): Tensor {
  const { y, axes } = reduceOp('sum', x, axis, opts);
  return record('sum', y, [x], [], { shape: x.shape, axes });
}

/** Arithmetic mean over `axis` (all axes when omitted); int/bool inputs give float32. An empty axis is an error. */
export function mean(x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}): Tensor {
  checkTensor('mean', 'input', x);
  const xf = isFloat(x.dtype) ? x : castTo(x, 'float32');
  const axes = normalizeAxes('mean', axis, x.rank);
  const count = sizeOf(axes.map((a) => x.shape[a]));
  if (count === 0) throw new GradkitError('mean', `cannot average over an empty axis (shape ${fmtShape(x.shape)})`);
  return div(sum(xf, axes, opts), count);
}

function extremum(op: 'max' | 'min', x: Tensor, axis: number | readonly number[] | undefined, opts: ReduceOptions): Tensor {
  const { y, axes } = reduceOp(op, x, axis, opts);
  return record(op, y, [x], [x, y], { shape: x.shape, axes });
}

/** Gradient of max/min: it goes to the extremal elements, split evenly among ties. */
function extremumRule(g: Tensor, [x, y]: readonly [Tensor, Tensor], { shape, axes }: ReduceAttrs): Tensor[] {
  const yb = expandBack(y, shape, axes);
  const mask = castTo(eq(x, yb), g.dtype);
  const count = expandBack(wrap(kernels().reduce('sum', mask.handle, mask.shape, axes), keptShape(shape, axes, false)), shape, axes);
  return [div(mul(expandBack(g, shape, axes), mask), count)];
}

/** Largest value over `axis` (all when omitted); NaN wins. The gradient is shared evenly by tied maxima. */
export function max(x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}): Tensor {
  return extremum('max', x, axis, opts);
}

/** Smallest value over `axis` (all when omitted); NaN wins. The gradient is shared evenly by tied minima. */
export function min(x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}): Tensor {
  return extremum('min', x, axis, opts);
}

/** Options of variance and standard deviation: keepDims plus the divisor's correction. */
export interface VarianceOptions extends ReduceOptions {
  /** Divisor is N - correction: 1 (default, unbiased, as PyTorch) or 0 (population). */
  correction?: number;
}

/**
 * Variance over `axis` (all when omitted): Σ(x − mean)² / (N − correction), correction 1 by
 * default as in PyTorch. `x.var()` is the method form (`var` is reserved in JavaScript).
 */
export function variance(x: Tensor, axis?: number | readonly number[], opts: VarianceOptions = {}): Tensor {
  checkTensor('var', 'input', x);
  const axes = normalizeAxes('var', axis, x.rank);
  const n = sizeOf(axes.map((a) => x.shape[a]));
  const correction = opts.correction ?? 1;
  if (!Number.isFinite(correction) || correction < 0) {
    throw new GradkitError('var', `correction must be a finite number >= 0 (1: unbiased, 0: population), got ${correction}`);
  }
  if (n - correction <= 0) {
    throw new GradkitError('var', `need more than ${correction} element(s) per reduction for correction=${correction}; got ${n} (shape ${fmtShape(x.shape)})`);
  }
  const centered = sub(x, mean(x, axes, { keepDims: true }));
  return div(sum(square(centered), axes, opts), n - correction);
}

/** Square root of `variance` with the same options. */
export function std(x: Tensor, axis?: number | readonly number[], opts: VarianceOptions = {}): Tensor {
  return sqrt(variance(x, axis, opts));
}

/** log Σ exp(x), shifted by the max so large inputs do not overflow. */
export function logSumExp(x: Tensor, axis?: number | readonly number[], opts: ReduceOptions = {}): Tensor {
  checkTensor('logSumExp', 'input', x);
  requireFloat('logSumExp', x);
  const axes = normalizeAxes('logSumExp', axis, x.rank);
  const rawMax = wrap(kernels().reduce('max', x.handle, x.shape, axes), keptShape(x.shape, axes, true));
  // A row of -inf would give -inf - -inf = NaN; shift such rows by 0 instead. m − m is 0 exactly
  // where m is finite, so the patch is a select on the backend, not a scan on the host.
  const m = where(eq(sub(rawMax, rawMax), 0), rawMax, 0);
  const s = log(sum(exp(sub(x, m)), axes, { keepDims: true }));
  const out = add(s, m);
  return opts.keepDims ? out : reshape(out, keptShape(x.shape, axes, false));
}

function argOp(op: 'argmax' | 'argmin', x: Tensor, axis: number | undefined, opts: ReduceOptions): Tensor {
  checkTensor(op, 'input', x);
  if (axis === undefined) {
    if (x.size === 0) throw new GradkitError(op, `cannot take ${op} of an empty tensor (shape ${fmtShape(x.shape)})`);
    const flat = wrap(kernels().argReduce(op, x.handle, [x.size], 0), []);
    return opts.keepDims ? reshape(flat, x.shape.map(() => 1)) : flat;
  }
  const ax = normalizeAxis(op, axis, x.rank);
  // Only the reduced axis must be non-empty: argmax over axis 1 of a [0, 3] tensor is simply empty.
  if (x.shape[ax] === 0) throw new GradkitError(op, `cannot take ${op} over axis ${ax} of size 0 (shape ${fmtShape(x.shape)})`);
  return wrap(kernels().argReduce(op, x.handle, x.shape, ax), keptShape(x.shape, [ax], opts.keepDims ?? false));
}

/** Index of the largest value along `axis` (over the flattened tensor when omitted); int32. */
export function argmax(x: Tensor, axis?: number, opts: ReduceOptions = {}): Tensor {
  return argOp('argmax', x, axis, opts);
}

/** Index of the smallest value along `axis` (over the flattened tensor when omitted); int32. */
export function argmin(x: Tensor, axis?: number, opts: ReduceOptions = {}): Tensor {
  return argOp('argmin', x, axis, opts);
}

const reduceRules: RuleTable<ReducePrimitive> = {
  sum: (g, _saved, { shape, axes }) => [expandBack(g, shape, axes)],
  max: extremumRule,
  min: extremumRule,
};
registerRules(reduceRules);
