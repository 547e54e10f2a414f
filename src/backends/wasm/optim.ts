import type { Kernels } from '../../backend/kernels.js';
import { JOB_ADAM, threadsFor } from './jobs.js';
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
export function makeAdamFusedStep(rt: WasmRuntime): NonNullable<Kernels['adamFusedStep']> {
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
