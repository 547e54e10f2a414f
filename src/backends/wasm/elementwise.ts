import type { DataArray, DType } from '../../core/dtype.js';
import { sizeOf, type Shape } from '../../core/shape.js';
import type { BinaryOp, UnaryOp } from '../../backend/kernels.js';
import { binary as refBinary, unary as refUnary, where as refWhere } from '../reference/elementwise.js';

/**
 * Float32 elementwise fast paths as monomorphic JS loops. These ops are memory-bound and cheap
 * next to GEMM, so a round trip through wasm memory (copy in, copy out) would cost as much as it
 * saves; what the reference loses is the per-element call through an op table and the strided
 * odometer for broadcasts. Every loop computes the same double-precision expression as the
 * reference and rounds once on store, so results are bit-identical to it.
 */

type Loop = (x: Float32Array, out: Float32Array) => void;

const UNARY: Partial<Record<UnaryOp, Loop>> = {
  relu: (x, o) => { for (let i = 0; i < x.length; i++) { const v = x[i]; o[i] = v > 0 || v !== v ? v : 0; } },
  neg: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = -x[i]; },
  abs: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.abs(x[i]); },
  square: (x, o) => { for (let i = 0; i < x.length; i++) { const v = x[i]; o[i] = v * v; } },
  sqrt: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.sqrt(x[i]); },
  exp: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.exp(x[i]); },
  log: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.log(x[i]); },
  tanh: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.tanh(x[i]); },
  reciprocal: (x, o) => { for (let i = 0; i < x.length; i++) o[i] = 1 / x[i]; },
  sigmoid: (x, o) => {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      o[i] = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
    }
  },
};

export function unary(op: UnaryOp, x: DataArray): DataArray {
  const loop = UNARY[op];
  if (!loop || !(x instanceof Float32Array)) return refUnary(op, x);
  const out = new Float32Array(x.length);
  loop(x, out);
  return out;
}

type ArithOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum';
const ARITH = new Set<BinaryOp>(['add', 'sub', 'mul', 'div', 'maximum', 'minimum']);

/**
 * How a broadcast operand walks the output: out is viewed as [outer, mid, inner] and the operand
 * holds one value per mid index (a bias [N] in [B, N], a channel bias [C, 1, 1] in [N, C, H, W],
 * a scalar). Null when its non-1 axes are not one contiguous run matching the output.
 */
export function blockView(shape: Shape, outShape: Shape): { outer: number; mid: number; inner: number } | null {
  const r = outShape.length;
  const s = [...new Array<number>(r - shape.length).fill(1), ...shape];
  let first = -1;
  let last = -1;
  let gap = false;
  for (let d = 0; d < r; d++) {
    if (outShape[d] === 1) continue; // size-1 axes change no index
    if (s[d] === 1) {
      if (first >= 0) gap = true; // a broadcast axis after the run has started
      continue;
    }
    if (s[d] !== outShape[d] || gap) return null;
    if (first < 0) first = d;
    last = d;
  }
  if (first < 0) return { outer: 1, mid: 1, inner: sizeOf(outShape) };
  return { outer: sizeOf(outShape.slice(0, first)), mid: sizeOf(outShape.slice(first, last + 1)), inner: sizeOf(outShape.slice(last + 1)) };
}

function same(op: ArithOp, a: Float32Array, b: Float32Array, o: Float32Array): void {
  const n = o.length;
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) o[i] = a[i] + b[i]; break;
    case 'sub': for (let i = 0; i < n; i++) o[i] = a[i] - b[i]; break;
    case 'mul': for (let i = 0; i < n; i++) o[i] = a[i] * b[i]; break;
    case 'div': for (let i = 0; i < n; i++) o[i] = a[i] / b[i]; break;
    case 'maximum': for (let i = 0; i < n; i++) { const x = a[i], y = b[i]; o[i] = x >= y || x !== x ? x : y; } break;
    case 'minimum': for (let i = 0; i < n; i++) { const x = a[i], y = b[i]; o[i] = x <= y || x !== x ? x : y; } break;
  }
}

/** out = full ⊙ part (or part ⊙ full when `swap`), `part` broadcast along [outer, ·, inner]. */
function blocked(op: ArithOp, full: Float32Array, part: Float32Array, o: Float32Array, v: { outer: number; mid: number; inner: number }, swap: boolean): void {
  const { outer, mid, inner } = v;
  let k = 0;
  for (let t = 0; t < outer; t++) {
    for (let m = 0; m < mid; m++) {
      const c = part[m];
      const end = k + inner;
      switch (op) {
        case 'add': for (; k < end; k++) o[k] = full[k] + c; break;
        case 'mul': for (; k < end; k++) o[k] = full[k] * c; break;
        case 'sub':
          if (swap) for (; k < end; k++) o[k] = c - full[k];
          else for (; k < end; k++) o[k] = full[k] - c;
          break;
        case 'div':
          if (swap) for (; k < end; k++) o[k] = c / full[k];
          else for (; k < end; k++) o[k] = full[k] / c;
          break;
        case 'maximum':
          for (; k < end; k++) {
            const x = swap ? c : full[k], y = swap ? full[k] : c;
            o[k] = x >= y || x !== x ? x : y;
          }
          break;
        case 'minimum':
          for (; k < end; k++) {
            const x = swap ? c : full[k], y = swap ? full[k] : c;
            o[k] = x <= y || x !== x ? x : y;
          }
          break;
      }
    }
  }
}

type CompareOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
const COMPARE = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/** Comparison of x[i] with y[i] (yStep 1) or with one value y[0] per block (yStep 0). */
function compareRun(op: CompareOp, x: Float32Array, xs: number, y: Float32Array, ys: number, o: Uint8Array, at: number, len: number, swap: boolean): void {
  // With swap the roles flip: compute y ⋄ x, so flip the operator instead of the operands.
  const eff: CompareOp = !swap ? op : op === 'lt' ? 'gt' : op === 'gt' ? 'lt' : op === 'le' ? 'ge' : op === 'ge' ? 'le' : op;
  let i = xs, j = ys;
  const step = ys === -1 ? 0 : 1;
  if (step === 0) j = 0;
  const end = at + len;
  // +(boolean) compiles to a flag-set, not a branch: comparisons of real data (e.g. the relu
  // gradient mask x > 0) are close to random, and a mispredicted branch per element cost 2.5×.
  switch (eff) {
    case 'eq': for (let k = at; k < end; k++, i++, j += step) o[k] = +(x[i] === y[j]); break;
    case 'ne': for (let k = at; k < end; k++, i++, j += step) o[k] = +(x[i] !== y[j]); break;
    case 'lt': for (let k = at; k < end; k++, i++, j += step) o[k] = +(x[i] < y[j]); break;
    case 'le': for (let k = at; k < end; k++, i++, j += step) o[k] = +(x[i] <= y[j]); break;
    case 'gt': for (let k = at; k < end; k++, i++, j += step) o[k] = +(x[i] > y[j]); break;
    case 'ge': for (let k = at; k < end; k++, i++, j += step) o[k] = +(x[i] >= y[j]); break;
  }
}

function compare(op: CompareOp, a: Float32Array, aShape: Shape, b: Float32Array, bShape: Shape, outShape: Shape): Uint8Array | null {
  const n = sizeOf(outShape);
  const out = new Uint8Array(n);
  if (a.length === n && b.length === n) {
    compareRun(op, a, 0, b, 0, out, 0, n, false);
    return out;
  }
  const aFull = a.length === n;
  if (!aFull && b.length !== n) return null;
  const v = blockView(aFull ? bShape : aShape, outShape);
  if (!v) return null;
  const full = aFull ? a : b;
  const part = aFull ? b : a;
  let k = 0;
  for (let t = 0; t < v.outer; t++) {
    for (let m = 0; m < v.mid; m++) {
      // A one-element view of the broadcast value, compared against a run of `inner` elements.
      compareRun(op, full, k, part.subarray(m, m + 1), -1, out, k, v.inner, !aFull);
      k += v.inner;
    }
  }
  return out;
}

export function binary(op: BinaryOp, a: DataArray, aShape: Shape, b: DataArray, bShape: Shape, outShape: Shape, outDtype: DType): DataArray {
  if (COMPARE.has(op) && a instanceof Float32Array && b instanceof Float32Array) {
    const r = compare(op as CompareOp, a, aShape, b, bShape, outShape);
    if (r) return r;
  }
  if (!ARITH.has(op) || outDtype !== 'float32' || !(a instanceof Float32Array) || !(b instanceof Float32Array)) {
    return refBinary(op, a, aShape, b, bShape, outShape, outDtype);
  }
  const n = sizeOf(outShape);
  const aFull = a.length === n;
  const bFull = b.length === n;
  if (aFull && bFull) {
    const out = new Float32Array(n);
    same(op as ArithOp, a, b, out);
    return out;
  }
  if (aFull || bFull) {
    const v = blockView(aFull ? bShape : aShape, outShape);
    if (v) {
      const out = new Float32Array(n);
      if (aFull) blocked(op as ArithOp, a, b, out, v, false);
      else blocked(op as ArithOp, b, a, out, v, true);
      return out;
    }
  }
  return refBinary(op, a, aShape, b, bShape, outShape, outDtype);
}

/**
 * Float32 select with the condition at full size and each branch either full or one value
 * (leakyRelu, clamp gradients, masked losses). Other broadcasts use the reference.
 */
export function where(cond: Uint8Array, cShape: Shape, a: DataArray, aShape: Shape, b: DataArray, bShape: Shape, outShape: Shape): DataArray {
  const n = sizeOf(outShape);
  const simple = (x: DataArray) => x.length === n || x.length === 1;
  if (!(a instanceof Float32Array) || !(b instanceof Float32Array) || cond.length !== n || !simple(a) || !simple(b) || n === 1) {
    return refWhere(cond, cShape, a, aShape, b, bShape, outShape);
  }
  const out = new Float32Array(n);
  const aFull = a.length === n;
  const bFull = b.length === n;
  if (aFull && bFull) for (let i = 0; i < n; i++) out[i] = cond[i] ? a[i] : b[i];
  else if (aFull) { const bv = b[0]; for (let i = 0; i < n; i++) out[i] = cond[i] ? a[i] : bv; }
  else if (bFull) { const av = a[0]; for (let i = 0; i < n; i++) out[i] = cond[i] ? av : b[i]; }
  else { const av = a[0], bv = b[0]; for (let i = 0; i < n; i++) out[i] = cond[i] ? av : bv; }
  return out;
}
