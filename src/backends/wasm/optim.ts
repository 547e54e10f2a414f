import type { Kernels } from '../../backend/kernels.js';
import { JOB_ADAM, JOB_RMS, threadsFor } from './jobs.js';
import type { WasmRuntime } from './runtime.js';

/**
 * Below this many elements the kernel declines and the optimizer's TypeScript loop runs: copying
 * four arrays into wasm memory and three back is only repaid when there are many divisions to
 * share out.
 */
export const MIN_WASM_ADAM = 16384;

/**
 * The backend's adamFusedStep: optim's one-pass Adam in wasm (f64x2, split across threads), bit
 * for bit the TypeScript one: same contract, same results, so the optimizer may use either. The
 * slots are updated in place (copied in, stepped, copied back into the caller's arrays: no new
 * allocations).
 */
export function makeAdamFusedStep(rt: WasmRuntime): NonNullable<Kernels<Float32Array>['adamFusedStep']> {
  return function adamFusedStep(w, g, m, v, vMax, b1, b2, eps, t, l2, decay, s, apply) {
    const n = w.length;
    if (n < MIN_WASM_ADAM || !rt.canHold(4 * 5 * n + 1024)) return false;
    rt.reset();
    const pw = rt.put(w), pg = rt.put(g), pm = rt.put(m), pv = rt.put(v);
    const pMax = vMax === null ? 0 : rt.put(vMax);
    // The same two scalars the TypeScript computes once per call.
    const bc1 = 1 - b1 ** t;
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    // Two divisions and a square root per element cost about what 16 flops of GEMM do, which is
    // the measure threadsFor splits work by.
    rt.runJob([JOB_ADAM, n, pw, pg, pm, pv, pMax, apply ? 1 : 0], threadsFor(n * 16, rt.threads), [b1, b2, eps, bc1, bc2Sqrt, l2, decay, s]);
    m.set(rt.view(pm, n));
    v.set(rt.view(pv, n));
    if (vMax !== null) vMax.set(rt.view(pMax, n));
    if (apply) w.set(rt.view(pw, n));
    return true;
  };
}

/** As MIN_WASM_ADAM: below this the copies in and out are not repaid. */
export const MIN_WASM_RMS = 16384;

/**
 * The backend's rmsFusedStep: optim's one-pass RMSprop in wasm (f64x2, split across threads), bit
 * for bit the TypeScript one. sq, gAvg and buf are copied in, stepped and copied back in place.
 */
export function makeRmsFusedStep(rt: WasmRuntime): NonNullable<Kernels<Float32Array>['rmsFusedStep']> {
  return function rmsFusedStep(w, g, sq, gAvg, buf, alpha, eps, momentum, l2, s, apply) {
    const n = w.length;
    if (n < MIN_WASM_RMS || !rt.canHold(4 * 5 * n + 1024)) return false;
    rt.reset();
    const pw = rt.put(w), pg = rt.put(g), pSq = rt.put(sq);
    const pAvg = gAvg === null ? 0 : rt.put(gAvg);
    const pBuf = buf === null ? 0 : rt.put(buf);
    // One division and one square root per element: about Adam's cost (see makeAdamFusedStep).
    rt.runJob([JOB_RMS, n, pw, pg, pSq, pAvg, pBuf, apply ? 1 : 0], threadsFor(n * 12, rt.threads), [alpha, eps, momentum, l2, s]);
    sq.set(rt.view(pSq, n));
    if (gAvg !== null) gAvg.set(rt.view(pAvg, n));
    if (buf !== null) buf.set(rt.view(pBuf, n));
    if (apply) w.set(rt.view(pw, n));
    return true;
  };
}
