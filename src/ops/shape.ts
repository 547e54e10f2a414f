import { GradkitError, fmtShape } from '../core/errors.js';
import { broadcastShapes, checkShape, normalizeAxis, shapesEqual, sizeOf } from '../core/shape.js';
import { record, registerRules, type RuleTable, type Spec } from '../autograd/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkArray, checkTensor, kernels, sumToShape, wrap } from './util.js';

/** What each shape primitive's rule needs: no saved tensors, only shapes and positions. */
export interface ShapeSpecs {
  /** shape: the input's. */
  reshape: Spec<[], { shape: readonly number[] }>;
  /** inverse: the permutation that undoes the forward one. */
  permute: Spec<[], { inverse: number[] }>;
  expand: Spec<[], { shape: readonly number[] }>;
  slice: Spec<[], { shape: readonly number[]; begin: number[]; step: number[] }>;
  /** sizes: each input's extent along axis. */
  concat: Spec<[], { axis: number; sizes: number[] }>;
  /** before: the padding before each axis. */
  pad: Spec<[], { shape: readonly number[]; before: number[] }>;
}

/** The shape family's primitives. */
export type ShapePrimitive = keyof ShapeSpecs;

/** Same values in a new shape; one dimension may be -1 (inferred). Shares the buffer. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('reshape', 'input', x);
  const dims = [...checkArray<number>('reshape', 'shape', shape)];
  const infer = dims.indexOf(-1);
  if (infer !== dims.lastIndexOf(-1)) throw new GradkitError('reshape', `only one dimension can be -1, got ${fmtShape(dims)}`);
  if (infer >= 0) {
    const known = sizeOf(dims.filter((_, i) => i !== infer));
    if (known === 0 || x.size % known !== 0) {
      throw new GradkitError('reshape', `cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
    }
    dims[infer] = x.size / known;
  }
  checkShape('reshape', dims);
  if (sizeOf(dims) !== x.size) {
    throw new GradkitError('reshape', `cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)} (${sizeOf(dims)} elements)`);
  }
  if (shapesEqual(dims, x.shape)) return x;
  // A view: the same buffer under the new shape (not the source's name: it is another tensor).
  const y = x.view(dims);
  y.name = undefined;
  return record('reshape', y, [x], [], { shape: x.shape });
}

/** Collapses axes startAxis..endAxis (inclusive) into one. */
export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  checkTensor('flatten', 'input', x);
  if (x.rank === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', startAxis, x.rank);
  const e = normalizeAxis('flatten', endAxis, x.rank);
  if (s > e) throw new GradkitError('flatten', `startAxis (${startAxis}) comes after endAxis (${endAxis})`);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

/** Reorders axes: output axis i is input axis perm[i]. Without perm, reverses the axes. */
export function permute(x: Tensor, perm?: readonly number[]): Tensor {
  checkTensor('permute', 'input', x);
  if (perm !== undefined) checkArray('permute', 'perm', perm);
  const p = perm ? perm.map((a) => normalizeAxis('permute', a, x.rank)) : x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || new Set(p).size !== x.rank) {
    throw new GradkitError('permute', `perm [${perm?.join(', ')}] is not a permutation of the ${x.rank} axes of ${fmtShape(x.shape)}`);
  }
  if (p.every((a, i) => a === i)) return x;
  const outShape = p.map((a) => x.shape[a]);
  const y = wrap(kernels().transpose(x.handle, x.shape, p), outShape);
  const inverse = new Array<number>(p.length);
  p.forEach((a, i) => (inverse[a] = i));
  return record('permute', y, [x], [], { inverse });
}

/** Swaps two axes (default: the last two, i.e. the matrix transpose). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  checkTensor('transpose', 'input', x);
  if (x.rank < 2 && axis0 === -2 && axis1 === -1) return x;
  const a = normalizeAxis('transpose', axis0, x.rank);
  const b = normalizeAxis('transpose', axis1, x.rank);
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/** Removes size-1 axes (all of them, or those listed; listing a non-1 axis is an error). */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  checkTensor('squeeze', 'input', x);
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const axes = (typeof axis === 'number' ? [axis] : [...axis]).map((a) => normalizeAxis('squeeze', a, x.rank));
  for (const a of axes) {
    if (x.shape[a] !== 1) throw new GradkitError('squeeze', `axis ${a} has size ${x.shape[a]}, not 1 (shape ${fmtShape(x.shape)})`);
  }
  return reshape(x, x.shape.filter((_, i) => !axes.includes(i)));
}

