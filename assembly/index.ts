// Entry point of the kernel module. Every parallel kernel is a "job": the JS side writes a block
// of i32 words into shared memory and each thread (the caller as tid 0, workers 1..nt-1) calls
// run(job, tid, nt) on the same block; the kernel itself decides which slice is tid's. Keeping the
// partitioning here means the worker script stays a few lines of generic JS.

import { gemm, GEMM_WS_BYTES, MR, MC, KC, microPeak, PEAK_KC } from './gemm';
import { convForward, convBackwardInput, convBackwardFilter, Geo } from './conv';
import { relu, maxPool, maxPoolBackward, reluBackward, blockedBinary, rowBias, biasActBackward, fullBinary } from './elementwise';
import { adamStep, AdamParams, rmsStep, RmsParams } from './optim';
import { bnStats, bnAffine, bnBackwardSums, bnBackwardDx } from './normalization';

export const JOB_GEMM: i32 = 1;
export const JOB_CONV_FWD: i32 = 2;
export const JOB_CONV_BWD_INPUT: i32 = 3;
export const JOB_CONV_BWD_FILTER: i32 = 4;
/** Pool self-check: thread tid stores tid + 1 at word1 + tid·word2 (bytes); tests use it. */
export const JOB_PROBE: i32 = 5;
/** relu: words 1 n, 2 x, 3 y. */
export const JOB_RELU: i32 = 6;
/** max pool: words 1..11 planes, h, w, kh, kw, sh, sw, padTop, padLeft, outH, outW; 12 x, 13 y, 14 argmax. */
export const JOB_MAXPOOL: i32 = 7;
/** max pool gradient: words 1 planes, 2 plane size in, 3 plane size out, 4 dy, 5 argmax, 6 dx. */
export const JOB_MAXPOOL_BWD: i32 = 20;
/** relu gradient: words 1 n, 2 x, 3 dy, 4 dx. */
export const JOB_RELU_BWD: i32 = 8;
/** full ⊙ broadcast block: words 1 mode (0 add, 1 mul, 2 add + relu), 2 outer, 3 mid, 4 inner, 5 x, 6 part, 7 y. */
export const JOB_BLOCKED: i32 = 9;

/**
 * Adam/AdamW step: words 1 n, 2 w, 3 g, 4 m, 5 v, 6 vMax (0: none), 7 apply; the f64 scalars
 * (AdamParams: b1, b2, eps, bc1, bc2Sqrt, l2, decay, s) at byte 64 of the job block.
 */
export const JOB_ADAM: i32 = 10;
/**
 * RMSprop step: words 1 n, 2 w, 3 g, 4 sq, 5 gAvg (0: none), 6 buf (0: none), 7 apply; the f64
 * scalars (RmsParams: alpha, eps, momentum, l2, s) at byte 64 of the job block.
 */
export const JOB_RMS: i32 = 19;
/** Linear bias (+ relu): words 1 rows, 2 cols, 3 x, 4 b, 5 y, 6 relu. */
export const JOB_ROW_BIAS: i32 = 11;
/** biasAct gradients: words 1 outer, 2 mid, 3 inner, 4 y, 5 dy, 6 dx, 7 sums (f64), 8 relu. */
export const JOB_BIAS_ACT_BWD: i32 = 12;
/** BatchNorm statistics: words 1 c, 2 s, 3 runs, 4 x, 5 shiftK (f64 [C]), 6 sums (f64 [runs][2]). */
export const JOB_BN_STATS: i32 = 14;
/** BatchNorm affine map: words 1 c, 2 s, 3 runs, 4 x, 5 scale (f64), 6 shift (f64), 7 y. */
export const JOB_BN_AFFINE: i32 = 15;
/** BatchNorm backward sums: words 1 c, 2 s, 3 runs, 4 x, 5 dy, 6 mean (f64), 7 sums (f64 [runs][2]). */
export const JOB_BN_BWD_SUMS: i32 = 16;
/** BatchNorm input gradient: words 1 c, 2 s, 3 runs, 4 x, 5 dy, 6 mean (f64), 7 k/q/r (f64 [3][C]), 8 dx. */
export const JOB_BN_BWD_DX: i32 = 17;
/** Same-shape arithmetic: words 1 mode (0 +, 1 −, 2 ×, 3 ÷), 2 n, 3 a, 4 b, 5 out. */
export const JOB_FULL_BINARY: i32 = 18;
/** GEMM ceiling probe (benchmark): words 1 trips, 2 scratch (PEAK_BYTES per slice; see gemm.ts microPeak). */
export const JOB_PEAK: i32 = 13;

