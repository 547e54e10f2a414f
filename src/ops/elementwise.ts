import { checkDType, isFloat, type DType } from '../core/dtype.js';
import { GradkitError } from '../core/errors.js';
import { broadcastShapes } from '../core/shape.js';
import { COMPARISON_OPS, type BinaryOp, type UnaryOp } from '../backend/kernels.js';
import { record } from '../autograd/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { item, readSync } from '../tensor/host.js';
import { binaryTypes, castTo, checkTensor, kernels, requireFloat, sumToShape, toTensor, wrap, type TensorLike } from './util.js';

// ---------------------------------------------------------------------------------------------
// Unary ops: forward kernel and gradient rule side by side. `y` is the output, `g` the incoming
// gradient; each rule returns dL/dx using ops (run with recording off).
// ---------------------------------------------------------------------------------------------

type UnaryRule = (x: Tensor, y: Tensor, g: Tensor) => Tensor;

const FLOAT_ONLY: ReadonlySet<UnaryOp> = new Set([
  'sqrt', 'exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'sigmoid', 'reciprocal', 'softplus', 'erf',
]);

function unaryOp(op: UnaryOp, x: Tensor, rule: UnaryRule | null): Tensor {
  checkTensor(op, 'input', x);
  if (FLOAT_ONLY.has(op)) requireFloat(op, x);
  // The kernel would write -1 into a byte (255): refuse, as PyTorch does.
  if (op === 'neg' && x.dtype === 'bool') throw new GradkitError('neg', 'cannot negate a bool tensor; use logicalNot() to invert it');
  if (op === 'logicalNot') {
    return wrap(kernels().unary('logicalNot', x.handle), x.shape);
  }
  const y = wrap(kernels().unary(op, x.handle), x.shape);
  if (rule === null) return y;
  return record(op, y, [x], (g) => [rule(x, y, g)]);
}

/** −x, elementwise. */
export const neg = (x: Tensor): Tensor => unaryOp('neg', x, (_x, _y, g) => neg(g));
/** |x|, elementwise (gradient sign(x)). */
export const abs = (x: Tensor): Tensor => unaryOp('abs', x, (x, _y, g) => mul(g, sign(x)));
/** √x, elementwise. */
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x, (_x, y, g) => div(g, mul(y, 2)));
/** eˣ, elementwise. */
export const exp = (x: Tensor): Tensor => unaryOp('exp', x, (_x, y, g) => mul(g, y));
/** Natural logarithm, elementwise. */
export const log = (x: Tensor): Tensor => unaryOp('log', x, (x, _y, g) => div(g, x));
/** log(1 + x), elementwise; accurate for small x. */
export const log1p = (x: Tensor): Tensor => unaryOp('log1p', x, (x, _y, g) => div(g, add(x, 1)));
/** eˣ − 1, elementwise; accurate for small x. */
export const expm1 = (x: Tensor): Tensor => unaryOp('expm1', x, (_x, y, g) => mul(g, add(y, 1)));
/** Sine, elementwise (radians). */
export const sin = (x: Tensor): Tensor => unaryOp('sin', x, (x, _y, g) => mul(g, cos(x)));
/** Cosine, elementwise (radians). */
export const cos = (x: Tensor): Tensor => unaryOp('cos', x, (x, _y, g) => neg(mul(g, sin(x))));
/** Hyperbolic tangent, elementwise. */
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x, (_x, y, g) => mul(g, sub(1, square(y))));
/** Logistic sigmoid 1 / (1 + e⁻ˣ), elementwise. */
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', x, (_x, y, g) => mul(g, mul(y, sub(1, y))));
// One fused pass (kernel reluBackward) instead of gt → cast → mul. At x = NaN the gradient is
// NaN: relu passes NaN through, so its gradient does too rather than hiding the divergence.
/** max(x, 0), elementwise (a NaN input passes through, gradient included). */
export const relu = (x: Tensor): Tensor =>
  unaryOp('relu', x, (x, _y, g) => wrap(kernels().reluBackward(x.handle, castTo(g, x.dtype).handle), x.shape));
