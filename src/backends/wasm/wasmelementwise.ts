import type { DataArray, DType } from '../../core/dtype.js';
import { sizeOf, type Shape } from '../../core/shape.js';
import type { BinaryOp, FusedActivation, Pool2dParams, UnaryOp } from '../../backend/kernels.js';
import { binary as jsBinary, blockView, unary as jsUnary } from './elementwise.js';
import { maxPool2d as jsMaxPool2d } from './pool2d.js';
import { around, biasAct as refBiasAct, biasActBackward as refBiasActBackward, reluBackward as refReluBackward } from '../reference/fused.js';
import { JOB_BIAS_ACT_BWD, JOB_BLOCKED, JOB_FULL_BINARY, JOB_MAXPOOL, JOB_RELU, JOB_RELU_BWD, JOB_ROW_BIAS, threadsFor } from './jobs.js';
import type { WasmRuntime } from './runtime.js';

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

export function makeWasmElementwise(rt: WasmRuntime) {
  function unary(op: UnaryOp, x: DataArray): DataArray {
    if (op !== 'relu' || !(x instanceof Float32Array) || x.length < 1024) return jsUnary(op, x);
    if (!rt.canHold(8 * x.length)) return jsUnary(op, x);
    rt.reset();
    const px = rt.put(x);
    const py = rt.alloc(4 * x.length);
    rt.runJob([JOB_RELU, x.length, px, py], threadsFor(x.length, rt.threads));
    return rt.take(py, x.length);
  }

  /**
   * Measured at [64, 16, 26, 26] (the benchmark CNN's first activation), one thread, CPU time:
   * the JS reference (mask multiply plus a NaN test per element) 2.4 ms at best, this ~1 ms.
   */
  function reluBackward(x: DataArray, dy: DataArray): DataArray {
    const n = dy.length;
    if (!(x instanceof Float32Array) || !(dy instanceof Float32Array) || n < 1024 || x.length !== n || !rt.canHold(12 * n)) {
      return refReluBackward(x, dy);
    }
    rt.reset();
    const px = rt.put(x);
    const pdy = rt.put(dy);
    const pdx = rt.alloc(4 * n);
    rt.runJob([JOB_RELU_BWD, n, px, pdy, pdx], threadsFor(n, rt.threads));
    return rt.take(pdx, n);
  }

  /**
   * add/mul of a full tensor and one broadcast along [outer, ·, inner] with long inner runs (a
   * conv bias [C, 1, 1] over [N, C, H, W]): SIMD runs in wasm. Measured at [64, 16, 26, 26], one
   * thread, CPU time: the JS loop 1.4 ms at best, this ~0.7 ms (mostly the copies). Everything
   * else, and short runs (a Linear bias: inner = 1), stays in JS.
   */
  function binary(op: BinaryOp, a: DataArray, aShape: Shape, b: DataArray, bShape: Shape, outShape: Shape, outDtype: DType): DataArray {
    if (outDtype === 'float32' && a instanceof Float32Array && b instanceof Float32Array) {
      const n = sizeOf(outShape);
      const aFull = a.length === n, bFull = b.length === n;
      const mode = FULL_MODES[op];
      // Same shapes (a residual sum, a gradient product): SIMD across threads.
      if (mode !== undefined && aFull && bFull && n >= FULL_MIN && rt.canHold(12 * n)) {
        rt.reset();
        const pa = rt.put(a);
        const pb = rt.put(b);
        const po = rt.alloc(4 * n);
        rt.runJob([JOB_FULL_BINARY, mode, n, pa, pb, po], threadsFor(n, rt.threads));
        return rt.take(po, n);
      }
      // A broadcast add/mul; both orders: + and × of two floats are commutative, NaN aside (any NaN is a NaN).
      if ((op === 'add' || op === 'mul') && n >= BLOCKED_MIN && aFull !== bFull) {
        const v = blockView(aFull ? bShape : aShape, outShape);
        if (v && v.inner >= 16 && rt.canHold(8 * n + 4 * v.mid)) {
          rt.reset();
          const px = rt.put(aFull ? a : b);
          const pp = rt.put(aFull ? b : a);
          const py = rt.alloc(4 * n);
          rt.runJob([JOB_BLOCKED, op === 'mul' ? 1 : 0, v.outer, v.mid, v.inner, px, pp, py], threadsFor(n, rt.threads, v.outer * v.mid));
          return rt.take(py, n);
        }
      }
    }
    return jsBinary(op, a, aShape, b, bShape, outShape, outDtype);
  }

  function maxPool2d(x: DataArray, p: Pool2dParams): { out: DataArray; argmax: Int32Array } {
    const outLen = p.n * p.c * p.outH * p.outW;
    if (!(x instanceof Float32Array) || outLen === 0 || !rt.canHold(4 * x.length + 8 * outLen)) return jsMaxPool2d(x, p);
    rt.reset();
    const px = rt.put(x);
    const py = rt.alloc(4 * outLen);
    const pa = rt.alloc(4 * outLen);
    const nt = threadsFor(outLen * p.kh * p.kw, rt.threads, p.n * p.c);
    rt.runJob([JOB_MAXPOOL, p.n * p.c, p.h, p.w, p.kh, p.kw, p.strideH, p.strideW, p.padTop, p.padLeft, p.outH, p.outW, px, py, pa], nt);
    return { out: rt.take(py, outLen), argmax: rt.takeInt32(pa, outLen) };
  }

  /**
   * y = act(x + bias) in one pass: a channel bias (conv; runs of any length, short ones take the
   * scalar tail) as the blocked kernel's add + relu mode, a bias along the last axis (Linear) row
   * by row. Tiny tensors stay in JS.
   */
  function biasAct(x: DataArray, shape: Shape, bias: DataArray, axis: number, act: FusedActivation): DataArray {
    const [outer, size, inner] = around(shape, axis);
    const n = x.length;
    if (!(x instanceof Float32Array) || !(bias instanceof Float32Array) || n < BLOCKED_MIN || !rt.canHold(8 * n + 4 * size)) {
      return refBiasAct(x, shape, bias, axis, act);
    }
    rt.reset();
    const px = rt.put(x);
    const pb = rt.put(bias);
    const py = rt.alloc(4 * n);
    const relu = act === 'relu' ? 1 : 0;
    if (inner === 1) rt.runJob([JOB_ROW_BIAS, outer, size, px, pb, py, relu], threadsFor(n, rt.threads, outer));
    else rt.runJob([JOB_BLOCKED, relu ? 2 : 0, outer, size, inner, px, pb, py], threadsFor(n, rt.threads, outer * size));
    return rt.take(py, n);
  }

  /**
   * dx = dy·act'(y) and dbias in one pass. The bias sums come back from wasm as float64 pieces
   * (per run, or per block of ROW_BLOCK rows) and are added here in a fixed order, so the result
   * does not depend on the thread count.
   */
  function biasActBackward(y: DataArray, dy: DataArray, shape: Shape, axis: number, act: FusedActivation): { dx: DataArray; dbias: DataArray } {
    const [outer, size, inner] = around(shape, axis);
    const n = dy.length;
    const pieces = inner === 1 ? Math.ceil(outer / ROW_BLOCK) * size : outer * size;
    if (!(y instanceof Float32Array) || !(dy instanceof Float32Array) || y.length !== n || n < BLOCKED_MIN || !rt.canHold(12 * n + 8 * pieces)) {
      return refBiasActBackward(y, dy, shape, axis, act);
    }
    rt.reset();
    const py = rt.put(y);
    const pdy = rt.put(dy);
    const pdx = rt.alloc(4 * n);
    const ps = rt.alloc(8 * pieces);
    const units = inner === 1 ? Math.ceil(outer / ROW_BLOCK) : outer * size;
    rt.runJob([JOB_BIAS_ACT_BWD, outer, size, inner, py, pdy, pdx, ps, act === 'relu' ? 1 : 0], threadsFor(n, rt.threads, units));
    const sums = rt.viewF64(ps, pieces);
    const acc = new Float64Array(size);
    // Both layouts are [piece row][channel]: per-block column sums, or runs ordered (o, channel).
    for (let r = 0; r < pieces; r += size) for (let j = 0; j < size; j++) acc[j] += sums[r + j];
    const dbias = new Float32Array(size);
    dbias.set(acc);
    return { dx: rt.take(pdx, n), dbias };
  }

  return { unary, binary, reluBackward, maxPool2d, biasAct, biasActBackward };
}