/** Inserts a size-1 axis at `axis` (may be rank, i.e. at the end; negative counts from the end of the result). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  checkTensor('unsqueeze', 'input', x);
  const a = normalizeAxis('unsqueeze', axis, x.rank + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Broadcasts to `shape` (materialized); the gradient sums back. -1 keeps a dimension. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('expand', 'input', x);
  checkArray('expand', 'shape', shape);
  const lead = shape.length - x.rank;
  if (lead < 0) throw new GradkitError('expand', `cannot expand ${fmtShape(x.shape)} to fewer dimensions ${fmtShape(shape)}`);
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d));
  checkShape('expand', target);
  const out = broadcastShapes('expand', x.shape, target);
  if (!shapesEqual(out, target)) throw new GradkitError('expand', `cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  if (shapesEqual(target, x.shape)) return x;
  const y = wrap(kernels().broadcastTo(x.handle, x.shape, target), target);
  return record('expand', y, [x], [], { shape: x.shape });
}

/** Broadcasts to a larger shape without copying semantics (alias of broadcastTo). */
export const expand = broadcastTo;

/**
 * Strided slice, NumPy style: per axis, begin (inclusive), end (exclusive), step (positive).
 * Negative begin/end count from the end; missing trailing axes are taken whole; out-of-range
 * bounds are clipped as in Python. `slice(x, [1], [3])` = x[1:3].
 */
export function slice(x: Tensor, begin: readonly number[], end?: readonly (number | undefined)[], step?: readonly number[]): Tensor {
  checkTensor('slice', 'input', x);
  checkArray('slice', 'begin', begin);
  if (end !== undefined) checkArray('slice', 'end', end);
  if (step !== undefined) checkArray('slice', 'step', step);
  if (begin.length > x.rank || (end && end.length > x.rank) || (step && step.length > x.rank)) {
    throw new GradkitError('slice', `got bounds for more axes than the tensor has (shape ${fmtShape(x.shape)})`);
  }
  const b: number[] = [];
  const st: number[] = [];
  const outShape: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    const d = x.shape[i];
    const s = step?.[i] ?? 1;
    if (!Number.isInteger(s) || s <= 0) throw new GradkitError('slice', `step for axis ${i} must be a positive integer, got ${s}`);
    const clip = (v: number): number => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const bi = begin[i] ?? 0;
    const ei = end?.[i] ?? d;
    if (!Number.isInteger(bi) || !Number.isInteger(ei)) throw new GradkitError('slice', `bounds for axis ${i} must be integers, got ${bi}:${ei}`);
    const lo = clip(bi);
    const hi = clip(ei);
    b.push(lo);
    st.push(s);
    outShape.push(Math.max(0, Math.ceil((hi - lo) / s)));
  }
  if (shapesEqual(outShape, x.shape)) return x;
  const y = wrap(kernels().slice(x.handle, x.shape, b, st, outShape), outShape);
  return record('slice', y, [x], [], { shape: x.shape, begin: b, step: st });
}