/** x², elementwise. */
export const square = (x: Tensor): Tensor => unaryOp('square', x, (x, _y, g) => mul(g, mul(x, 2)));
/** 1 / x, elementwise. */
export const reciprocal = (x: Tensor): Tensor => unaryOp('reciprocal', x, (_x, y, g) => neg(mul(g, square(y))));
/** log(1 + e^x), computed stably. */
export const softplus = (x: Tensor): Tensor => unaryOp('softplus', x, (x, _y, g) => mul(g, sigmoid(x)));
/** The error function (used by exact GELU). */
export const erf = (x: Tensor): Tensor =>
  unaryOp('erf', x, (x, _y, g) => mul(g, mul(exp(neg(square(x))), 2 / Math.sqrt(Math.PI))));
// Piecewise-constant: zero gradient almost everywhere, so no rule (the result does not require grad).
/** −1, 0 or 1 by the sign of x (no gradient). */
export const sign = (x: Tensor): Tensor => unaryOp('sign', x, null);
/** Rounds down, elementwise (no gradient). */
export const floor = (x: Tensor): Tensor => unaryOp('floor', x, null);
/** Rounds up, elementwise (no gradient). */
export const ceil = (x: Tensor): Tensor => unaryOp('ceil', x, null);
/** Rounds to the nearest integer, elementwise (no gradient). */
export const round = (x: Tensor): Tensor => unaryOp('round', x, null);
/** Boolean NOT, elementwise (bool result). */
export const logicalNot = (x: Tensor): Tensor => unaryOp('logicalNot', x, null);

// ---------------------------------------------------------------------------------------------
// Binary ops with NumPy broadcasting; gradients are summed back to each input's shape.
// ---------------------------------------------------------------------------------------------

type BinaryRule = (a: Tensor, b: Tensor, y: Tensor, g: Tensor) => [Tensor | null, Tensor | null];

function binaryOp(op: BinaryOp, aIn: TensorLike, bIn: TensorLike, rule: BinaryRule | null): Tensor {
  const [a0, b0, promoted] = binaryTypes(op, aIn, bIn);
  const isCmp = COMPARISON_OPS.has(op);
  const dtype: DType = op === 'div' && !isFloat(promoted) ? 'float32' : promoted; // true division, like PyTorch
  const a = castTo(a0, dtype);
  const b = castTo(b0, dtype);
  const outShape = broadcastShapes(op, a.shape, b.shape);
  const y = wrap(kernels().binary(op, a.handle, a.shape, b.handle, b.shape, outShape, isCmp ? 'bool' : dtype), outShape);
  if (rule === null || isCmp) return y;
  return record(op, y, [a0, b0], (g) => {
    const [ga, gb] = rule(a, b, y, g);
    return [
      ga === null || !a0.requiresGrad ? null : sumToShape(ga, a0.shape),
      gb === null || !b0.requiresGrad ? null : sumToShape(gb, b0.shape),
    ];
  });
}

/** a + b with NumPy broadcasting (either may be a number). */
export const add = (a: TensorLike, b: TensorLike): Tensor => binaryOp('add', a, b, (_a, _b, _y, g) => [g, g]);
/** a − b with NumPy broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binaryOp('sub', a, b, (_a, _b, _y, g) => [g, neg(g)]);
/** a · b, elementwise with NumPy broadcasting. */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binaryOp('mul', a, b, (a, b, _y, g) => [mul(g, b), mul(g, a)]);
/** a / b with NumPy broadcasting. */
export const div = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('div', a, b, (_a, b, y, g) => [div(g, b), neg(div(mul(g, y), b))]);

