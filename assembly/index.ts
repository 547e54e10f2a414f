// Entry point of the kernel module. Every parallel kernel is a "job": the JS side writes a block
// of i32 words into shared memory and each thread (the caller as tid 0, workers 1..nt-1) calls
// run(job, tid, nt) on the same block; the kernel itself decides which slice is tid's. Keeping the
// partitioning here means the worker script stays a few lines of generic JS.

import { gemm, GEMM_WS_BYTES } from './gemm';
import { convForward, convBackwardInput, convBackwardFilter, Geo } from './conv';

export const JOB_GEMM: i32 = 1;
export const JOB_CONV_FWD: i32 = 2;
export const JOB_CONV_BWD_INPUT: i32 = 3;
export const JOB_CONV_BWD_FILTER: i32 = 4;

/** Scratch bytes one thread needs for gemm (the JS side adds conv column buffers on top). */
export function gemmWorkspaceBytes(): i32 {
  return GEMM_WS_BYTES;
}

/** Which micro-kernel this build carries (for describe()). */
export function microRows(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
}

// @ts-ignore: decorator
@inline function word(job: usize, i: i32): i32 {
  return load<i32>(job + (<usize>i << 2));
}

/**
 * Batched GEMM job. Words: 1 batch, 2 m, 3 n, 4 k, 5 a, 6 rsA, 7 csA, 8 strideA, 9 b, 10 rsB,
 * 11 csB, 12 strideB, 13 c, 14 ldc, 15 strideC, 16 beta, 17 ws, 18 wsStride (strides in elements,
 * pointers and wsStride in bytes). Splits whole matrices across threads when there are enough of
 * them, else columns of N in 8-wide panels (each thread then packs only its own B), else rows of M.
 */
function runGemm(job: usize, tid: i32, nt: i32): void {
  const batch = word(job, 1), m = word(job, 2), n = word(job, 3), k = word(job, 4);
  const a = <usize>word(job, 5), rsA = word(job, 6), csA = word(job, 7), sA = word(job, 8);
  const b = <usize>word(job, 9), rsB = word(job, 10), csB = word(job, 11), sB = word(job, 12);
  const c = <usize>word(job, 13), ldc = word(job, 14), sC = word(job, 15);
  const beta = word(job, 16);
  const ws = <usize>word(job, 17) + <usize>tid * <usize>word(job, 18);
  let b0 = 0, b1 = batch, i0 = 0, i1 = m, j0 = 0, j1 = n;
  if (nt > 1) {
    if (batch >= nt) {
      b0 = <i32>((<i64>batch * tid) / nt);
      b1 = <i32>((<i64>batch * (tid + 1)) / nt);
    } else if (n >= 16 * nt) {
      const panels = (n + 7) >> 3;
      j0 = min(n, <i32>((<i64>panels * tid) / nt) << 3);
      j1 = min(n, <i32>((<i64>panels * (tid + 1)) / nt) << 3);
    } else {
      const rows = (m + 3) >> 2;
      i0 = min(m, <i32>((<i64>rows * tid) / nt) << 2);
      i1 = min(m, <i32>((<i64>rows * (tid + 1)) / nt) << 2);
    }
  }
  if (i1 <= i0 || j1 <= j0) return;
  for (let t = b0; t < b1; t++) {
    const at = a + (<usize>(t * sA + i0 * rsA) << 2);
    const bt = b + (<usize>(t * sB + j0 * csB) << 2);
    const ct = c + (<usize>(t * sC + i0 * ldc + j0) << 2);
    gemm(i1 - i0, j1 - j0, k, at, rsA, csA, bt, rsB, csB, ct, ldc, beta, ws);
  }
}

/**
 * Conv jobs. Words 1..16: the geometry (n, cIn, h, w, cOut, kh, kw, strideH, strideW, padTop,
 * padLeft, dilationH, dilationW, groups, outH, outW); 17, 18: the two inputs; 19: the output
 * (for the filter gradient: the base of per-thread partial sums, 20: their stride in bytes);
 * 21: workspace base, 22: workspace stride per thread.
 */
function runConv(kind: i32, job: usize, tid: i32, nt: i32): void {
  const geo = changetype<Geo>(job + 4);
  const in0 = <usize>word(job, 17), in1 = <usize>word(job, 18), out = <usize>word(job, 19);
  const ws = <usize>word(job, 21) + <usize>tid * <usize>word(job, 22);
  if (kind == JOB_CONV_FWD) convForward(geo, in0, in1, out, ws, tid, nt);
  else if (kind == JOB_CONV_BWD_INPUT) convBackwardInput(geo, in0, in1, out, ws, tid, nt);
  else convBackwardFilter(geo, in0, in1, out + <usize>tid * <usize>word(job, 20), ws, tid, nt);
}

export function run(job: usize, tid: i32, nt: i32): void {
  const kind = word(job, 0);
  if (kind == JOB_GEMM) runGemm(job, tid, nt);
  else runConv(kind, job, tid, nt);
}
