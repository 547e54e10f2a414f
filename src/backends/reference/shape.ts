import type { DataArray } from '../../core/dtype.js';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../core/shape.js';
import { allocLike, forEachStrided } from './util.js';

export function transpose(x: DataArray, shape: Shape, perm: readonly number[]): DataArray {
  const inStrides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]);
  const out = allocLike(x, x.length);
  forEachStrided(outShape, [perm.map((p) => inStrides[p])], (i, o) => {
    out[i] = x[o[0]];
  });
  return out;
}

export function broadcastTo(x: DataArray, shape: Shape, outShape: Shape): DataArray {
  const out = allocLike(x, sizeOf(outShape));
  forEachStrided(outShape, [broadcastStrides(shape, outShape)], (i, o) => {
    out[i] = x[o[0]];
  });
  return out;
}

function offsetOf(begin: readonly number[], strides: readonly number[]): number {
  let off = 0;
  for (let d = 0; d < begin.length; d++) off += begin[d] * strides[d];
  return off;
}

export function slice(x: DataArray, shape: Shape, begin: readonly number[], step: readonly number[], outShape: Shape): DataArray {
  const strides = stridesOf(shape);
  const base = offsetOf(begin, strides);
  const out = allocLike(x, sizeOf(outShape));
  forEachStrided(outShape, [strides.map((s, d) => s * step[d])], (i, o) => {
    out[i] = x[base + o[0]];
  });
  return out;
}

export function sliceGrad(src: DataArray, srcShape: Shape, shape: Shape, begin: readonly number[], step: readonly number[]): DataArray {
  const strides = stridesOf(shape);
  const base = offsetOf(begin, strides);
  const out = allocLike(src, sizeOf(shape));
  forEachStrided(srcShape, [strides.map((s, d) => s * step[d])], (i, o) => {
    out[base + o[0]] = src[i];
  });
  return out;
}

export function pad(x: DataArray, shape: Shape, pads: readonly (readonly [number, number])[], value: number): DataArray {
  const outShape = shape.map((d, i) => d + pads[i][0] + pads[i][1]);
  const out = allocLike(x, sizeOf(outShape));
  if (value !== 0) out.fill(value);
  const outStrides = stridesOf(outShape);
  const base = offsetOf(pads.map((p) => p[0]), outStrides);
  forEachStrided(shape, [outStrides], (i, o) => {
    out[base + o[0]] = x[i];
  });
  return out;
}

export function concat(xs: readonly DataArray[], shapes: readonly Shape[], axis: number): DataArray {
  const outer = sizeOf(shapes[0].slice(0, axis));
  const inner = sizeOf(shapes[0].slice(axis + 1));
  const total = shapes.reduce((acc, s) => acc + s[axis], 0);
  const out = allocLike(xs[0], outer * total * inner);
  let at = 0;
  for (let t = 0; t < xs.length; t++) {
    const chunk = shapes[t][axis] * inner;
    for (let o = 0; o < outer; o++) {
      out.set(xs[t].subarray(o * chunk, (o + 1) * chunk), o * total * inner + at);
    }
    at += chunk;
  }
  return out;
}

export function indexSelect(x: DataArray, shape: Shape, indices: Int32Array, axis: number): DataArray {
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const dim = shape[axis];
  const out = allocLike(x, outer * indices.length * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < indices.length; j++) {
      const src = (o * dim + indices[j]) * inner;
      out.set(x.subarray(src, src + inner), (o * indices.length + j) * inner);
    }
  }
  return out;
}

export function indexAdd(src: DataArray, srcShape: Shape, indices: Int32Array, axis: number, shape: Shape): DataArray {
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const dim = shape[axis];
  const out = allocLike(src, sizeOf(shape));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < indices.length; j++) {
      const dst = (o * dim + indices[j]) * inner;
      const from = (o * indices.length + j) * inner;
      for (let i = 0; i < inner; i++) out[dst + i] += src[from + i];
    }
  }
  void srcShape;
  return out;
}

/** Offset in x of element i of `index` (of indexShape) with its `axis` coordinate replaced by index[i]. */
function gatherOffsets(shape: Shape, index: Int32Array, indexShape: Shape, axis: number): Int32Array {
  const xStrides = stridesOf(shape);
  const offs = new Int32Array(index.length);
  const strides = xStrides.map((s, d) => (d === axis ? 0 : s));
  forEachStrided(indexShape, [strides], (i, o) => {
    offs[i] = o[0] + index[i] * xStrides[axis];
  });
  return offs;
}

export function gather(x: DataArray, shape: Shape, index: Int32Array, indexShape: Shape, axis: number): DataArray {
  const offs = gatherOffsets(shape, index, indexShape, axis);
  const out = allocLike(x, index.length);
  for (let i = 0; i < offs.length; i++) out[i] = x[offs[i]];
  return out;
}

export function scatterAdd(src: DataArray, index: Int32Array, indexShape: Shape, axis: number, shape: Shape): DataArray {
  const offs = gatherOffsets(shape, index, indexShape, axis);
  const out = allocLike(src, sizeOf(shape));
  for (let i = 0; i < offs.length; i++) out[offs[i]] += src[i];
  return out;
}
