import { checkDType, isFloat, type DType } from '../core/dtype.js';
import { GradkitError } from '../core/errors.js';
import { broadcastShapes } from '../core/shape.js';
import { COMPARISON_OPS, type BinaryOp, type UnaryOp } from '../backend/kernels.js';
import { record, registerRules, type RuleTable, type Spec } from '../autograd/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { binaryTypes, castTo, checkNoneSet, checkTensor, kernels, requireFloat, sumToShape, toTensor, wrap, type TensorLike } from './util.js';

// ---------------------------------------------------------------------------------------------
// Forwards and gradient rules side by side: each differentiable op records its primitive with
// the tensors its rule reads (`saved`) and plain attributes; the family's rules are in
// `elementwiseRules` below, which must hold one for every primitive in ElementwiseSpecs.
// ---------------------------------------------------------------------------------------------

/** Attributes of the broadcasting binary primitives: the recorded inputs' shapes, to sum gradients back to. */
export interface BinaryAttrs {
  aShape: readonly number[];
  bShape: readonly number[];
}

/** What each elementwise primitive's rule saves (x: the input, y: the output) and its attributes. */
export interface ElementwiseSpecs {
  neg: Spec<[]>;
  abs: Spec<[x: Tensor]>;
  sqrt: Spec<[y: Tensor]>;
  exp: Spec<[y: Tensor]>;
  log: Spec<[x: Tensor]>;
  log1p: Spec<[x: Tensor]>;
  expm1: Spec<[y: Tensor]>;
  sin: Spec<[x: Tensor]>;
  cos: Spec<[x: Tensor]>;
  tanh: Spec<[y: Tensor]>;
  sigmoid: Spec<[y: Tensor]>;
  relu: Spec<[x: Tensor]>;
  square: Spec<[x: Tensor]>;
  reciprocal: Spec<[y: Tensor]>;
  softplus: Spec<[x: Tensor]>;
  erf: Spec<[x: Tensor]>;
  /** a and b below are the inputs after the dtype promotion. */
  add: Spec<[], BinaryAttrs>;
  sub: Spec<[], BinaryAttrs>;
  mul: Spec<[a: Tensor, b: Tensor], BinaryAttrs>;
  div: Spec<[b: Tensor, y: Tensor], BinaryAttrs>;
  pow: Spec<[a: Tensor, b: Tensor, y: Tensor], BinaryAttrs>;
  maximum: Spec<[a: Tensor, b: Tensor], BinaryAttrs>;
  minimum: Spec<[a: Tensor, b: Tensor], BinaryAttrs>;
  where: Spec<[cond: Tensor], BinaryAttrs>;
  /** inside: bool, where x lies within the bounds. */
  clamp: Spec<[inside: Tensor]>;
  /** dtype: the input's, which the gradient is cast back to. */
  cast: Spec<[], { dtype: DType }>;
}

/** The elementwise family's primitives. */
export type ElementwisePrimitive = keyof ElementwiseSpecs;

const FLOAT_ONLY: ReadonlySet<UnaryOp> = new Set([
  'sqrt', 'exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'sigmoid', 'reciprocal', 'softplus', 'erf',
]);

/** The unary kernel with its checks (no recording: each op records its own primitive). */
function unaryForward(op: UnaryOp, x: Tensor): Tensor {
  checkTensor(op, 'input', x);
  if (FLOAT_ONLY.has(op)) requireFloat(op, x);
  // The kernel would write -1 into a byte (255): refuse, as PyTorch does.
  if (op === 'neg' && x.dtype === 'bool') throw new GradkitError('neg', 'cannot negate a bool tensor; use logicalNot() to invert it');
  return wrap(kernels().unary(op, x.handle), x.shape);
}

/** A unary primitive whose rule reads its input x. */
function unarySavingX(op: 'abs' | 'log' | 'log1p' | 'sin' | 'cos' | 'relu' | 'square' | 'softplus' | 'erf', x: Tensor): Tensor {
  const y = unaryForward(op, x);
  return record(op, y, [x], [x], null);
}

/** A unary primitive whose rule reads its output y. */
function unarySavingY(op: 'sqrt' | 'exp' | 'expm1' | 'tanh' | 'sigmoid' | 'reciprocal', x: Tensor): Tensor {
  const y = unaryForward(op, x);
  return record(op, y, [x], [y], null);
}

