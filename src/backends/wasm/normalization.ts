import type { DataArray } from '../../core/dtype.js';
import type { Shape } from '../../core/shape.js';
import type { BatchNormGrads, BatchNormTrainResult } from '../../backend/kernels.js';
import { batchNormBackward as refBackward, batchNormCoefficients, batchNormForwardTrain as refForwardTrain, batchStatsFromSums, dims } from '../reference/fused.js';
import { JOB_BN_AFFINE, JOB_BN_BWD_DX, JOB_BN_BWD_SUMS, JOB_BN_STATS, threadsFor } from './jobs.js';
import type { Buf, WasmRuntime } from './runtime.js';
import { isF32 } from './wasmelementwise.js';

/** Below this many elements BatchNorm stays in TypeScript (the wasm calls' fixed cost). */
export const BN_MIN = 4096;

/**
 * BatchNorm's training forward and its backward in wasm: the passes over the data (per-run sums,
 * the affine map, the input gradient) run as jobs on the thread pool, two lanes of float64 at a
 * time; the per-channel arithmetic between them is the reference's, here in TypeScript, over
 * per-run sums added in image order. The affine map and the input gradient round exactly as the
 * reference does; the statistics can differ from it in the last bits of their float64 sums
 * (they are added in a different order), which float32 results almost never show.
 */
/**
 * The two per-run sums the jobs leave ([run][2], runs ordered image by image) added up per
 * channel, image after image: the reference's order of the per-image sums.
 */
function channelSums(sums: Float64Array, n: number, c: number): [Float64Array, Float64Array] {
  const s1 = new Float64Array(c), s2 = new Float64Array(c);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      s1[ch] += sums[2 * (b * c + ch)];
      s2[ch] += sums[2 * (b * c + ch) + 1];
    }
  }
  return [s1, s2];
}

export function makeBatchNorm(rt: WasmRuntime) {
  const arr = (b: Buf) => rt.array(b);
  function batchNormForwardTrain(x: Buf, shape: Shape, gamma: Buf | null, beta: Buf | null, eps: number): BatchNormTrainResult<Buf> {
    const [n, c, s] = dims(shape);
    const runs = n * c, m = n * s;
    if (!isF32(x) || x.length < BN_MIN || m === 0 || !rt.canHold(8 * x.length + 16 * runs + 32 * c)) {
      return refForwardTrain(arr(x), shape, rt.arrayOrNull(gamma), rt.arrayOrNull(beta), eps);
    }
    rt.reset();
    const px = rt.ptr(x);
    const pK = rt.alloc(8 * c);
    const pSums = rt.alloc(16 * runs);
    const pScale = rt.alloc(8 * c), pShift = rt.alloc(8 * c);
    const py = rt.output(x.length);
    const xs = arr(x);
    const shiftK = rt.viewF64(pK, c);
    for (let ch = 0; ch < c; ch++) shiftK[ch] = xs[ch * s];
    const nt = threadsFor(x.length, rt.threads, runs);
    rt.runJob([JOB_BN_STATS, c, s, runs, px, pK, pSums], nt);
    const mean = new Float32Array(c), variance = new Float32Array(c), invstd = new Float32Array(c);
    const scale = rt.viewF64(pScale, c), shift = rt.viewF64(pShift, c);
    const [sumD, sumD2] = channelSums(rt.viewF64(pSums, 2 * runs), n, c);
    batchStatsFromSums({ sumD, sumD2, shiftK, m, eps, gamma: rt.arrayOrNull(gamma), beta: rt.arrayOrNull(beta) }, { mean, variance, invstd, scale, shift });
    rt.runJob([JOB_BN_AFFINE, c, s, runs, px, pScale, pShift, py], nt);
    return { out: rt.finish(py, x.length), mean, invstd, variance };
  }

  function batchNormBackward(x: Buf, dy: Buf, shape: Shape, mean: Buf, invstd: Buf, gamma: Buf | null, batchStats: boolean): BatchNormGrads<Buf> {
    const [n, c, s] = dims(shape);
    const runs = n * c, m = n * s;
    if (!isF32(x) || !isF32(dy) || dy.length !== x.length || x.length < BN_MIN || m === 0
      || !rt.canHold(12 * x.length + 16 * runs + 40 * c)) {
      return refBackward(arr(x), arr(dy), shape, arr(mean), arr(invstd), rt.arrayOrNull(gamma), batchStats);
    }
    rt.reset();
    const px = rt.ptr(x), pdy = rt.ptr(dy);
    const pMean = rt.alloc(8 * c);
    const pSums = rt.alloc(16 * runs);
    const pKqr = rt.alloc(24 * c);
    const pdx = rt.output(x.length);
    rt.viewF64(pMean, c).set(arr(mean));
    const nt = threadsFor(x.length, rt.threads, runs);
    rt.runJob([JOB_BN_BWD_SUMS, c, s, runs, px, pdy, pMean, pSums], nt);
    const dgamma = new Float32Array(c), dbeta = new Float32Array(c);
    const kqr = rt.viewF64(pKqr, 3 * c);
    const [sumDy, sumDyXc] = channelSums(rt.viewF64(pSums, 2 * runs), n, c);
    batchNormCoefficients({ sumDy, sumDyXc, invstd: arr(invstd), gamma: rt.arrayOrNull(gamma), batchStats, m },
      { dgamma, dbeta, k: kqr.subarray(0, c), q: kqr.subarray(c, 2 * c), r: kqr.subarray(2 * c, 3 * c) });
    rt.runJob([JOB_BN_BWD_DX, c, s, runs, px, pdy, pMean, pKqr, pdx], nt);
    return { dx: rt.finish(pdx, x.length), dgamma, dbeta };
  }

  return { batchNormForwardTrain, batchNormBackward };
}