/** Joins tensors along an existing axis. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new GradkitError('concat', 'needs a non-empty array of tensors');
  xs.forEach((t, i) => checkTensor('concat', `tensor ${i}`, t));
  const first = xs[0];
  if (first.rank === 0) throw new GradkitError('concat', 'cannot concatenate 0-d tensors; use stack');
  const ax = normalizeAxis('concat', axis, first.rank);
  for (let i = 1; i < xs.length; i++) {
    const t = xs[i];
    if (t.dtype !== first.dtype) throw new GradkitError('concat', `tensor ${i} has dtype ${t.dtype}, tensor 0 has ${first.dtype}`);
    if (t.rank !== first.rank || t.shape.some((d: number, j: number) => j !== ax && d !== first.shape[j])) {
      throw new GradkitError('concat', `tensor ${i} has shape ${fmtShape(t.shape)}, incompatible with tensor 0's ${fmtShape(first.shape)} along axis ${ax} (all other dimensions must match)`);
    }
  }
  if (xs.length === 1) return first;
  const outShape = [...first.shape];
  outShape[ax] = xs.reduce((acc, t) => acc + t.shape[ax], 0);
  const y = wrap(kernels().concat(xs.map((t) => t.handle), xs.map((t) => t.shape), ax), outShape);
  return record('concat', y, [...xs], [], { axis: ax, sizes: xs.map((t) => t.shape[ax]) });
}

/** Joins tensors of equal shape along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new GradkitError('stack', 'needs a non-empty array of tensors');
  xs.forEach((t, i) => {
    checkTensor('stack', `tensor ${i}`, t);
    if (!shapesEqual(t.shape, xs[0].shape)) {
      throw new GradkitError('stack', `tensor ${i} has shape ${fmtShape(t.shape)}, tensor 0 has ${fmtShape(xs[0].shape)}; stack needs equal shapes`);
    }
  });
  const ax = normalizeAxis('stack', axis, xs[0].rank + 1);
  return concat(xs.map((t) => unsqueeze(t, ax)), ax);
}

/** Splits into pieces along `axis`: a number of equal pieces, or a list of sizes. */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  checkTensor('split', 'input', x);
  const ax = normalizeAxis('split', axis, x.rank);
  const d = x.shape[ax];
  let list: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0 || d % sizes !== 0) {
      throw new GradkitError('split', `cannot split axis ${ax} of size ${d} into ${sizes} equal pieces`);
    }
    list = new Array<number>(sizes).fill(d / sizes);
  } else {
    list = [...sizes];
    const total = list.reduce((a, b) => a + b, 0);
    if (list.some((s) => !Number.isInteger(s) || s < 0) || total !== d) {
      throw new GradkitError('split', `sizes [${list.join(', ')}] must be non-negative integers summing to ${d} (axis ${ax} of ${fmtShape(x.shape)})`);
    }
  }
  let at = 0;
  return list.map((s) => {
    const b = new Array<number>(x.rank).fill(0);
    const e = [...x.shape];
    b[ax] = at;
    e[ax] = at + s;
    at += s;
    return slice(x, b, e);
  });
}

/**
 * Constant padding. `pads` lists [before, after] per axis, starting from the first axis; axes
 * not listed are not padded. Negative padding is rejected (use slice).
 */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  checkTensor('pad', 'input', x);
  checkArray('pad', 'pads', pads);
  pads.forEach((p, i) => checkArray('pad', `padding for axis ${i} ([before, after])`, p));
  if (pads.length > x.rank) throw new GradkitError('pad', `got padding for ${pads.length} axes, tensor has ${x.rank} (shape ${fmtShape(x.shape)})`);
  const full = x.shape.map((_, i) => pads[i] ?? [0, 0]);
  for (const [i, p] of full.entries()) {
    if (p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new GradkitError('pad', `padding for axis ${i} must be [before, after] non-negative integers, got [${p.join(', ')}]`);
    }
  }
  if (!Number.isFinite(value)) throw new GradkitError('pad', `pad value must be finite, got ${value}`);
  if (full.every((p) => p[0] === 0 && p[1] === 0)) return x;
  const outShape = x.shape.map((d, i) => d + full[i][0] + full[i][1]);
  const y = wrap(kernels().pad(x.handle, x.shape, full, value), outShape);
  return record('pad', y, [x], [], { shape: x.shape, before: full.map((p) => p[0]) });
}

const shapeRules: RuleTable<ShapePrimitive> = {
  reshape: (g, _saved, { shape }) => [reshape(g, shape)],
  permute: (g, _saved, { inverse }) => [permute(g, inverse)],
  expand: (g, _saved, { shape }) => [sumToShape(g, shape)],
  slice: (g, _saved, { shape, begin, step }) => [wrap(kernels().sliceGrad(g.handle, g.shape, shape, begin, step), shape)],
  concat: (g, _saved, { axis, sizes }) => {
    let at = 0;
    return sizes.map((size) => {
      const b = new Array<number>(g.rank).fill(0);
      const e = [...g.shape];
      b[axis] = at;
      e[axis] = at + size;
      at += size;
      return slice(g, b, e);
    });
  },
  pad: (g, _saved, { shape, before }) => [slice(g, before, before.map((b, i) => b + shape[i]))],
};
registerRules(shapeRules);