/** −x, elementwise. */
export const neg = (x: Tensor): Tensor => record('neg', unaryForward('neg', x), [x], [], null);
/** |x|, elementwise (gradient sign(x)). */
export const abs = (x: Tensor): Tensor => unarySavingX('abs', x);
/** √x, elementwise. */
export const sqrt = (x: Tensor): Tensor => unarySavingY('sqrt', x);
/** eˣ, elementwise. */
export const exp = (x: Tensor): Tensor => unarySavingY('exp', x);
/** Natural logarithm, elementwise. */
export const log = (x: Tensor): Tensor => unarySavingX('log', x);
/** log(1 + x), elementwise; accurate for small x. */
export const log1p = (x: Tensor): Tensor => unarySavingX('log1p', x);
/** eˣ − 1, elementwise; accurate for small x. */
export const expm1 = (x: Tensor): Tensor => unarySavingY('expm1', x);
/** Sine, elementwise (radians). */
export const sin = (x: Tensor): Tensor => unarySavingX('sin', x);
/** Cosine, elementwise (radians). */
export const cos = (x: Tensor): Tensor => unarySavingX('cos', x);
/** Hyperbolic tangent, elementwise. */
export const tanh = (x: Tensor): Tensor => unarySavingY('tanh', x);
/** Logistic sigmoid 1 / (1 + e⁻ˣ), elementwise. */
export const sigmoid = (x: Tensor): Tensor => unarySavingY('sigmoid', x);
/** max(x, 0), elementwise (a NaN input passes through, gradient included). */
export const relu = (x: Tensor): Tensor => unarySavingX('relu', x);
/** x², elementwise. */
export const square = (x: Tensor): Tensor => unarySavingX('square', x);
/** 1 / x, elementwise. */
export const reciprocal = (x: Tensor): Tensor => unarySavingY('reciprocal', x);
/** log(1 + e^x), computed stably. */
export const softplus = (x: Tensor): Tensor => unarySavingX('softplus', x);
/** The error function (used by exact GELU). */
export const erf = (x: Tensor): Tensor => unarySavingX('erf', x);
// Piecewise-constant: zero gradient almost everywhere, so no primitive (the result does not require grad).
/** −1, 0 or 1 by the sign of x (no gradient). */
export const sign = (x: Tensor): Tensor => unaryForward('sign', x);
/** Rounds down, elementwise (no gradient). */
export const floor = (x: Tensor): Tensor => unaryForward('floor', x);
/** Rounds up, elementwise (no gradient). */
export const ceil = (x: Tensor): Tensor => unaryForward('ceil', x);
/** Rounds to the nearest integer, elementwise (no gradient). */
export const round = (x: Tensor): Tensor => unaryForward('round', x);
/** Boolean NOT, elementwise (bool result). */
export const logicalNot = (x: Tensor): Tensor => unaryForward('logicalNot', x);

// ---------------------------------------------------------------------------------------------
// Binary ops with NumPy broadcasting; gradients are summed back to each input's shape.
// ---------------------------------------------------------------------------------------------

/** The forward of a broadcasting binary op: inputs as given (a0, b0), promoted (a, b), output y. */
interface BinaryForward {
  y: Tensor;
  a0: Tensor;
  b0: Tensor;
  a: Tensor;
  b: Tensor;
  attrs: BinaryAttrs;
}

function binaryForward(op: BinaryOp, aIn: TensorLike, bIn: TensorLike): BinaryForward {
  const [a0, b0, promoted] = binaryTypes(op, aIn, bIn);
  const isCmp = COMPARISON_OPS.has(op);
  const dtype: DType = op === 'div' && !isFloat(promoted) ? 'float32' : promoted; // true division, like PyTorch
  const a = castTo(a0, dtype);
  const b = castTo(b0, dtype);
  const outShape = broadcastShapes(op, a.shape, b.shape);
  const y = wrap(kernels().binary(op, a.handle, a.shape, b.handle, b.shape, outShape, isCmp ? 'bool' : dtype), outShape);
  return { y, a0, b0, a, b, attrs: { aShape: a0.shape, bShape: b0.shape } };
}

