import type { DataArray } from '../../core/dtype.js';
import { logSoftmax as refLogSoftmax, softmax as refSoftmax } from '../reference/softmax.js';

/**
 * Float32 softmax / log-softmax over contiguous rows (inner = 1, the classifier case): one row
 * at a time with the max, the exp-sum and the output in three tight passes, no strided index
 * arithmetic. Same double-precision expressions in the same order as the reference, so the
 * results are identical; strided layouts (inner > 1) use the reference.
 */
function rows(x: Float32Array, outer: number, size: number, log: boolean): Float32Array {
  const out = new Float32Array(x.length);
  for (let o = 0, base = 0; o < outer; o++, base += size) {
    let max = -Infinity;
    for (let i = base; i < base + size; i++) max = Math.max(max, x[i]);
    let sum = 0;
    for (let i = base; i < base + size; i++) sum += Math.exp(x[i] - max);
    if (log) {
      const logSum = Math.log(sum);
      for (let i = base; i < base + size; i++) out[i] = x[i] - max - logSum;
    } else {
      for (let i = base; i < base + size; i++) out[i] = Math.exp(x[i] - max) / sum;
    }
  }
  return out;
}

export function softmax(x: DataArray, outer: number, size: number, inner: number): DataArray {
  return x instanceof Float32Array && inner === 1 ? rows(x, outer, size, false) : refSoftmax(x, outer, size, inner);
}

export function logSoftmax(x: DataArray, outer: number, size: number, inner: number): DataArray {
  return x instanceof Float32Array && inner === 1 ? rows(x, outer, size, true) : refLogSoftmax(x, outer, size, inner);
}