/** Scratch bytes one thread needs for gemm (the JS side adds conv column buffers on top). */
export function gemmWorkspaceBytes(): i32 {
  return GEMM_WS_BYTES;
}

/** Flops per trip of the JOB_PEAK loop: one MR×8 tile over PEAK_KC. */
export function peakFlopsPerTrip(): i32 {
  return 2 * MR * 8 * PEAK_KC;
}

/** Scratch bytes per thread of the JOB_PEAK probe. */
export function peakBytes(): i32 {
  return (MR * KC + PEAK_KC * 8 + MR * 8) * 4 + 64;
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
 * pointers and wsStride in bytes), 19 a chunk counter the caller zeroes.
 *
 * The work is cut into chunks — whole matrices, or when there are few of them, blocks of 8-wide
 * column panels (each chunk packs only its own part of B), or when N is narrow, blocks of rows,
 * or when both are large a grid of one row block per thread × three column blocks (column
 * blocks alone each re-pack all of A; the grid packs half as much on two threads — measured at
 * 784×128×256 and 1024³, the difference stayed within this machine's ±10% run-to-run noise) —
 * about three per thread, and threads take chunks from the shared counter. On a busy machine a
 * descheduled thread then delays only its current chunk instead of half the job. Every element
 * is still computed by one chunk with the same K order, so results do not depend on threads.
 */
function runGemm(job: usize, tid: i32, nt: i32): void {
  const batch = word(job, 1), m = word(job, 2), n = word(job, 3), k = word(job, 4);
  const a = <usize>word(job, 5), rsA = word(job, 6), csA = word(job, 7), sA = word(job, 8);
  const b = <usize>word(job, 9), rsB = word(job, 10), csB = word(job, 11), sB = word(job, 12);
  const c = <usize>word(job, 13), ldc = word(job, 14), sC = word(job, 15);
  const beta = word(job, 16);
  const ws = <usize>word(job, 17) + <usize>tid * <usize>word(job, 18);
  let colBlock = n, rowBlock = m;
  if (nt > 1 && batch < 3 * nt) {
    const want = 3 * nt;
    if (n >= 16 * nt && m >= 4 * MC) {
      // Large on both sides: a grid of nt row blocks × 3 column blocks, so each chunk re-packs
      // only its rows of A (column chunks alone would each pack all of A).
      rowBlock = ((m + nt - 1) / nt + MR - 1) / MR * MR;
      const panels = (n + 7) >> 3;
      colBlock = max(2, (panels + 2) / 3) << 3;
    } else if (n >= 16 * nt) {
      const panels = (n + 7) >> 3;
      colBlock = max(2, (panels + want - 1) / want) << 3;
    } else {
      rowBlock = max(1, ((m + want - 1) / want + MR - 1) / MR) * MR;
    }
  }
  const nCol = (n + colBlock - 1) / colBlock, nRow = (m + rowBlock - 1) / rowBlock;
  const perMatrix = nCol * nRow;
  const chunks = batch * perMatrix;
  const counter = job + 19 * 4;
  for (;;) {
    const ch = atomic.add<i32>(counter, 1);
    if (ch >= chunks) break;
    const t = ch / perMatrix, r = ch % perMatrix;
    const i0 = (r / nCol) * rowBlock, j0 = (r % nCol) * colBlock;
    const i1 = min(m, i0 + rowBlock), j1 = min(n, j0 + colBlock);
    const at = a + (<usize>(t * sA + i0 * rsA) << 2);
    const bt = b + (<usize>(t * sB + j0 * csB) << 2);
    const ct = c + (<usize>(t * sC + i0 * ldc + j0) << 2);
    gemm(i1 - i0, j1 - j0, k, at, rsA, csA, bt, rsB, csB, ct, ldc, beta, ws);
  }
}

/**
 * Conv jobs. Words 1..16: the geometry (n, cIn, h, w, cOut, kh, kw, strideH, strideW, padTop,
 * padLeft, dilationH, dilationW, groups, outH, outW); 17, 18: the two inputs; 19: the output
 * (for the filter gradient: the base of per-chunk partial sums, 20: their stride in bytes);
 * 21: workspace base, 22: workspace stride per thread, 23: an image (or chunk) counter the caller
 * zeroes, 24: for the filter gradient, the number of chunks (see assembly/conv.ts).
 */
function runConv(kind: i32, job: usize, tid: i32, nt: i32): void {
  const geo = changetype<Geo>(job + 4);
  const in0 = <usize>word(job, 17), in1 = <usize>word(job, 18), out = <usize>word(job, 19);
  const ws = <usize>word(job, 21) + <usize>tid * <usize>word(job, 22);
  const counter = job + 23 * 4;
  if (kind == JOB_CONV_FWD) convForward(geo, in0, in1, out, ws, counter);
  else if (kind == JOB_CONV_BWD_INPUT) convBackwardInput(geo, in0, in1, out, ws, counter);
  else convBackwardFilter(geo, in0, in1, out, <usize>word(job, 20), ws, max(1, word(job, 24)), counter);
}

export function run(job: usize, tid: i32, nt: i32): void {
  const kind = word(job, 0);
  if (kind == JOB_GEMM) runGemm(job, tid, nt);
  else if (kind == JOB_PROBE) store<i32>(<usize>word(job, 1) + <usize>tid * <usize>word(job, 2), tid + 1);
  else if (kind == JOB_RELU) relu(word(job, 1), <usize>word(job, 2), <usize>word(job, 3), tid, nt);
  else if (kind == JOB_BLOCKED) {
    blockedBinary(word(job, 1), word(job, 2), word(job, 3), word(job, 4), <usize>word(job, 5), <usize>word(job, 6), <usize>word(job, 7), tid, nt);
  }
  else if (kind == JOB_RELU_BWD) reluBackward(word(job, 1), <usize>word(job, 2), <usize>word(job, 3), <usize>word(job, 4), tid, nt);
  else if (kind == JOB_MAXPOOL) {
    maxPool(word(job, 1), word(job, 2), word(job, 3), word(job, 4), word(job, 5), word(job, 6), word(job, 7),
      word(job, 8), word(job, 9), word(job, 10), word(job, 11), <usize>word(job, 12), <usize>word(job, 13), <usize>word(job, 14), tid, nt);
  }
  else if (kind == JOB_MAXPOOL_BWD) {
    maxPoolBackward(word(job, 1), word(job, 2), word(job, 3), <usize>word(job, 4), <usize>word(job, 5), <usize>word(job, 6), tid, nt);
  }
  else if (kind == JOB_ROW_BIAS) rowBias(word(job, 1), word(job, 2), <usize>word(job, 3), <usize>word(job, 4), <usize>word(job, 5), word(job, 6), tid, nt);
  else if (kind == JOB_BIAS_ACT_BWD) {
    biasActBackward(word(job, 1), word(job, 2), word(job, 3), <usize>word(job, 4), <usize>word(job, 5), <usize>word(job, 6), <usize>word(job, 7), word(job, 8), tid, nt);
  }
  else if (kind == JOB_BN_STATS) bnStats(word(job, 1), word(job, 2), word(job, 3), <usize>word(job, 4), <usize>word(job, 5), <usize>word(job, 6), tid, nt);
  else if (kind == JOB_BN_AFFINE) bnAffine(word(job, 1), word(job, 2), word(job, 3), <usize>word(job, 4), <usize>word(job, 5), <usize>word(job, 6), <usize>word(job, 7), tid, nt);
  else if (kind == JOB_BN_BWD_SUMS) bnBackwardSums(word(job, 1), word(job, 2), word(job, 3), <usize>word(job, 4), <usize>word(job, 5), <usize>word(job, 6), <usize>word(job, 7), tid, nt);
  else if (kind == JOB_BN_BWD_DX) {
    bnBackwardDx(word(job, 1), word(job, 2), word(job, 3), <usize>word(job, 4), <usize>word(job, 5), <usize>word(job, 6), <usize>word(job, 7), <usize>word(job, 8), tid, nt);
  }
  else if (kind == JOB_FULL_BINARY) fullBinary(word(job, 1), word(job, 2), <usize>word(job, 3), <usize>word(job, 4), <usize>word(job, 5), tid, nt);
  else if (kind == JOB_PEAK) microPeak(word(job, 1), <usize>word(job, 2) + <usize>tid * <usize>peakBytes());
  else if (kind == JOB_ADAM) {
    adamStep(word(job, 1), <usize>word(job, 2), <usize>word(job, 3), <usize>word(job, 4), <usize>word(job, 5),
      <usize>word(job, 6), word(job, 7), changetype<AdamParams>(job + 64), tid, nt);
  }
  else if (kind == JOB_RMS) {
    rmsStep(word(job, 1), <usize>word(job, 2), <usize>word(job, 3), <usize>word(job, 4), <usize>word(job, 5),
      <usize>word(job, 6), word(job, 7), changetype<RmsParams>(job + 64), tid, nt);
  }
  else runConv(kind, job, tid, nt);
}
