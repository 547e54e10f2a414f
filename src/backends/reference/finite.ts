import { isFloat, dtypeOfArray, type DataArray } from '../../core/dtype.js';

/** Non-finite values in one float array: the common all-finite case is one branch-free pass. */
function countNonFinite(a: DataArray): number {
  if (!isFloat(dtypeOfArray(a))) return 0;
  // x·0 is 0 for finite x and NaN for NaN/±Inf, so one sum tells whether any element is bad;
  // four independent sums avoid a chain of dependent adds (2.5-3x faster than one).
  let z0 = 0;
  let z1 = 0;
  let z2 = 0;
  let z3 = 0;
  const n = a.length - (a.length % 4);
  let i = 0;
  for (; i < n; i += 4) {
    z0 += a[i] * 0;
    z1 += a[i + 1] * 0;
    z2 += a[i + 2] * 0;
    z3 += a[i + 3] * 0;
  }
  for (; i < a.length; i++) z0 += a[i] * 0;
  if (z0 + z1 + z2 + z3 === 0) return 0;
  let count = 0;
  for (let j = 0; j < a.length; j++) if (!Number.isFinite(a[j])) count++;
  return count;
}

/** Per-buffer counts of NaN/±Inf values, as int32 [xs.length] (see Kernels.nonFiniteCount). */
export function nonFiniteCount(xs: readonly DataArray[]): DataArray {
  const out = new Int32Array(xs.length);
  for (let k = 0; k < xs.length; k++) out[k] = Math.min(countNonFinite(xs[k]), 0x7fffffff);
  return out;
}