/** a^b. The exponent's gradient a^b·ln a is taken as 0 where a <= 0 (ln undefined). */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  checkIntPower(a, b);
  return binaryOp('pow', a, b, (a, b, y, g) => {
    // b·a^(b−1) is 0·∞ = NaN at a = 0, b = 0; the true derivative of a^0 is 0 (as in PyTorch).
    const ga = mul(g, where(eq(b, 0), 0, mul(b, pow(a, sub(b, 1)))));
    const positive = gt(a, 0);
    const safeLog = log(where(positive, a, 1));
    const gb = mul(g, mul(y, where(positive, safeLog, 0)));
    return [ga, gb];
  });
}

/** An int result cannot hold 2^-1; PyTorch refuses the same call rather than return 0. */
function checkIntPower(a: TensorLike, b: TensorLike): void {
  const isInt = (v: TensorLike) => (v instanceof Tensor ? !isFloat(v.dtype) : Number.isInteger(v));
  if (!isInt(a) || !isInt(b)) return;
  const bad = (v: number, i: number) =>
    new GradkitError('pow', `integer tensors cannot be raised to a negative integer power (exponent ${v} at position ${i}); cast the base to float first`);
  if (!(b instanceof Tensor)) {
    if (b < 0) throw bad(b, 0);
    return;
  }
  // A one-element flag computed on the backend; the values are read only to name the culprit.
  if (!anyTrue(lt(b, 0))) return;
  const exps = readSync(b);
  for (let i = 0; i < exps.length; i++) if (exps[i] < 0) throw bad(exps[i], i);
}

/**
 * Whether any element of a bool tensor is set: reduced to one value on the backend, so only a
 * single number crosses to the host (validation that must throw has to read something).
 */
function anyTrue(mask: Tensor): boolean {
  if (mask.size === 0) return false;
  const k = kernels();
  const asInt = castTo(mask, 'int32');
  const flag = wrap(k.reduce('max', asInt.handle, asInt.shape, asInt.shape.map((_, i) => i)), []);
  return item(flag) !== 0;
}

/** Elementwise max; on ties the gradient is split evenly, as in PyTorch. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('maximum', a, b, (a, b, _y, g) => {
    const ga = add(castTo(gt(a, b), g.dtype), mul(castTo(eq(a, b), g.dtype), 0.5));
    return [mul(g, ga), mul(g, sub(1, ga))];
  });

/** Elementwise min; on ties the gradient is split evenly, as in PyTorch. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('minimum', a, b, (a, b, _y, g) => {
    const ga = add(castTo(lt(a, b), g.dtype), mul(castTo(eq(a, b), g.dtype), 0.5));
    return [mul(g, ga), mul(g, sub(1, ga))];
  });

/** a == b elementwise with broadcasting (bool result, no gradient). */
export const eq = (a: TensorLike, b: TensorLike): Tensor => binaryOp('eq', a, b, null);
/** a != b elementwise with broadcasting (bool result). */
export const ne = (a: TensorLike, b: TensorLike): Tensor => binaryOp('ne', a, b, null);
/** a < b elementwise with broadcasting (bool result). */
export const lt = (a: TensorLike, b: TensorLike): Tensor => binaryOp('lt', a, b, null);
/** a <= b elementwise with broadcasting (bool result). */
export const le = (a: TensorLike, b: TensorLike): Tensor => binaryOp('le', a, b, null);
/** a > b elementwise with broadcasting (bool result). */
export const gt = (a: TensorLike, b: TensorLike): Tensor => binaryOp('gt', a, b, null);
/** a >= b elementwise with broadcasting (bool result). */
export const ge = (a: TensorLike, b: TensorLike): Tensor => binaryOp('ge', a, b, null);
/** Boolean AND with broadcasting (bool result). */
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => binaryOp('logicalAnd', a, b, null);
/** Boolean OR with broadcasting (bool result). */
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => binaryOp('logicalOr', a, b, null);

