import type { DType } from '../../core/dtype.js';
import { sizeOf, type Shape } from '../../core/shape.js';
import type { BinaryOp, FusedActivation, Pool2dParams, UnaryOp } from '../../backend/kernels.js';
import { binary as jsBinary, blockView, unary as jsUnary } from './elementwise.js';
import { maxPool2d as jsMaxPool2d, maxPool2dBackward as jsMaxPool2dBackward } from './pool2d.js';
import { around, biasAct as refBiasAct, biasActBackward as refBiasActBackward, reluBackward as refReluBackward } from '../reference/fused.js';
import { JOB_BIAS_ACT_BWD, JOB_BLOCKED, JOB_FULL_BINARY, JOB_MAXPOOL, JOB_MAXPOOL_BWD, JOB_RELU, JOB_RELU_BWD, JOB_ROW_BIAS, threadsFor } from './jobs.js';
import { Resident, type Buf, type WasmRuntime } from './runtime.js';

/**
 * The memory-bound kernels that are worth a trip through wasm memory: relu, its gradient, max
 * pooling and a bias-style add/multiply. In JS the first three branch on the sign/order of the data, which is close to random, so a mispredicted
 * branch per element made them cost as much as a convolution; in wasm they are branch-free
 * (f32x4.max; select) and the copies in and out are cheaper than the mispredictions.
 */
/** Below this many elements a broadcast add/mul stays in JS (the wasm call's fixed cost). */
export const BLOCKED_MIN = 4096;
/**
 * Same-shape float32 + − × ÷ at or above this size go through wasm. Measured at 524,288 elements
 * (a ResNet residual sum), 2 threads: the JS loop plus a fresh output ~1.4–2.4 ms, this ~0.6 ms.
 */
export const FULL_MIN = 65536;
const FULL_MODES: Partial<Record<BinaryOp, number>> = { add: 0, sub: 1, mul: 2, div: 3 };

/** Rows per partial column sum of the Linear-bias gradient; must match ROW_BLOCK in assembly/elementwise.ts. */
export const ROW_BLOCK = 32;

/** True when a buffer holds float32 values (a Float32Array or a float32 resident block). */
export function isF32(b: Buf): boolean {
  return b instanceof Resident ? b.dtype === 'float32' : b instanceof Float32Array;
}