/** Each input's gradient summed back to its shape; null where it needs none. */
function toInputs(attrs: BinaryAttrs, needs: readonly boolean[], ga: Tensor | null, gb: Tensor | null): (Tensor | null)[] {
  return [
    ga === null || !needs[0] ? null : sumToShape(ga, attrs.aShape),
    gb === null || !needs[1] ? null : sumToShape(gb, attrs.bShape),
  ];
}

/** a + b with NumPy broadcasting (either may be a number). */
export function add(a: TensorLike, b: TensorLike): Tensor {
  const f = binaryForward('add', a, b);
  return record('add', f.y, [f.a0, f.b0], [], f.attrs);
}

/** a − b with NumPy broadcasting. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  const f = binaryForward('sub', a, b);
  return record('sub', f.y, [f.a0, f.b0], [], f.attrs);
}

/** a · b, elementwise with NumPy broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  const f = binaryForward('mul', a, b);
  return record('mul', f.y, [f.a0, f.b0], [f.a, f.b], f.attrs);
}

/** a / b with NumPy broadcasting. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  const f = binaryForward('div', a, b);
  return record('div', f.y, [f.a0, f.b0], [f.b, f.y], f.attrs);
}

/** a^b. The exponent's gradient a^b·ln a is taken as 0 where a <= 0 (ln undefined). */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  checkIntPower(a, b);
  const f = binaryForward('pow', a, b);
  return record('pow', f.y, [f.a0, f.b0], [f.a, f.b, f.y], f.attrs);
}

/** An int result cannot hold 2^-1; PyTorch refuses the same call rather than return 0. */
function checkIntPower(a: TensorLike, b: TensorLike): void {
  const isInt = (v: TensorLike) => (v instanceof Tensor ? !isFloat(v.dtype) : Number.isInteger(v));
  if (!isInt(a) || !isInt(b)) return;
  const bad = (v: number, i: number) =>
    `integer tensors cannot be raised to a negative integer power (exponent ${v} at position ${i}); cast the base to float first`;
  if (!(b instanceof Tensor)) {
    if (b < 0) throw new GradkitError('pow', bad(b, 0));
    return;
  }
  // A one-element flag computed on the backend; the values are read only to name the culprit.
  checkNoneSet('pow', lt(b, 0), [b], ([exps]) => {
    const i = exps.findIndex((v) => v < 0);
    return bad(exps[i], i);
  });
}

/** Elementwise max; on ties the gradient is split evenly, as in PyTorch. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  const f = binaryForward('maximum', a, b);
  return record('maximum', f.y, [f.a0, f.b0], [f.a, f.b], f.attrs);
}

/** Elementwise min; on ties the gradient is split evenly, as in PyTorch. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  const f = binaryForward('minimum', a, b);
  return record('minimum', f.y, [f.a0, f.b0], [f.a, f.b], f.attrs);
}

/** a == b elementwise with broadcasting (bool result, no gradient). */
export const eq = (a: TensorLike, b: TensorLike): Tensor => binaryForward('eq', a, b).y;
/** a != b elementwise with broadcasting (bool result). */
export const ne = (a: TensorLike, b: TensorLike): Tensor => binaryForward('ne', a, b).y;
/** a < b elementwise with broadcasting (bool result). */
export const lt = (a: TensorLike, b: TensorLike): Tensor => binaryForward('lt', a, b).y;
/** a <= b elementwise with broadcasting (bool result). */
export const le = (a: TensorLike, b: TensorLike): Tensor => binaryForward('le', a, b).y;
/** a > b elementwise with broadcasting (bool result). */
export const gt = (a: TensorLike, b: TensorLike): Tensor => binaryForward('gt', a, b).y;
/** a >= b elementwise with broadcasting (bool result). */
export const ge = (a: TensorLike, b: TensorLike): Tensor => binaryForward('ge', a, b).y;
/** Boolean AND with broadcasting (bool result). */
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => binaryForward('logicalAnd', a, b).y;
/** Boolean OR with broadcasting (bool result). */
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => binaryForward('logicalOr', a, b).y;

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
  return record('where', y, [a0, b0], [cond], { aShape: a0.shape, bShape: b0.shape });
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
  return record('clamp', y, [x], [inside!], null);
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
    checkNoneSet('cast', nonFinite, [x], ([src]) => {
      const i = src.findIndex((v) => !Number.isFinite(v));
      return `cannot convert ${src[i]} at position ${i} to int32 (only finite values can be cast)`;
    });
  }
  const y = castTo(x, dtype);
  if (y === x) return x;
  if (!isFloat(dtype) || !isFloat(x.dtype)) return y;
  return record('cast', y, [x], [], { dtype: x.dtype });
}

