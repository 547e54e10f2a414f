import type { DataArray } from '../../core/dtype.js';
import { sizeOf, stridesOf, type Shape } from '../../core/shape.js';
import type { ReduceOp } from '../../backend/kernels.js';
import { reduce as refReduce } from '../reference/reduce.js';

/**
 * Float32 sum over any set of axes (bias gradients: [0]; BatchNorm statistics: [0, 2, 3]) in one
 * pass over the input in memory order, accumulating in float64 — no transposed copy as in the
 * reference. For a fixed output element its inputs arrive in increasing memory order, i.e. in
 * the lexicographic order of the reduced axes, which is exactly the reference's summation order,
 * so results are bit-identical.
 */
export function reduce(op: ReduceOp, x: DataArray, shape: Shape, axes: readonly number[]): DataArray {
  if (op !== 'sum' || !(x instanceof Float32Array) || axes.length === 0) return refReduce(op, x, shape, axes);
  const rank = shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (const a of axes) reduced[a] = true;
  const outShape = shape.filter((_, d) => !reduced[d]);
  const outStrides = stridesOf(outShape);
  // Output stride of each input axis (0 on reduced axes).
  const step = new Array<number>(rank).fill(0);
  for (let d = 0, j = 0; d < rank; d++) if (!reduced[d]) step[d] = outStrides[j++];
  const acc = new Float64Array(sizeOf(outShape));
  const n = x.length;
  if (n > 0) {
    // The trailing axes that are all reduced (or all kept) form one contiguous inner run: for
    // [N, C, H, W] over (0, 2, 3) a run of H·W per channel instead of W, so the odometer below
    // steps once per plane rather than once per row (~25% less CPU on [64, 16, 26, 26]). The
    // additions happen in the same order either way.
    let first = rank - 1;
    while (first > 0 && reduced[first - 1] === reduced[rank - 1]) first--;
    let inner = 1;
    for (let d = first; d < rank; d++) inner *= shape[d];
    const innerStep = reduced[rank - 1] ? 0 : 1;
    const idx = new Array<number>(rank).fill(0);
    let o = 0;
    for (let i = 0; i < n; i += inner) {
      if (innerStep === 0) {
        let s = acc[o];
        for (let j = i; j < i + inner; j++) s += x[j];
        acc[o] = s;
      } else {
        for (let j = 0; j < inner; j++) acc[o + j] += x[i + j];
      }
      for (let d = first - 1; d >= 0; d--) {
        idx[d]++;
        o += step[d];
        if (idx[d] < shape[d]) break;
        o -= step[d] * shape[d];
        idx[d] = 0;
      }
    }
  }
  return Float32Array.from(acc);
}