export function makeWasmElementwise(rt: WasmRuntime) {
  const arr = (b: Buf) => rt.array(b);
  function unary(op: UnaryOp, x: Buf): Buf {
    if (op !== 'relu' || !isF32(x) || x.length < 1024) return jsUnary(op, arr(x));
    if (!rt.canHold(8 * x.length)) return jsUnary(op, arr(x));
    rt.reset();
    const px = rt.ptr(x);
    const py = rt.output(x.length);
    rt.runJob([JOB_RELU, x.length, px, py], threadsFor(x.length, rt.threads));
    return rt.finish(py, x.length);
  }

  /**
   * Measured at [64, 16, 26, 26] (the benchmark CNN's first activation), one thread, CPU time:
   * the JS reference (mask multiply plus a NaN test per element) 2.4 ms at best, this ~1 ms.
   */
  function reluBackward(x: Buf, dy: Buf): Buf {
    const n = dy.length;
    if (!isF32(x) || !isF32(dy) || n < 1024 || x.length !== n || !rt.canHold(12 * n)) {
      return refReluBackward(arr(x), arr(dy));
    }
    rt.reset();
    const px = rt.ptr(x);
    const pdy = rt.ptr(dy);
    const pdx = rt.output(n);
    rt.runJob([JOB_RELU_BWD, n, px, pdy, pdx], threadsFor(n, rt.threads));
    return rt.finish(pdx, n);
  }

  /**
   * add/mul of a full tensor and one broadcast along [outer, ·, inner] with long inner runs (a
   * conv bias [C, 1, 1] over [N, C, H, W]): SIMD runs in wasm. Measured at [64, 16, 26, 26], one
   * thread, CPU time: the JS loop 1.4 ms at best, this ~0.7 ms (mostly the copies). Everything
   * else, and short runs (a Linear bias: inner = 1), stays in JS.
   */
  function binary(op: BinaryOp, a: Buf, aShape: Shape, b: Buf, bShape: Shape, outShape: Shape, outDtype: DType): Buf {
    if (outDtype === 'float32' && isF32(a) && isF32(b)) {
      const n = sizeOf(outShape);
      const aFull = a.length === n, bFull = b.length === n;
      const mode = FULL_MODES[op];
      // Same shapes (a residual sum, a gradient product): SIMD across threads.
      if (mode !== undefined && aFull && bFull && n >= FULL_MIN && rt.canHold(12 * n)) {
        rt.reset();
        const pa = rt.ptr(a);
        const pb = rt.ptr(b);
        const po = rt.output(n);
        rt.runJob([JOB_FULL_BINARY, mode, n, pa, pb, po], threadsFor(n, rt.threads));
        return rt.finish(po, n);
      }
      // A broadcast add/mul; both orders: + and × of two floats are commutative, NaN aside (any NaN is a NaN).
      if ((op === 'add' || op === 'mul') && n >= BLOCKED_MIN && aFull !== bFull) {
        const v = blockView(aFull ? bShape : aShape, outShape);
        if (v && v.inner >= 16 && rt.canHold(8 * n + 4 * v.mid)) {
          rt.reset();
          const px = rt.ptr(aFull ? a : b);
          const pp = rt.ptr(aFull ? b : a);
          const py = rt.output(n);
          rt.runJob([JOB_BLOCKED, op === 'mul' ? 1 : 0, v.outer, v.mid, v.inner, px, pp, py], threadsFor(n, rt.threads, v.outer * v.mid));
          return rt.finish(py, n);
        }
      }
    }
    return jsBinary(op, arr(a), aShape, arr(b), bShape, outShape, outDtype);
  }

  function maxPool2d(x: Buf, p: Pool2dParams): { out: Buf; argmax: Buf } {
    const outLen = p.n * p.c * p.outH * p.outW;
    if (!isF32(x) || outLen === 0 || !rt.canHold(4 * x.length + 8 * outLen)) return jsMaxPool2d(arr(x), p);
    rt.reset();
    const px = rt.ptr(x);
    // Both outputs resident (in a scope): the backward pass reads argmax in place.
    const py = rt.output(outLen);
    let pa: number;
    try {
      pa = rt.output(outLen);
    } catch (e) {
      rt.dropOutput(py);
      throw e;
    }
    const nt = threadsFor(outLen * p.kh * p.kw, rt.threads, p.n * p.c);
    rt.runJob([JOB_MAXPOOL, p.n * p.c, p.h, p.w, p.kh, p.kw, p.strideH, p.strideW, p.padTop, p.padLeft, p.outH, p.outW, px, py, pa], nt);
    return { out: rt.finish(py, outLen), argmax: rt.finish(pa, outLen, 'int32') };
  }

  /**
   * dx of max pooling: zero, then each dy added at its argmax (per plane, so threads split by
   * planes and each plane keeps the reference's order). In JS the fresh multi-megabyte dx and
   * the copies of it into the next wasm kernel cost more than the scatter itself; here dx is
   * written once, resident. Small tensors stay in JS.
   */
  function maxPool2dBackward(dy: Buf, argmax: Buf, p: Pool2dParams): Buf {
    const planes = p.n * p.c, planeIn = p.h * p.w, planeOut = p.outH * p.outW;
    const n = planes * planeIn;
    if (!isF32(dy) || n < BLOCKED_MIN || dy.length !== planes * planeOut || argmax.length !== dy.length || !rt.canHold(4 * n + 8 * dy.length)) {
      return jsMaxPool2dBackward(arr(dy), arr(argmax) as Int32Array, p);
    }
    rt.reset();
    const pdy = rt.ptr(dy);
    const pa = rt.ptr(argmax);
    const pdx = rt.output(n);
    rt.runJob([JOB_MAXPOOL_BWD, planes, planeIn, planeOut, pdy, pa, pdx], threadsFor(n, rt.threads, planes));
    return rt.finish(pdx, n);
  }

  /**
   * y = act(x + bias) in one pass: a channel bias (conv; runs of any length, short ones take the
   * scalar tail) as the blocked kernel's add + relu mode, a bias along the last axis (Linear) row
   * by row. Tiny tensors stay in JS.
   */
  function biasAct(x: Buf, shape: Shape, bias: Buf, axis: number, act: FusedActivation): Buf {
    const [outer, size, inner] = around(shape, axis);
    const n = x.length;
    if (!isF32(x) || !isF32(bias) || n < BLOCKED_MIN || !rt.canHold(8 * n + 4 * size)) {
      return refBiasAct(arr(x), shape, arr(bias), axis, act);
    }
    rt.reset();
    const px = rt.ptr(x);
    const pb = rt.ptr(bias);
    const py = rt.output(n);
    const relu = act === 'relu' ? 1 : 0;
    if (inner === 1) rt.runJob([JOB_ROW_BIAS, outer, size, px, pb, py, relu], threadsFor(n, rt.threads, outer));
    else rt.runJob([JOB_BLOCKED, relu ? 2 : 0, outer, size, inner, px, pb, py], threadsFor(n, rt.threads, outer * size));
    return rt.finish(py, n);
  }

  /**
   * dx = dy·act'(y) and dbias in one pass. The bias sums come back from wasm as float64 pieces
   * (per run, or per block of ROW_BLOCK rows) and are added here in a fixed order, so the result
   * does not depend on the thread count.
   */
  function biasActBackward(y: Buf, dy: Buf, shape: Shape, axis: number, act: FusedActivation): { dx: Buf; dbias: Buf } {
    const [outer, size, inner] = around(shape, axis);
    const n = dy.length;
    const pieces = inner === 1 ? Math.ceil(outer / ROW_BLOCK) * size : outer * size;
    if (!isF32(y) || !isF32(dy) || y.length !== n || n < BLOCKED_MIN || !rt.canHold(12 * n + 8 * pieces)) {
      return refBiasActBackward(arr(y), arr(dy), shape, axis, act);
    }
    rt.reset();
    const py = rt.ptr(y);
    const pdy = rt.ptr(dy);
    const ps = rt.alloc(8 * pieces);
    const pdx = rt.output(n);
    const units = inner === 1 ? Math.ceil(outer / ROW_BLOCK) : outer * size;
    rt.runJob([JOB_BIAS_ACT_BWD, outer, size, inner, py, pdy, pdx, ps, act === 'relu' ? 1 : 0], threadsFor(n, rt.threads, units));
    const sums = rt.viewF64(ps, pieces);
    const acc = new Float64Array(size);
    // Both layouts are [piece row][channel]: per-block column sums, or runs ordered (o, channel).
    for (let r = 0; r < pieces; r += size) for (let j = 0; j < size; j++) acc[j] += sums[r + j];
    const dbias = new Float32Array(size);
    dbias.set(acc);
    return { dx: rt.finish(pdx, n), dbias };
  }

  return { unary, binary, reluBackward, maxPool2d, maxPool2dBackward, biasAct, biasActBackward };
}