// ---------------------------------------------------------------------------------------------
// The family's gradient rules: `g` is the gradient of the output; each rule returns dL/d(input)
// per recorded input, using ops (run with recording off).
// ---------------------------------------------------------------------------------------------

const elementwiseRules: RuleTable<ElementwisePrimitive> = {
  neg: (g) => [neg(g)],
  abs: (g, [x]) => [mul(g, sign(x))],
  sqrt: (g, [y]) => [div(g, mul(y, 2))],
  exp: (g, [y]) => [mul(g, y)],
  log: (g, [x]) => [div(g, x)],
  log1p: (g, [x]) => [div(g, add(x, 1))],
  expm1: (g, [y]) => [mul(g, add(y, 1))],
  sin: (g, [x]) => [mul(g, cos(x))],
  cos: (g, [x]) => [neg(mul(g, sin(x)))],
  tanh: (g, [y]) => [mul(g, sub(1, square(y)))],
  sigmoid: (g, [y]) => [mul(g, mul(y, sub(1, y)))],
  // One fused pass (kernel reluBackward) instead of gt → cast → mul. At x = NaN the gradient is
  // NaN: relu passes NaN through, so its gradient does too rather than hiding the divergence.
  relu: (g, [x]) => [wrap(kernels().reluBackward(x.handle, castTo(g, x.dtype).handle), x.shape)],
  square: (g, [x]) => [mul(g, mul(x, 2))],
  reciprocal: (g, [y]) => [neg(mul(g, square(y)))],
  softplus: (g, [x]) => [mul(g, sigmoid(x))],
  erf: (g, [x]) => [mul(g, mul(exp(neg(square(x))), 2 / Math.sqrt(Math.PI)))],
  add: (g, _saved, attrs, needs) => toInputs(attrs, needs, g, g),
  sub: (g, _saved, attrs, needs) => toInputs(attrs, needs, g, neg(g)),
  mul: (g, [a, b], attrs, needs) => toInputs(attrs, needs, mul(g, b), mul(g, a)),
  div: (g, [b, y], attrs, needs) => toInputs(attrs, needs, div(g, b), neg(div(mul(g, y), b))),
  pow: (g, [a, b, y], attrs, needs) => {
    // b·a^(b−1) is 0·∞ = NaN at a = 0, b = 0; the true derivative of a^0 is 0 (as in PyTorch).
    const ga = mul(g, where(eq(b, 0), 0, mul(b, pow(a, sub(b, 1)))));
    const positive = gt(a, 0);
    const safeLog = log(where(positive, a, 1));
    const gb = mul(g, mul(y, where(positive, safeLog, 0)));
    return toInputs(attrs, needs, ga, gb);
  },
  maximum: (g, [a, b], attrs, needs) => {
    const ga = add(castTo(gt(a, b), g.dtype), mul(castTo(eq(a, b), g.dtype), 0.5));
    return toInputs(attrs, needs, mul(g, ga), mul(g, sub(1, ga)));
  },
  minimum: (g, [a, b], attrs, needs) => {
    const ga = add(castTo(lt(a, b), g.dtype), mul(castTo(eq(a, b), g.dtype), 0.5));
    return toInputs(attrs, needs, mul(g, ga), mul(g, sub(1, ga)));
  },
  where: (g, [cond], attrs, needs) => [
    needs[0] ? sumToShape(where(cond, g, 0), attrs.aShape) : null,
    needs[1] ? sumToShape(where(cond, 0, g), attrs.bShape) : null,
  ],
  clamp: (g, [inside]) => [where(inside, g, 0)],
  cast: (g, _saved, attrs) => [castTo(g, attrs.dtype)],
};
registerRules(elementwiseRules);
