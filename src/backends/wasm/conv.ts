import type { Conv2dParams } from '../../backend/kernels.js';
import { conv2d as refConv2d, conv2dBackwardFilter as refBackwardFilter, conv2dBackwardInput as refBackwardInput } from '../reference/conv.js';
import { JOB_CONV_BWD_FILTER, JOB_CONV_BWD_INPUT, JOB_CONV_FWD, threadsFor } from './jobs.js';
import { align64, type Buf, type WasmRuntime } from './runtime.js';
import { isF32 } from './wasmelementwise.js';

/** Job words 1..16: the geometry in the order assembly/conv.ts's Geo class declares it. */
function geometry(p: Conv2dParams): number[] {
  return [p.n, p.cIn, p.h, p.w, p.cOut, p.kh, p.kw, p.strideH, p.strideW, p.padTop, p.padLeft,
    p.dilationH, p.dilationW, p.groups, p.outH, p.outW];
}

/**
 * Per-thread scratch: gemm packing buffers plus one image-group column matrix (K × P floats) and
 * 16 spare bytes that im2col's whole-vector row copies may write past its last row.
 */
function workspace(rt: WasmRuntime, p: Conv2dParams): number {
  const k = (p.cIn / p.groups) * p.kh * p.kw;
  return align64(rt.gemmWsBytes + k * p.outH * p.outW * 4 + 16);
}

function flops(p: Conv2dParams): number {
  return 2 * p.n * p.cOut * (p.cIn / p.groups) * p.kh * p.kw * p.outH * p.outW;
}

/**
 * Weight-gradient chunks: one on one thread (a single partial, no extra rounding), else four per
 * thread so the shared counter can rebalance when a thread loses its core (see assembly/conv.ts).
 */
export function filterChunks(n: number, threads: number): number {
  return threads <= 1 ? 1 : Math.min(n, 4 * threads);
}

/**
 * The weight [cOut, cIn/groups, kh, kw] as per-group transposes (K × cOutG): the input gradient's
 * GEMM reads Wᵀ, and transposing once here is cheaper than gathering it again for every image.
 */
function transposeWeight(w: Float32Array, p: Conv2dParams): Float32Array {
  const cOutG = p.cOut / p.groups;
  const k = w.length / p.cOut;
  const out = new Float32Array(w.length);
  for (let g = 0; g < p.groups; g++) {
    const base = g * cOutG * k;
    for (let o = 0; o < cOutG; o++) {
      for (let i = 0; i < k; i++) out[base + i * cOutG + o] = w[base + o * k + i];
    }
  }
  return out;
}

/**
 * Conv forward / input-gradient / weight-gradient via im2col + the wasm GEMM, images split across
 * threads (bottom padding/right padding need no code: they only bound outH/outW, which are given).
 */
export function makeConv(rt: WasmRuntime) {
  const arr = (b: Buf) => rt.array(b);
  function conv2d(x: Buf, w: Buf, p: Conv2dParams): Buf {
    if (!isF32(x) || !isF32(w)) return refConv2d(arr(x), arr(w), p);
    const outLen = p.n * p.cOut * p.outH * p.outW;
    if (outLen === 0) return new Float32Array(0);
    const nt = threadsFor(flops(p), rt.threads, p.n);
    if (!rt.canHold(4 * (x.length + w.length + outLen) + workspace(rt, p) * nt)) return refConv2d(arr(x), arr(w), p);
    rt.reset();
    const px = rt.ptr(x);
    const pw = rt.ptr(w);
    const wsStride = workspace(rt, p);
    const ws = rt.alloc(wsStride * nt);
    const py = rt.output(outLen);
    rt.runJob([JOB_CONV_FWD, ...geometry(p), px, pw, py, 0, ws, wsStride], nt);
    return rt.finish(py, outLen);
  }

  function conv2dBackwardInput(dy: Buf, w: Buf, p: Conv2dParams): Buf {
    if (!isF32(dy) || !isF32(w)) return refBackwardInput(arr(dy), arr(w), p);
    const outLen = p.n * p.cIn * p.h * p.w;
    if (outLen === 0) return new Float32Array(0);
    const nt = threadsFor(flops(p), rt.threads, p.n);
    if (!rt.canHold(4 * (dy.length + w.length + outLen) + workspace(rt, p) * nt)) return refBackwardInput(arr(dy), arr(w), p);
    rt.reset();
    const pdy = rt.ptr(dy);
    const pw = rt.put(transposeWeight(arr(w) as Float32Array, p));
    const wsStride = workspace(rt, p);
    const ws = rt.alloc(wsStride * nt);
    const pdx = rt.output(outLen);
    rt.runJob([JOB_CONV_BWD_INPUT, ...geometry(p), pdy, pw, pdx, 0, ws, wsStride], nt);
    return rt.finish(pdx, outLen);
  }

  function conv2dBackwardFilter(x: Buf, dy: Buf, p: Conv2dParams): Buf {
    if (!isF32(x) || !isF32(dy)) return refBackwardFilter(arr(x), arr(dy), p);
    const dwLen = p.cOut * (p.cIn / p.groups) * p.kh * p.kw;
    if (dwLen === 0) return new Float32Array(0);
    const nt = threadsFor(flops(p), rt.threads, p.n);
    const chunks = filterChunks(p.n, nt);
    const partStride = align64(dwLen * 4);
    if (!rt.canHold(4 * (x.length + dy.length) + partStride * chunks + workspace(rt, p) * nt)) return refBackwardFilter(arr(x), arr(dy), p);
    rt.reset();
    const px = rt.ptr(x);
    const pdy = rt.ptr(dy);
    const parts = rt.alloc(partStride * chunks);
    const wsStride = workspace(rt, p);
    const ws = rt.alloc(wsStride * nt);
    rt.runJob([JOB_CONV_BWD_FILTER, ...geometry(p), px, pdy, parts, partStride, ws, wsStride, 0, chunks], nt);
    // Each chunk summed its images into a transposed partial (per group K × cOutG); adding the
    // few partials in chunk order and transposing here is O(chunks · |dW|).
    const sum = rt.take(parts, dwLen);
    for (let c = 1; c < chunks; c++) {
      const part = rt.view(parts + c * partStride, dwLen);
      for (let i = 0; i < dwLen; i++) sum[i] += part[i];
    }
    const cOutG = p.cOut / p.groups;
    const k = dwLen / p.cOut;
    const out = new Float32Array(dwLen);
    for (let g = 0; g < p.groups; g++) {
      const base = g * cOutG * k;
      for (let i = 0; i < k; i++) {
        for (let o = 0; o < cOutG; o++) out[base + o * k + i] = sum[base + i * cOutG + o];
      }
    }
    return out;
  }

  return { conv2d, conv2dBackwardInput, conv2dBackwardFilter };
}
