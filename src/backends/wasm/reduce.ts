import type { DataArray } from '../../core/dtype.js';
import { sizeOf, type Shape } from '../../core/shape.js';
import type { ReduceOp } from '../../backend/kernels.js';
import { reduce as refReduce } from '../reference/reduce.js';

/**
 * Float32 sum over one contiguous run of axes (the bias gradient sums the leading batch axis) as
 * an [outer, red, inner] walk with float64 accumulators: no transposed copy as in the reference,
 * rows read in memory order, and the same additions in the same order, so bit-identical results.
 */
export function reduce(op: ReduceOp, x: DataArray, shape: Shape, axes: readonly number[]): DataArray {
  const contiguous = axes.every((ax, i) => i === 0 || ax === axes[i - 1] + 1);
  if (op !== 'sum' || !(x instanceof Float32Array) || axes.length === 0 || !contiguous) return refReduce(op, x, shape, axes);
  const outer = sizeOf(shape.slice(0, axes[0]));
  const red = sizeOf(shape.slice(axes[0], axes[axes.length - 1] + 1));
  const inner = sizeOf(shape.slice(axes[axes.length - 1] + 1));
  const out = new Float32Array(outer * inner);
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    let k = o * red * inner;
    for (let r = 0; r < red; r++) {
      for (let j = 0; j < inner; j++) acc[j] += x[k++];
    }
    for (let j = 0; j < inner; j++) out[o * inner + j] = acc[j];
  }
  return out;
}
