import { allocArray, dtypeOfArray, type DataArray } from '../../core/dtype.js';

/** A new zeroed buffer of the same dtype as `like`. */
export function allocLike(like: DataArray, size: number): DataArray {
  return allocArray(dtypeOfArray(like), size);
}

/**
 * Calls fn(outIndex, ...inputOffsets) for every element of outShape, where each input offset
 * follows that input's strides (0 on broadcast axes). An odometer, so no division per element.
 */
export function forEachStrided(outShape: readonly number[], strides: number[][], fn: (i: number, offs: number[]) => void): void {
  const rank = outShape.length;
  const size = outShape.reduce((a, b) => a * b, 1);
  if (size === 0) return;
  const idx = new Array<number>(rank).fill(0);
  const offs = strides.map(() => 0);
  for (let i = 0; i < size; i++) {
    fn(i, offs);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      for (let k = 0; k < strides.length; k++) offs[k] += strides[k][d];
      if (idx[d] < outShape[d]) break;
      for (let k = 0; k < strides.length; k++) offs[k] -= strides[k][d] * outShape[d];
      idx[d] = 0;
    }
  }
}