/** cond ? a : b with broadcasting over all three; cond must be bool. */
export function where(cond: Tensor, aIn: TensorLike, bIn: TensorLike): Tensor {
  checkTensor('where', 'cond', cond);
  if (cond.dtype !== 'bool') throw new GradkitError('where', `cond must be a bool tensor (e.g. from gt/lt), got ${cond.dtype}`);
  // Two numbers (where(mask, 1, 0)) give int32 when both are integers, else float32, as in PyTorch.
  const numbersOnly = !(aIn instanceof Tensor) && !(bIn instanceof Tensor);
  const both = numbersOnly && Number.isInteger(aIn) && Number.isInteger(bIn) ? 'int32' : 'float32';
  const [a0, b0, promoted] = binaryTypes('where', numbersOnly ? toTensor('where', aIn, both) : aIn, bIn);
  // Selecting between two bool tensors stays bool (arithmetic promotion would make it int32).
  const dtype: DType = a0.dtype === 'bool' && b0.dtype === 'bool' ? 'bool' : promoted;
  const a = castTo(a0, dtype);
  const b = castTo(b0, dtype);
  const outShape = broadcastShapes('where', broadcastShapes('where', cond.shape, a.shape), b.shape);
  const y = wrap(kernels().where(cond.handle, cond.shape, a.handle, a.shape, b.handle, b.shape, outShape), outShape);
  return record('where', y, [a0, b0], (g) => [
    a0.requiresGrad ? sumToShape(where(cond, g, 0), a0.shape) : null,
    b0.requiresGrad ? sumToShape(where(cond, 0, g), b0.shape) : null,
  ]);
}

/** Limits values to [min, max] (either bound may be omitted); gradient passes inside the range. */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  checkTensor('clamp', 'input', x);
  if (min === undefined && max === undefined) throw new GradkitError('clamp', 'give at least one of min and max');
  if (min !== undefined && Number.isNaN(min)) throw new GradkitError('clamp', 'min is NaN');
  if (max !== undefined && Number.isNaN(max)) throw new GradkitError('clamp', 'max is NaN');
  if (min !== undefined && max !== undefined && min > max) throw new GradkitError('clamp', `min (${min}) is greater than max (${max})`);
  let inside: Tensor | null = null;
  let y = x;
  const k = kernels();
  if (min !== undefined) {
    const m = toTensor('clamp', min, x.dtype);
    y = wrap(k.binary('maximum', y.handle, y.shape, m.handle, m.shape, y.shape, y.dtype), y.shape);
    inside = ge(x, min);
  }
  if (max !== undefined) {
    const m = toTensor('clamp', max, x.dtype);
    y = wrap(k.binary('minimum', y.handle, y.shape, m.handle, m.shape, y.shape, y.dtype), y.shape);
    const below = le(x, max);
    inside = inside === null ? below : logicalAnd(inside, below);
  }
  const mask = inside!;
  return record('clamp', y, [x], (g) => [where(mask, g, 0)]);
}

/** Casts to another dtype. Float→float casts pass gradients through; casts to int/bool cut the graph. */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor('cast', 'input', x);
  checkDType('cast', dtype);
  if (dtype === 'int32' && isFloat(x.dtype)) {
    // Int32Array would store NaN and ±Infinity as 0 without a word. x − x is 0 exactly where x
    // is finite (NaN for ±Infinity and NaN), so the check is a flag computed on the backend; the
    // values are read only to name the first bad one.
    const k = kernels();
    const diff = wrap(k.binary('sub', x.handle, x.shape, x.handle, x.shape, x.shape, x.dtype), x.shape);
    const zero = toTensor('cast', 0, x.dtype);
    const nonFinite = wrap(k.binary('ne', diff.handle, diff.shape, zero.handle, zero.shape, x.shape, 'bool'), x.shape);
    if (anyTrue(nonFinite)) {
      const src = readSync(x);
      for (let i = 0; i < src.length; i++) {
        if (!Number.isFinite(src[i])) throw new GradkitError('cast', `cannot convert ${src[i]} at position ${i} to int32 (only finite values can be cast)`);
      }
    }
  }
  const y = castTo(x, dtype);
  if (y === x) return x;
  if (!isFloat(dtype) || !isFloat(x.dtype)) return y;
  return record('cast', y, [x], (g) => [castTo(g, x.dtype)]);
}
