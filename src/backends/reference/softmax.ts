import type { DataArray } from '../../core/dtype.js';
import { allocLike } from './util.js';

function softmaxImpl(x: DataArray, outer: number, size: number, inner: number, log: boolean): DataArray {
  const out = allocLike(x, x.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * size * inner + j;
      let max = -Infinity;
      for (let i = 0; i < size; i++) max = Math.max(max, x[base + i * inner]);
      let sum = 0;
      for (let i = 0; i < size; i++) sum += Math.exp(x[base + i * inner] - max);
      const logSum = Math.log(sum);
      for (let i = 0; i < size; i++) {
        const z = x[base + i * inner] - max;
        out[base + i * inner] = log ? z - logSum : Math.exp(z) / sum;
      }
    }
  }
  return out;
}

export function softmax(x: DataArray, outer: number, size: number, inner: number): DataArray {
  return softmaxImpl(x, outer, size, inner, false);
}

export function logSoftmax(x: DataArray, outer: number, size: number, inner: number): DataArray {
  return softmaxImpl(x, outer, size, inner, true);
}
