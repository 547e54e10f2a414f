import { allocArray, type DataArray, type DType } from '../../core/dtype.js';
import { broadcastStrides, shapesEqual, sizeOf, type Shape } from '../../core/shape.js';
import type { BinaryOp, UnaryOp } from '../../backend/kernels.js';
import { allocLike, forEachStrided } from './util.js';

/** Abramowitz–Stegun 7.1.26 is too coarse for GELU gradients; this series/continued fraction pair is accurate to ~1e-15. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf x = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1)).
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // Continued fraction for erfc at larger |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  const r = 1 - erfc;
  return x < 0 ? -r : r;
}

const UNARY: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  sqrt: Math.sqrt,
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  // NaN must come out as NaN (as in PyTorch): a hidden NaN is a bug nobody can find.
  relu: (x) => (x > 0 || Number.isNaN(x) ? x : 0),
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  floor: Math.floor,
  ceil: Math.ceil,
  round: Math.round,
  softplus: (x) => (x > 20 ? x : Math.log1p(Math.exp(x))),
  erf,
  logicalNot: (x) => (x === 0 ? 1 : 0),
};

export function unary(op: UnaryOp, x: DataArray): DataArray {
  const f = UNARY[op];
  const out = op === 'logicalNot' ? allocArray('bool', x.length) : allocLike(x, x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
  return out;
}

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => Math.pow(a, b),
  maximum: (a, b) => (a >= b || Number.isNaN(a) ? a : b),
  minimum: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  logicalAnd: (a, b) => (a !== 0 && b !== 0 ? 1 : 0),
  logicalOr: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
};

export function binary(
  op: BinaryOp, a: DataArray, aShape: Shape, b: DataArray, bShape: Shape, outShape: Shape, outDtype: DType,
): DataArray {
  const f = BINARY[op];
  const out = allocArray(outDtype, sizeOf(outShape));
  if (op === 'div' && outDtype === 'int32') {
    // Integer division truncates toward zero like C; division by zero is left to the op layer.
    forEachStrided(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)], (i, o) => {
      out[i] = Math.trunc(a[o[0]] / b[o[1]]);
    });
    return out;
  }
  if (shapesEqual(aShape, bShape)) {
    for (let i = 0; i < out.length; i++) out[i] = f(a[i], b[i]);
    return out;
  }
  forEachStrided(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)], (i, o) => {
    out[i] = f(a[o[0]], b[o[1]]);
  });
  return out;
}

export function where(
  cond: Uint8Array, cShape: Shape, a: DataArray, aShape: Shape, b: DataArray, bShape: Shape, outShape: Shape,
): DataArray {
  const out = allocLike(a, sizeOf(outShape));
  forEachStrided(
    outShape,
    [broadcastStrides(cShape, outShape), broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)],
    (i, o) => {
      out[i] = cond[o[0]] ? a[o[1]] : b[o[2]];
    },
  );
  return out;
}
