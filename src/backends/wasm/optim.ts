import type { Kernels } from '../../backend/kernels.js';
import { adamUpdate as referenceAdam, rmspropUpdate as referenceRmsprop } from '../reference/optim.js';
import { JOB_ADAM, JOB_RMS, threadsFor } from './jobs.js';
import { Resident, type Buf, type WasmRuntime } from './runtime.js';
import { isF32 } from './wasmelementwise.js';

/**
 * Below this many elements the reference loop runs instead of wasm: copying four arrays into
 * wasm memory and three back is only repaid when there are many divisions to share out.
 */
export const MIN_WASM_ADAM = 16384;

/**
 * The backend's adamUpdate: one-pass Adam in wasm (f64x2, split across threads) for float32
 * parameters of at least MIN_WASM_ADAM elements, bit for bit the reference kernel
 * (src/backends/reference/optim.ts); float64 and small parameters run the reference loop. The
 * slots are updated in place: resident ones (parameters and slots persist there, see
 * WasmRuntime.persist) where they are, plain ones copied in, stepped and copied back.
 */
export function makeAdamUpdate(rt: WasmRuntime): Kernels<Buf>['adamUpdate'] {
  const arr = (b: Buf) => rt.array(b);
  return function adamUpdate(w, g, m, v, vMax, b1, b2, eps, t, l2, decay, s, apply) {
    const n = w.length;
    if (!isF32(w) || n < MIN_WASM_ADAM || !rt.canHold(4 * 5 * n + 1024)) {
      referenceAdam(arr(w), arr(g), arr(m), arr(v), rt.arrayOrNull(vMax), b1, b2, eps, t, l2, decay, s, apply);
      return;
    }
    rt.reset();
    // Resident buffers are stepped where they are; plain ones are copied in and back.
    const pw = rt.ptr(w), pg = rt.ptr(g), pm = rt.ptr(m), pv = rt.ptr(v);
    const pMax = vMax === null ? 0 : rt.ptr(vMax);
    // The same two scalars the reference computes once per call.
    const bc1 = 1 - b1 ** t;
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    // Two divisions and a square root per element cost about what 16 flops of GEMM do, which is
    // the measure threadsFor splits work by.
    rt.runJob([JOB_ADAM, n, pw, pg, pm, pv, pMax, apply ? 1 : 0], threadsFor(n * 16, rt.threads), [b1, b2, eps, bc1, bc2Sqrt, l2, decay, s]);
    copyBack(rt, m, pm, n);
    copyBack(rt, v, pv, n);
    if (vMax !== null) copyBack(rt, vMax, pMax, n);
    if (apply) copyBack(rt, w, pw, n);
  };
}

/** As MIN_WASM_ADAM: below this the copies in and out are not repaid. */
export const MIN_WASM_RMS = 16384;

/**
 * The backend's rmspropUpdate: one-pass RMSprop in wasm (f64x2, split across threads) for
 * float32 parameters of at least MIN_WASM_RMS elements, bit for bit the reference kernel; the
 * rest run the reference loop. sq, gAvg and buf are stepped in place, as Adam's slots are.
 */
export function makeRmspropUpdate(rt: WasmRuntime): Kernels<Buf>['rmspropUpdate'] {
  const arr = (b: Buf) => rt.array(b);
  return function rmspropUpdate(w, g, sq, gAvg, buf, alpha, eps, momentum, l2, s, apply) {
    const n = w.length;
    if (!isF32(w) || n < MIN_WASM_RMS || !rt.canHold(4 * 5 * n + 1024)) {
      referenceRmsprop(arr(w), arr(g), arr(sq), rt.arrayOrNull(gAvg), rt.arrayOrNull(buf), alpha, eps, momentum, l2, s, apply);
      return;
    }
    rt.reset();
    const pw = rt.ptr(w), pg = rt.ptr(g), pSq = rt.ptr(sq);
    const pAvg = gAvg === null ? 0 : rt.ptr(gAvg);
    const pBuf = buf === null ? 0 : rt.ptr(buf);
    // One division and one square root per element: about Adam's cost (see makeAdamUpdate).
    rt.runJob([JOB_RMS, n, pw, pg, pSq, pAvg, pBuf, apply ? 1 : 0], threadsFor(n * 12, rt.threads), [alpha, eps, momentum, l2, s]);
    copyBack(rt, sq, pSq, n);
    if (gAvg !== null) copyBack(rt, gAvg, pAvg, n);
    if (buf !== null) copyBack(rt, buf, pBuf, n);
    if (apply) copyBack(rt, w, pw, n);
  };
}

/** After an in-place job: a plain array gets its stepped copy back; a resident block already has it. */
function copyBack(rt: WasmRuntime, b: Buf, at: number, n: number): void {
  if (!(b instanceof Resident)) b.set(rt.view(at, n));
}
