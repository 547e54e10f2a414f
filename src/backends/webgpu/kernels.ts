/// <reference types="@webgpu/types" />
/**
 * The WebGPU kernels: WGSL compute shaders that enqueue work and return output handles at once
 * (only `read` waits). Data-movement kernels work on raw 32-bit words and ignore the dtype;
 * arithmetic kernels are generated per dtype (f32, or i32 for int32 and bool).
 */
import { GradkitError, fmtShape } from '../../core/errors.js';
import type { DType } from '../../core/dtype.js';
import { broadcastStrides, shapesEqual, sizeOf, stridesOf, type Shape } from '../../core/shape.js';
import type { Handle } from '../../backend/handle.js';
import type { BinaryOp, Conv2dParams, FusedActivation, Kernels, MatmulParams, Pool2dParams, ReduceOp, UnaryOp } from '../../backend/kernels.js';
import { asGpu, asHandle, checkDtype, type GpuContext, type GpuTensor } from './context.js';
import { INDEX, NAN, STRIDED, decl, f32Bits, i32Bits, prmDecl, stridedParams, wgslType } from './wgsl.js';

const MAIN_1D = '@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)';
const MAIN_ROW = '@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32)';

/** f32 helpers the unary ops use: accurate near 0 where the textbook formulas cancel. */
const MATH = /* wgsl */ `
${NAN}
fn log1p_(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  if (x > 1e7) { return log(x); }
  return log(u) * (x / (u - 1.0));
}
fn expm1_(x: f32) -> f32 {
  let u = exp(x);
  if (u == 1.0) { return x; }
  let um = u - 1.0;
  if (um == -1.0) { return -1.0; }
  if (u > 3.0e38) { return u; }
  return um * x / log(u);
}
fn tanh_(x: f32) -> f32 {
  if (abs(x) > 15.0) { return sign(x); }
  let t = expm1_(2.0 * x);
  return t / (t + 2.0);
}
fn sigmoid_(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
fn round_(x: f32) -> f32 {
  let f = floor(x);
  return select(f, f + 1.0, x - f >= 0.5);
}
fn erf_(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.5) {
    let x2 = x * x;
    return 1.1283791671 * x * (1.0 + x2 * (-0.3333333333 + x2 * (0.1 + x2 * (-0.0238095238 + x2 * 0.0046296296))));
  }
  // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7, below float32 resolution of erf there).
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
  return select(y, -y, x < 0.0);
}
// m^n by repeated squaring: exact wherever the result and the partial products are (5^2 = 25, where
// WGSL's pow, exp2(n·log2(m)), gives 24.999998 and int pow truncates it to 24).
fn powi_(m: f32, n: u32) -> f32 {
  var r = 1.0;
  var p = m;
  var k = n;
  loop {
    if ((k & 1u) == 1u) { r = r * p; }
    k = k >> 1u;
    if (k == 0u) { break; }
    p = p * p;
  }
  return r;
}
fn powf_(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  let m = abs(a);
  var r: f32;
  if (m == 0.0) {
    r = select(pinf_(), 0.0, b > 0.0);
  } else if (floor(b) == b && abs(b) <= 16777216.0) {
    r = powi_(m, u32(abs(b)));
    if (b < 0.0) { r = 1.0 / r; }
  } else {
    r = pow(m, b);
  }
  if (a < 0.0 || (a == 0.0 && (bitcast<u32>(a) & 0x80000000u) != 0u)) {
    if (floor(b) != b) { return select(nan_(), r, m == 0.0); }
    if (fract(b * 0.5) != 0.0) { r = -r; }
  }
  return r;
}
`;

const UNARY_F32: Record<UnaryOp, string> = {
  neg: '-x', abs: 'abs(x)', sqrt: 'sqrt(x)', exp: 'exp(x)', log: 'log(x)', log1p: 'log1p_(x)', expm1: 'expm1_(x)',
  sin: 'sin(x)', cos: 'cos(x)', tanh: 'tanh_(x)', sigmoid: 'sigmoid_(x)',
  relu: 'select(0.0, x, x > 0.0 || isnan_(x))', sign: 'select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0)',
  square: 'x * x', reciprocal: '1.0 / x', floor: 'floor(x)', ceil: 'ceil(x)', round: 'round_(x)',
  softplus: 'select(log1p_(exp(x)), x, x > 20.0)', erf: 'erf_(x)', logicalNot: 'i32(x == 0.0)',
};

/** int32/bool: exact integer forms where they exist, else the float op truncated back (as Int32Array stores do). */
function unaryI32(op: UnaryOp): string {
  switch (op) {
    case 'neg': return '-x';
    case 'abs': return 'abs(x)';
    case 'relu': return 'max(x, 0)';
    case 'sign': return 'sign(x)';
    case 'square': return 'x * x';
    case 'floor': case 'ceil': case 'round': return 'x';
    case 'logicalNot': return 'i32(x == 0)';
    default: return `i32(${UNARY_F32[op].replace(/\bx\b/g, 'f32(x)')})`;
  }
}

const BINARY_F32: Record<BinaryOp, string> = {
  add: 'a + b', sub: 'a - b', mul: 'a * b', div: 'a / b', pow: 'powf_(a, b)',
  maximum: 'select(b, a, a >= b || isnan_(a))', minimum: 'select(b, a, a <= b || isnan_(a))',
  eq: 'i32(a == b)', ne: 'i32(a != b)', lt: 'i32(a < b)', le: 'i32(a <= b)', gt: 'i32(a > b)', ge: 'i32(a >= b)',
  logicalAnd: 'i32(a != 0.0 && b != 0.0)', logicalOr: 'i32(a != 0.0 || b != 0.0)',
};

const BINARY_I32: Record<BinaryOp, string> = {
  add: 'a + b', sub: 'a - b', mul: 'a * b',
  // Truncating division like the CPU backends; x/0 stores ±Infinity into an Int32Array, i.e. 0.
  div: 'select(a / b, 0, b == 0)', pow: 'i32(powf_(f32(a), f32(b)))',
  maximum: 'max(a, b)', minimum: 'min(a, b)',
  eq: 'i32(a == b)', ne: 'i32(a != b)', lt: 'i32(a < b)', le: 'i32(a <= b)', gt: 'i32(a > b)', ge: 'i32(a >= b)',
  logicalAnd: 'i32(a != 0 && b != 0)', logicalOr: 'i32(a != 0 || b != 0)',
};

/** [before, size, after] of `shape` around `axis`. */
function around(shape: Shape, axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

const REDUCE: Record<ReduceOp, { f32: [string, string]; i32: [string, string] }> = {
  // [identity, combine(p, q)]
  sum: { f32: ['0.0', 'p + q'], i32: ['0', 'p + q'] },
  prod: { f32: ['1.0', 'p * q'], i32: ['1', 'p * q'] },
  // NaN wins, as in the reference backend.
  // p wins when p ≥ q or p is NaN; q otherwise (including a NaN q, since p ≥ NaN is false).
  max: { f32: ['ninf_()', 'select(q, p, p >= q || isnan_(p))'], i32: ['-2147483647 - 1', 'max(p, q)'] },
  min: { f32: ['pinf_()', 'select(q, p, p <= q || isnan_(p))'], i32: ['2147483647', 'min(p, q)'] },
};

/** Output window of pooling output i (prm from poolParams): plane, and the clipped tap ranges. */
const POOL_WINDOW = `
  let h = prm[1]; let w = prm[2]; let kh = i32(prm[3]); let kw = i32(prm[4]); let sh = i32(prm[5]); let sw = i32(prm[6]);
  let pt = i32(prm[7]); let pl = i32(prm[8]); let outH = prm[9]; let outW = prm[10];
  let ox = i32(i % outW); let oy = i32((i / outW) % outH); let plane = i / (outW * outH);
  let y0 = oy * sh - pt; let x0 = ox * sw - pl;
  let ys = max(y0, 0); let ye = min(y0 + kh, i32(h)); let xs = max(x0, 0); let xe = min(x0 + kw, i32(w));
  // PyTorch's count_include_pad divisor: the window clipped to the padded image.
  let winSize = f32((min(y0 + kh, i32(h) + pt) - y0) * (min(x0 + kw, i32(w) + pl) - x0));`;

/** For input pixel i of a pooling backward: the range of outputs whose windows cover it. */
const POOL_COVER = `
  let h = prm[1]; let w = prm[2]; let kh = i32(prm[3]); let kw = i32(prm[4]); let sh = i32(prm[5]); let sw = i32(prm[6]);
  let pt = i32(prm[7]); let pl = i32(prm[8]); let outH = prm[9]; let outW = prm[10];
  let ix = i % w; let iy = (i / w) % h; let plane = i / (w * h);
  let ny = i32(iy) + pt; let nx = i32(ix) + pl;
  let oyLo = select(0, (ny - kh + 1 + sh - 1) / sh, ny - kh + 1 > 0); let oyHi = min(ny / sh, i32(outH) - 1);
  let oxLo = select(0, (nx - kw + 1 + sw - 1) / sw, nx - kw + 1 > 0); let oxHi = min(nx / sw, i32(outW) - 1);`;

function poolParams(p: Pool2dParams, total: number): number[] {
  return [total, p.h, p.w, p.kh, p.kw, p.strideH, p.strideW, p.padTop, p.padLeft, p.outH, p.outW, p.countIncludePad ? 1 : 0];
}

const poolWhat = (p: Pool2dParams): string => `[${p.n}, ${p.c}, ${p.h}, ${p.w}], window ${p.kh}×${p.kw}, stride ${p.strideH}×${p.strideW}`;

function convDims(p: Conv2dParams): { cInG: number; cOutG: number; kk: number; pp: number } {
  const cInG = p.cIn / p.groups;
  return { cInG, cOutG: p.cOut / p.groups, kk: cInG * p.kh * p.kw, pp: p.outH * p.outW };
}

function convParams(p: Conv2dParams): number[] {
  return [p.cIn, p.h, p.w, p.kh, p.kw, p.strideH, p.strideW, p.padTop, p.padLeft, p.dilationH, p.dilationW, p.outH, p.outW];
}

const convWhat = (p: Conv2dParams): string =>
  `x [${p.n}, ${p.cIn}, ${p.h}, ${p.w}], w [${p.cOut}, ${p.cIn / p.groups}, ${p.kh}, ${p.kw}], groups ${p.groups}`;

/** [N, C, spatial size] of a batch-norm input. */
function bnDims(shape: Shape): [number, number, number] {
  return [shape[0], shape[1], sizeOf(shape.slice(2))];
}

/**
 * WGSL that stages one 16(k)×32 tile of a GEMM operand X into shared S (laid out [k][32]).
 * kMajor: X[off + k·ld + i] (contiguous along i); else X[off + i·ld + k] (contiguous along k).
 * `vec`: X is bound as vec4s and the contiguous dimension, stride and offset are multiples of 4,
 * so each vec4 is wholly inside or wholly outside the matrix.
 */
function tileLoad(X: string, S: string, kMajor: boolean, vec: boolean, off: string, i0: string, lim: string, ld: string): string {
  if (!vec) {
    const at = kMajor ? `${off} + kk * ${ld} + i` : `${off} + i * ${ld} + kk`;
    return `    for (var e = lid; e < 512u; e += 64u) {
      let kk = k0 + e / 32u; let i = ${i0} + e % 32u;
      var v = 0.0; if (i < ${lim} && kk < K) { v = ${X}[${at}]; } ${S}[e] = v;
    }`;
  }
  if (kMajor) {
    return `    for (var e = lid; e < 128u; e += 64u) {
      let k1 = e / 8u; let i1 = (e % 8u) * 4u; let kk = k0 + k1; let i = ${i0} + i1;
      var v = vec4<f32>(0.0); if (i < ${lim} && kk < K) { v = ${X}[(${off} + kk * ${ld} + i) / 4u]; }
      let s = k1 * 32u + i1; ${S}[s] = v.x; ${S}[s + 1u] = v.y; ${S}[s + 2u] = v.z; ${S}[s + 3u] = v.w;
    }`;
  }
  return `    for (var e = lid; e < 128u; e += 64u) {
      let i1 = e / 4u; let k1 = (e % 4u) * 4u; let kk = k0 + k1; let i = ${i0} + i1;
      var v = vec4<f32>(0.0); if (i < ${lim} && kk < K) { v = ${X}[(${off} + i * ${ld} + kk) / 4u]; }
      ${S}[k1 * 32u + i1] = v.x; ${S}[(k1 + 1u) * 32u + i1] = v.y; ${S}[(k1 + 2u) * 32u + i1] = v.z; ${S}[(k1 + 3u) * 32u + i1] = v.w;
    }`;
}

/** Tuning knobs of the kernels. */
export interface KernelOptions {
  /** Largest im2col buffer in bytes (default 64 MiB): bigger batches convolve in chunks of images. */
  convColumnBytes?: number;
}

export function createKernels(ctx: GpuContext, options: KernelOptions = {}): Kernels {
  const g = (h: Handle): GpuTensor => asGpu(h);
  const out = (dtype: DType, size: number): GpuTensor => ctx.empty(dtype, size);

  /** out[i] = x[stridedOffset(i)]: transpose, broadcast, slice and copies, any dtype. */
  function gatherStrided(name: string, x: GpuTensor, outShape: Shape, strides: readonly number[], offset: number): GpuTensor {
    const o = out(x.dtype, sizeOf(outShape));
    const code = `${decl(0, 'x', 'u32')}\n${decl(1, 'y', 'u32', true)}\n${prmDecl(2)}\n${INDEX}\n${STRIDED}
${MAIN_1D} { let i = flat(gid, nwg); if (i >= prm[0]) { return; } y[i] = x[stridedOffset(i, 0u)]; }`;
    ctx.dispatch(() => `'${name}' (out ${fmtShape(outShape)})`, code, [x.buffer, o.buffer], stridedParams(outShape, [{ offset, strides }]), ctx.grid(o.size));
    return o;
  }

  /** dst[stridedOffset(i)] = x[i] over x's shape (concat's placement). */
  function scatterStrided(name: string, x: GpuTensor, shape: Shape, dst: GpuTensor, strides: readonly number[], offset: number): void {
    const code = `${decl(0, 'x', 'u32')}\n${decl(1, 'y', 'u32', true)}\n${prmDecl(2)}\n${INDEX}\n${STRIDED}
${MAIN_1D} { let i = flat(gid, nwg); if (i >= prm[0]) { return; } y[stridedOffset(i, 0u)] = x[i]; }`;
    ctx.dispatch(() => `'${name}' (input ${fmtShape(shape)})`, code, [x.buffer, dst.buffer], stridedParams(shape, [{ offset, strides }]), ctx.grid(x.size));
  }

  function transposeT(x: GpuTensor, shape: Shape, perm: readonly number[]): GpuTensor {
    const st = stridesOf(shape);
    return gatherStrided('transpose', x, perm.map((p) => shape[p]), perm.map((p) => st[p]), 0);
  }

  /** x as rows [outer, inner] with `axes` last (a transpose when they are not already). */
  function toRows(x: GpuTensor, shape: Shape, axes: readonly number[]): { rows: GpuTensor; outer: number; inner: number; temp: boolean } {
    const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const perm = [...kept, ...axes];
    const identity = perm.every((p, i) => p === i);
    const rows = identity ? x : transposeT(x, shape, perm);
    return { rows, outer: sizeOf(kept.map((i) => shape[i])), inner: sizeOf(axes.map((i) => shape[i])), temp: !identity };
  }

  function reduceRows(op: ReduceOp, x: GpuTensor, outer: number, inner: number, what: () => string): GpuTensor {
    const t = wgslType(x.dtype);
    const [id, comb] = REDUCE[op][t];
    const head = `${decl(0, 'x', t)}\n${decl(1, 'y', t, true)}\n${prmDecl(2)}\n${INDEX}\n${NAN}\nfn comb(p: ${t}, q: ${t}) -> ${t} { return ${comb}; }`;
    if (inner < 64) {
      // Short rows: one thread per row (a workgroup per row would idle most of its threads).
      const code = `${head}\n${MAIN_1D} { let r = flat(gid, nwg); if (r >= prm[0]) { return; } let n = prm[1];
  var acc: ${t} = ${id}; for (var i = 0u; i < n; i++) { acc = comb(acc, x[r * n + i]); } y[r] = acc; }`;
      const o = out(x.dtype, outer);
      ctx.dispatch(what, code, [x.buffer, o.buffer], [outer, inner], ctx.grid(outer));
      return o;
    }
    // Long rows and few of them (a full sum, a per-channel sum over N·H·W) would leave most of a
    // GPU idle with a workgroup per row: split each row into chunks of 4096, reduce the chunks
    // in parallel, then reduce the partials (the operations are associative; NaN still wins).
    const chunk = inner > 8192 && outer < 1024 ? 4096 : inner;
    const chunks = Math.ceil(inner / chunk);
    const dst = out(x.dtype, outer * chunks);
    const code = `${head}\nvar<workgroup> sh: array<${t}, 64>;
${MAIN_ROW} {
  let gi = wid.x + wid.y * nwg.x; let n = prm[1]; let len = prm[2]; let ok = gi < prm[0];
  let r = gi / prm[3]; let c = gi % prm[3];
  let end = min((c + 1u) * len, n);
  var acc: ${t} = ${id};
  if (ok) { for (var i = c * len + lid; i < end; i += 64u) { acc = comb(acc, x[r * n + i]); } }
  sh[lid] = acc; workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { sh[lid] = comb(sh[lid], sh[lid + s]); } workgroupBarrier(); }
  if (ok && lid == 0u) { y[gi] = sh[0]; }
}`;
    ctx.dispatch(what, code, [x.buffer, dst.buffer], [outer * chunks, inner, chunk, chunks], ctx.rowGrid(outer * chunks));
    if (chunks === 1) return dst;
    const r = reduceRows(op, dst, outer, chunks, what);
    ctx.free(dst);
    return r;
  }

  function reduceT(op: ReduceOp, x: GpuTensor, shape: Shape, axes: readonly number[]): GpuTensor {
    const { rows, outer, inner, temp } = toRows(x, shape, axes);
    const o = reduceRows(op, rows, outer, inner, () => `'reduce' (${op} of ${fmtShape(shape)} over [${axes.join(', ')}])`);
    if (temp) ctx.free(rows);
    return o;
  }

  /** Elementwise over n elements: `body` assigns y[i] from the named inputs. */
  function elementwise(what: () => string, inputs: readonly { name: string; t: GpuTensor; type: string }[], outT: GpuTensor, outType: string, body: string, params: readonly number[], extra = '', count = outT.size): void {
    const decls = inputs.map((inp, k) => decl(k, inp.name, inp.type)).join('\n');
    const code = `${decls}\n${decl(inputs.length, 'y', outType, true)}\n${prmDecl(inputs.length + 1)}\n${INDEX}\n${MATH}\n${extra}
${MAIN_1D} { let i = flat(gid, nwg); if (i >= prm[0]) { return; } ${body} }`;
    ctx.dispatch(what, code, [...inputs.map((inp) => inp.t.buffer), outT.buffer], [count, ...params], ctx.grid(count));
  }

  /**
   * Images per im2col chunk: the column buffer (cIn·kh·kw·outH·outW per image) stays under
   * `convColumnBytes` and the binding limit, so large batches run in several GEMMs instead of
   * failing to allocate.
   */
  function convChunk(p: Conv2dParams): number {
    const perImage = p.cIn * p.kh * p.kw * p.outH * p.outW * 4;
    const cap = Math.min(options.convColumnBytes ?? 64 << 20, ctx.device.limits.maxStorageBufferBindingSize);
    return Math.max(1, Math.min(p.n, Math.floor(cap / Math.max(perImage, 1))));
  }

  /** col[b][c][ky][kx][oy·outW + ox] = x at that tap (0 outside the image) for images b0 … b0+cn−1: conv as GEMM. */
  function im2col(x: GpuTensor, p: Conv2dParams, b0: number, cn: number): GpuTensor {
    const col = out(x.dtype, cn * p.cIn * p.kh * p.kw * p.outH * p.outW);
    elementwise(() => `'im2col' (${convWhat(p)})`, [{ name: 'x', t: x, type: 'f32' }], col, 'f32', `
  let cIn = prm[1]; let h = prm[2]; let w = prm[3]; let kh = prm[4]; let kw = prm[5];
  let outH = prm[12]; let outW = prm[13]; let P = outH * outW;
  let pp = i % P; var r = i / P; let kx = r % kw; r = r / kw; let ky = r % kh; r = r / kh; let c = r % cIn; let b = r / cIn + prm[14];
  let iy = i32((pp / outW) * prm[6] + ky * prm[10]) - i32(prm[8]);
  let ix = i32((pp % outW) * prm[7] + kx * prm[11]) - i32(prm[9]);
  var v = 0.0;
  if (iy >= 0 && iy < i32(h) && ix >= 0 && ix < i32(w)) { v = x[((b * cIn + c) * h + u32(iy)) * w + u32(ix)]; }
  y[i] = v;`, [...convParams(p), b0]);
    return col;
  }

  const kernels: Kernels = {
    cast(xh, dtype) {
      checkDtype('cast', dtype);
      const x = g(xh);
      const o = out(dtype, x.size);
      if (x.size === 0) return asHandle(o);
      if (x.dtype === dtype) {
        const enc = ctx.device.createCommandEncoder();
        enc.copyBufferToBuffer(x.buffer, 0, o.buffer, 0, x.size * 4);
        ctx.device.queue.submit([enc.finish()]);
        return asHandle(o);
      }
      const tin = wgslType(x.dtype);
      const tout = wgslType(dtype);
      // bool: nonzero → 1; int32: truncation toward zero (as castArray does).
      const expr = dtype === 'bool' ? `i32(x[i] != ${tin}(0))` : dtype === 'int32' ? (tin === 'f32' ? 'i32(trunc(x[i]))' : 'x[i]') : 'f32(x[i])';
      elementwise(() => `'cast' (${x.dtype} → ${dtype}, ${x.size} elements)`, [{ name: 'x', t: x, type: tin }], o, tout, `y[i] = ${expr};`, []);
      return asHandle(o);
    },

    copyInto(dh, sh) {
      const dst = g(dh);
      const src = g(sh);
      if (dst.size !== src.size) throw new GradkitError('copyInto', `${src.size} values into a buffer of ${dst.size}`);
      if (dst === src || dst.size === 0) return;
      if (dst.dtype === src.dtype || (dst.dtype !== 'float32' && src.dtype === 'bool')) {
        const enc = ctx.device.createCommandEncoder();
        enc.copyBufferToBuffer(src.buffer, 0, dst.buffer, 0, src.size * 4);
        ctx.device.queue.submit([enc.finish()]);
        return;
      }
      const c = g(kernels.cast(sh, dst.dtype));
      kernels.copyInto(dh, asHandle(c));
      ctx.free(c);
    },

    unary(op, xh) {
      const x = g(xh);
      const t = wgslType(x.dtype);
      const outDtype: DType = op === 'logicalNot' ? 'bool' : x.dtype;
      const o = out(outDtype, x.size);
      const expr = t === 'f32' ? UNARY_F32[op] : unaryI32(op);
      elementwise(() => `'unary' (${op}, ${x.dtype} of ${x.size} elements)`, [{ name: 'xs', t: x, type: t }], o, wgslType(outDtype), `let x = xs[i]; y[i] = ${expr};`, []);
      return asHandle(o);
    },

    binary(op, ah, aShape, bh, bShape, outShape, outDtype) {
      checkDtype('binary', outDtype);
      const a = g(ah);
      const b = g(bh);
      const t = wgslType(a.dtype);
      const expr = (t === 'f32' ? BINARY_F32 : BINARY_I32)[op];
      const o = out(outDtype, sizeOf(outShape));
      const ot = wgslType(outDtype);
      const what = () => `'binary' (${op}, ${fmtShape(aShape)} with ${fmtShape(bShape)} → ${fmtShape(outShape)})`;
      const bind = [{ name: 'as_', t: a, type: t }, { name: 'bs_', t: b, type: t }];
      if (shapesEqual(aShape, outShape) && shapesEqual(bShape, outShape)) {
        elementwise(what, bind, o, ot, `let a = as_[i]; let b = bs_[i]; y[i] = ${expr};`, []);
      } else {
        const p = stridedParams(outShape, [
          { offset: 0, strides: broadcastStrides(aShape, outShape) },
          { offset: 0, strides: broadcastStrides(bShape, outShape) },
        ]);
        elementwise(what, bind, o, ot, `let a = as_[stridedOffset(i, 0u)]; let b = bs_[stridedOffset(i, 1u)]; y[i] = ${expr};`, p.slice(1), STRIDED);
      }
      return asHandle(o);
    },

    where(ch, cShape, ah, aShape, bh, bShape, outShape) {
      const c = g(ch);
      const a = g(ah);
      const b = g(bh);
      const o = out(a.dtype, sizeOf(outShape));
      const p = stridedParams(outShape, [cShape, aShape, bShape].map((s) => ({ offset: 0, strides: broadcastStrides(s, outShape) })));
      elementwise(() => `'where' (${fmtShape(cShape)}, ${fmtShape(aShape)}, ${fmtShape(bShape)} → ${fmtShape(outShape)})`,
        [{ name: 'c', t: c, type: 'u32' }, { name: 'a', t: a, type: 'u32' }, { name: 'b', t: b, type: 'u32' }], o, 'u32',
        'y[i] = select(b[stridedOffset(i, 2u)], a[stridedOffset(i, 1u)], c[stridedOffset(i, 0u)] != 0u);', p.slice(1), STRIDED);
      return asHandle(o);
    },

    reduce(op, xh, shape, axes) {
      return asHandle(reduceT(op, g(xh), shape, axes));
    },

    argReduce(op, xh, shape, axis) {
      const x = g(xh);
      const { rows, outer, inner, temp } = toRows(x, shape, [axis]);
      const t = wgslType(x.dtype);
      const o = out('int32', outer);
      const better = op === 'argmax' ? 'v > bv' : 'v < bv';
      const nanOf = t === 'f32' ? 'isnan_' : 'nonan_';
      // (value, index) pairs; a NaN wins (first one), then the best value, then the lower index:
      // the reference backend's first-occurrence rule, independent of the combining order.
      const code = `${decl(0, 'x', t)}\n${decl(1, 'y', 'i32', true)}\n${prmDecl(2)}\n${NAN}
fn nonan_(v: i32) -> bool { return false; }
fn takeSecond(bv: ${t}, bi: u32, v: ${t}, vi: u32) -> bool {
  let bn = ${nanOf}(bv); let vn = ${nanOf}(v);
  if (bn || vn) { return vn && (!bn || vi < bi); }
  return ${better} || (v == bv && vi < bi);
}
var<workgroup> sv: array<${t}, 64>;
var<workgroup> si: array<u32, 64>;
${MAIN_ROW} {
  let r = wid.x + wid.y * nwg.x; let n = prm[1]; let ok = r < prm[0];
  var bv: ${t} = x[0]; var bi = 0xffffffffu;
  if (ok) {
    for (var i = lid; i < n; i += 64u) {
      let v = x[r * n + i];
      if (bi == 0xffffffffu || takeSecond(bv, bi, v, i)) { bv = v; bi = i; }
    }
  }
  sv[lid] = bv; si[lid] = bi; workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lid < s) {
      let oi = si[lid + s];
      if (oi != 0xffffffffu && (si[lid] == 0xffffffffu || takeSecond(sv[lid], si[lid], sv[lid + s], oi))) { sv[lid] = sv[lid + s]; si[lid] = oi; }
    }
    workgroupBarrier();
  }
  if (ok && lid == 0u) { y[r] = i32(select(si[0], 0u, si[0] == 0xffffffffu)); }
}`;
      ctx.dispatch(() => `'argReduce' (${op} of ${fmtShape(shape)} along ${axis})`, code, [rows.buffer, o.buffer], [outer, inner], ctx.rowGrid(outer));
      if (temp) ctx.free(rows);
      return asHandle(o);
    },

    matmul(ah, bh, p) {
      return asHandle(matmulT(g(ah), g(bh), p));
    },

    transpose(xh, shape, perm) {
      return asHandle(transposeT(g(xh), shape, perm));
    },

    broadcastTo(xh, shape, outShape) {
      return asHandle(gatherStrided('broadcastTo', g(xh), outShape, broadcastStrides(shape, outShape), 0));
    },

    slice(xh, shape, begin, step, outShape) {
      const st = stridesOf(shape);
      const offset = begin.reduce((acc, b, d) => acc + b * st[d], 0);
      return asHandle(gatherStrided('slice', g(xh), outShape, st.map((s, d) => s * step[d]), offset));
    },

    sliceGrad(sh, srcShape, shape, begin, step) {
      const src = g(sh);
      const o = out(src.dtype, sizeOf(shape));
      const r = shape.length;
      // prm: total, rank, shape, srcShape, begin, step, srcStrides (i32 bit patterns).
      const params = [r, ...shape, ...srcShape, ...begin.map(i32Bits), ...step.map(i32Bits), ...stridesOf(srcShape)];
      elementwise(() => `'sliceGrad' (${fmtShape(srcShape)} into ${fmtShape(shape)})`, [{ name: 's', t: src, type: 'u32' }], o, 'u32', `
  let r = prm[1]; var rem = i; var off = 0u; var hit = true;
  for (var d = i32(r) - 1; d >= 0; d--) {
    let k = u32(d); let dim = prm[2u + k]; let c = i32(rem % dim); rem = rem / dim;
    let t = c - bitcast<i32>(prm[2u + 2u * r + k]); let st = bitcast<i32>(prm[2u + 3u * r + k]);
    let q = t / st;
    if (t % st != 0 || q < 0 || q >= i32(prm[2u + r + k])) { hit = false; } else { off += u32(q) * prm[2u + 4u * r + k]; }
  }
  y[i] = select(0u, s[off], hit);`, params);
      return asHandle(o);
    },

    pad(xh, shape, pads, value) {
      const x = g(xh);
      const outShape = shape.map((s, d) => s + pads[d][0] + pads[d][1]);
      const o = out(x.dtype, sizeOf(outShape));
      const r = shape.length;
      const bits = x.dtype === 'float32' ? f32Bits(value) : x.dtype === 'bool' ? (value !== 0 ? 1 : 0) : i32Bits(Math.trunc(value));
      const params = [r, ...outShape, ...shape, ...pads.map((p) => p[0]), ...stridesOf(shape), bits];
      elementwise(() => `'pad' (${fmtShape(shape)} → ${fmtShape(outShape)})`, [{ name: 'x', t: x, type: 'u32' }], o, 'u32', `
  let r = prm[1]; var rem = i; var off = 0u; var inside = true;
  for (var d = i32(r) - 1; d >= 0; d--) {
    let k = u32(d); let dim = prm[2u + k]; let c = i32(rem % dim); rem = rem / dim;
    let t = c - i32(prm[2u + 2u * r + k]);
    if (t < 0 || t >= i32(prm[2u + r + k])) { inside = false; } else { off += u32(t) * prm[2u + 3u * r + k]; }
  }
  y[i] = select(prm[2u + 4u * r], x[off], inside);`, params);
      return asHandle(o);
    },

    concat(xhs, shapes, axis) {
      const xs = xhs.map(g);
      const outShape = shapes[0].map((s, d) => (d === axis ? shapes.reduce((acc, sh) => acc + sh[axis], 0) : s));
      const o = out(xs[0].dtype, sizeOf(outShape));
      const ost = stridesOf(outShape);
      let at = 0;
      xs.forEach((x, t) => {
        scatterStrided('concat', x, shapes[t], o, ost, at * ost[axis]);
        at += shapes[t][axis];
      });
      return asHandle(o);
    },

    indexSelect(xh, shape, ih, axis) {
      const x = g(xh);
      const idx = g(ih);
      const [outer, dim, inner] = around(shape, axis);
      const len = idx.size;
      const o = out(x.dtype, outer * len * inner);
      elementwise(() => `'indexSelect' (${fmtShape(shape)} along ${axis}, ${len} indices)`,
        [{ name: 'x', t: x, type: 'u32' }, { name: 'ix', t: idx, type: 'i32' }], o, 'u32', `
  let len = prm[1]; let dim = prm[2]; let inner = prm[3];
  let e = i % inner; let j = (i / inner) % len; let b = i / (inner * len);
  y[i] = x[(b * dim + u32(ix[j])) * inner + e];`, [len, dim, inner]);
      return asHandle(o);
    },

    indexAdd(sh, srcShape, ih, axis, shape) {
      const src = g(sh);
      const idx = g(ih);
      const [, dim, inner] = around(shape, axis);
      const len = idx.size;
      const o = out(src.dtype, sizeOf(shape));
      const t = wgslType(src.dtype);
      // One thread per output element sums the source rows that map to it: deterministic, and
      // WGSL has no float atomics to scatter with.
      elementwise(() => `'indexAdd' (${fmtShape(srcShape)} into ${fmtShape(shape)} along ${axis})`,
        [{ name: 's', t: src, type: t }, { name: 'ix', t: idx, type: 'i32' }], o, t, `
  let len = prm[1]; let dim = prm[2]; let inner = prm[3];
  let e = i % inner; let p = i32((i / inner) % dim); let b = i / (inner * dim);
  var acc: ${t} = ${t}(0);
  for (var j = 0u; j < len; j++) { if (ix[j] == p) { acc += s[(b * len + j) * inner + e]; } }
  y[i] = acc;`, [len, dim, inner]);
      return asHandle(o);
    },

    gather(xh, shape, ih, indexShape, axis) {
      const x = g(xh);
      const idx = g(ih);
      const o = out(x.dtype, idx.size);
      const xs = stridesOf(shape);
      const p = stridedParams(indexShape, [{ offset: 0, strides: xs.map((s, d) => (d === axis ? 0 : s)) }]);
      elementwise(() => `'gather' (${fmtShape(shape)} by ${fmtShape(indexShape)} along ${axis})`,
        [{ name: 'x', t: x, type: 'u32' }, { name: 'ix', t: idx, type: 'i32' }], o, 'u32',
        `y[i] = x[stridedOffset(i, 0u) + u32(ix[i]) * prm[${2 + 2 * indexShape.length + 1}]];`, [...p.slice(1), xs[axis]], STRIDED);
      return asHandle(o);
    },

    scatterAdd(sh, ih, indexShape, axis, shape) {
      const src = g(sh);
      const idx = g(ih);
      const o = out(src.dtype, sizeOf(shape));
      const t = wgslType(src.dtype);
      const r = shape.length;
      // Output element c sums src[t] over the index positions t that share c's other coordinates
      // and point at c's coordinate along `axis`.
      const params = [r, axis, ...shape, ...indexShape, ...stridesOf(indexShape)];
      elementwise(() => `'scatterAdd' (${fmtShape(indexShape)} into ${fmtShape(shape)} along ${axis})`,
        [{ name: 's', t: src, type: t }, { name: 'ix', t: idx, type: 'i32' }], o, t, `
  let r = prm[1]; let ax = prm[2]; var rem = i; var base = 0u; var inRange = true; var c_ax = 0;
  for (var d = i32(r) - 1; d >= 0; d--) {
    let k = u32(d); let dim = prm[3u + k]; let c = rem % dim; rem = rem / dim;
    if (k == ax) { c_ax = i32(c); } else if (c >= prm[3u + r + k]) { inRange = false; } else { base += c * prm[3u + 2u * r + k]; }
  }
  var acc: ${t} = ${t}(0);
  if (inRange) {
    let n = prm[3u + r + ax]; let st = prm[3u + 2u * r + ax];
    for (var j = 0u; j < n; j++) { let at = base + j * st; if (ix[at] == c_ax) { acc += s[at]; } }
  }
  y[i] = acc;`, params);
      return asHandle(o);
    },

    softmax(xh, outer, size, inner) {
      return asHandle(softmaxT(g(xh), outer, size, inner, false));
    },

    logSoftmax(xh, outer, size, inner) {
      return asHandle(softmaxT(g(xh), outer, size, inner, true));
    },

    reluBackward(xh, dyh) {
      const x = g(xh);
      const dy = g(dyh);
      const o = out(dy.dtype, dy.size);
      elementwise(() => `'reluBackward' (${dy.size} elements)`, [{ name: 'x', t: x, type: 'f32' }, { name: 'dy', t: dy, type: 'f32' }], o, 'f32',
        'let v = x[i]; y[i] = select(dy[i] * select(0.0, 1.0, v > 0.0), v, isnan_(v));', []);
      return asHandle(o);
    },

    biasAct(xh, shape, bh, axis, act) {
      return asHandle(biasActT(g(xh), shape, g(bh), axis, act));
    },

    biasActBackward(yh, dyh, shape, axis, act) {
      const dy = g(dyh);
      const [outer, size, inner] = around(shape, axis);
      // relu: y > 0 exactly where x + bias > 0, so reluBackward on y is the masked gradient.
      const dx = act === 'relu' ? g(kernels.reluBackward(yh, dyh)) : g(kernels.cast(dyh, dy.dtype));
      const dbias = reduceT('sum', dx, [outer, size, inner], [0, 2]);
      return { dx: asHandle(dx), dbias: asHandle(dbias) };
    },

    softmaxCrossEntropy(lh, rows, classes, labh, smoothing, ignoreIndex) {
      const logits = g(lh);
      const labels = g(labh);
      const loss = out(logits.dtype, rows);
      const probs = out(logits.dtype, logits.size);
      const code = `${decl(0, 'z', 'f32')}\n${decl(1, 'lab', 'i32')}\n${decl(2, 'loss', 'f32', true)}\n${decl(3, 'pr', 'f32', true)}\n${prmDecl(4)}\n${NAN}
var<workgroup> sh: array<f32, 64>;
var<workgroup> sh2: array<f32, 64>;
${MAIN_ROW} {
  let r = wid.x + wid.y * nwg.x; let n = prm[1]; let ok = r < prm[0];
  let eps = bitcast<f32>(prm[2]); let hasIgnore = prm[3] != 0u; let ignore = bitcast<i32>(prm[4]);
  let base = r * n;
  var m = ninf_();
  if (ok) { for (var j = lid; j < n; j += 64u) { m = max(m, z[base + j]); } }
  sh[lid] = m; workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { sh[lid] = max(sh[lid], sh[lid + s]); } workgroupBarrier(); }
  var mx = sh[0];
  // All −∞ (or a +∞) would give ∞ − ∞ = NaN; shifting by 0 lets that NaN/∞ show honestly.
  if ((bitcast<u32>(mx) & 0x7fffffffu) >= 0x7f800000u) { mx = 0.0; }
  workgroupBarrier();
  var e = 0.0; var zs = 0.0;
  if (ok) { for (var j = lid; j < n; j += 64u) { let v = z[base + j] - mx; e += exp(v); zs += v; } }
  sh[lid] = e; sh2[lid] = zs; workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { sh[lid] += sh[lid + s]; sh2[lid] += sh2[lid + s]; } workgroupBarrier(); }
  let sum = sh[0]; let zsum = sh2[0];
  if (ok) {
    for (var j = lid; j < n; j += 64u) { pr[base + j] = exp(z[base + j] - mx) / sum; }
    if (lid == 0u) {
      let l = lab[r];
      if (hasIgnore && l == ignore) { loss[r] = 0.0; } else {
        let zl = z[base + u32(l)] - mx;
        loss[r] = select(log(sum) - (1.0 - eps) * zl - eps * zsum / f32(n), log(sum) - zl, eps == 0.0);
      }
    }
  }
}`;
      ctx.dispatch(() => `'softmaxCrossEntropy' (${rows}×${classes})`, code, [logits.buffer, labels.buffer, loss.buffer, probs.buffer],
        [rows, classes, f32Bits(smoothing), ignoreIndex === null ? 0 : 1, i32Bits(ignoreIndex ?? 0)], ctx.rowGrid(rows));
      return { loss: asHandle(loss), probs: asHandle(probs) };
    },

    softmaxCrossEntropyBackward(ph, labh, dlh, rows, classes, smoothing, ignoreIndex) {
      const probs = g(ph);
      const labels = g(labh);
      const dloss = g(dlh);
      const o = out(probs.dtype, rows * classes);
      elementwise(() => `'softmaxCrossEntropyBackward' (${rows}×${classes})`,
        [{ name: 'p', t: probs, type: 'f32' }, { name: 'lab', t: labels, type: 'i32' }, { name: 'dl', t: dloss, type: 'f32' }], o, 'f32', `
  let n = prm[1]; let eps = bitcast<f32>(prm[2]); let r = i / n; let j = i % n; let l = lab[r];
  if (prm[3] != 0u && l == bitcast<i32>(prm[4])) { y[i] = 0.0; return; }
  let gr = dl[r];
  var v = gr * (p[i] - eps / f32(n));
  if (i32(j) == l) { v -= gr * (1.0 - eps); }
  y[i] = v;`, [classes, f32Bits(smoothing), ignoreIndex === null ? 0 : 1, i32Bits(ignoreIndex ?? 0)]);
      return asHandle(o);
    },

    conv2d(xh, wh, p) {
      const x = g(xh);
      const w = g(wh);
      const { cOutG, kk, pp } = convDims(p);
      const o = out(x.dtype, p.n * p.cOut * pp);
      const step = convChunk(p);
      for (let b0 = 0; b0 < p.n; b0 += step) {
        const cn = Math.min(step, p.n - b0);
        const col = im2col(x, p, b0, cn);
        for (let gi = 0; gi < p.groups; gi++) {
          gemm(w, col, o, {
            batch: cn, m: cOutG, k: kk, n: pp, transA: false, transB: false,
            strideA: 0, strideB: p.cIn * p.kh * p.kw * pp, strideC: p.cOut * pp,
            offA: gi * cOutG * kk, offB: gi * kk * pp, offC: (b0 * p.cOut + gi * cOutG) * pp,
          });
        }
        ctx.free(col);
      }
      return asHandle(o);
    },

    conv2dBackwardInput(dyh, wh, p) {
      const dy = g(dyh);
      const w = g(wh);
      const { cOutG, kk, pp } = convDims(p);
      const dx = out(dy.dtype, p.n * p.cIn * p.h * p.w);
      const step = convChunk(p);
      for (let b0 = 0; b0 < p.n; b0 += step) {
        const cn = Math.min(step, p.n - b0);
        // dcol = Wᵀ·dy per image and group, then col2im sums the taps back into the images.
        const dcol = out(dy.dtype, cn * p.cIn * p.kh * p.kw * pp);
        for (let gi = 0; gi < p.groups; gi++) {
          gemm(w, dy, dcol, {
            batch: cn, m: kk, k: cOutG, n: pp, transA: true, transB: false,
            strideA: 0, strideB: p.cOut * pp, strideC: p.cIn * p.kh * p.kw * pp,
            offA: gi * cOutG * kk, offB: (b0 * p.cOut + gi * cOutG) * pp, offC: gi * kk * pp,
          });
        }
        elementwise(() => `'conv2dBackwardInput' (col2im, ${convWhat(p)})`, [{ name: 'dc', t: dcol, type: 'f32' }], dx, 'f32', `
  let cIn = prm[1]; let h = prm[2]; let w = prm[3]; let kh = prm[4]; let kw = prm[5];
  let sh = i32(prm[6]); let sw = i32(prm[7]); let pt = i32(prm[8]); let pl = i32(prm[9]);
  let dh = i32(prm[10]); let dw = i32(prm[11]); let outH = i32(prm[12]); let outW = i32(prm[13]);
  let ix = i32(i % w); var r = i / w; let iy = i32(r % h); r = r / h; let c = r % cIn; let b = r / cIn;
  var acc = 0.0;
  for (var ky = 0u; ky < kh; ky++) {
    let ty = iy + pt - i32(ky) * dh;
    if (ty < 0 || ty % sh != 0 || ty / sh >= outH) { continue; }
    let oy = ty / sh;
    for (var kx = 0u; kx < kw; kx++) {
      let tx = ix + pl - i32(kx) * dw;
      if (tx < 0 || tx % sw != 0 || tx / sw >= outW) { continue; }
      let ox = tx / sw;
      acc += dc[(((b * cIn + c) * kh + ky) * kw + kx) * u32(outH * outW) + u32(oy * outW + ox)];
    }
  }
  y[i + prm[14]] = acc;`, [...convParams(p), b0 * p.cIn * p.h * p.w], '', cn * p.cIn * p.h * p.w);
        ctx.free(dcol);
      }
      return asHandle(dx);
    },

    conv2dBackwardFilter(xh, dyh, p) {
      const x = g(xh);
      const dy = g(dyh);
      const { cOutG, kk, pp } = convDims(p);
      // Per image dW_b = dy_b · col_bᵀ (batched GEMM), then the sum over the batch.
      const per = out(x.dtype, p.n * p.cOut * kk);
      const step = convChunk(p);
      for (let b0 = 0; b0 < p.n; b0 += step) {
        const cn = Math.min(step, p.n - b0);
        const col = im2col(x, p, b0, cn);
        for (let gi = 0; gi < p.groups; gi++) {
          gemm(dy, col, per, {
            batch: cn, m: cOutG, k: pp, n: kk, transA: false, transB: true,
            strideA: p.cOut * pp, strideB: p.cIn * p.kh * p.kw * pp, strideC: p.cOut * kk,
            offA: (b0 * p.cOut + gi * cOutG) * pp, offB: gi * kk * pp, offC: (b0 * p.cOut + gi * cOutG) * kk,
          });
        }
        ctx.free(col);
      }
      if (p.n === 1) return asHandle(per);
      const dw = reduceT('sum', per, [p.n, p.cOut * kk], [0]);
      ctx.free(per);
      return asHandle(dw);
    },

    maxPool2d(xh, p) {
      const x = g(xh);
      const n = p.n * p.c * p.outH * p.outW;
      const o = out(x.dtype, n);
      const arg = out('int32', n);
      const code = `${decl(0, 'x', 'f32')}\n${decl(1, 'y', 'f32', true)}\n${decl(2, 'am', 'i32', true)}\n${prmDecl(3)}\n${INDEX}\n${NAN}
${MAIN_1D} {
  let i = flat(gid, nwg); if (i >= prm[0]) { return; }
  ${POOL_WINDOW}
  var best = ninf_(); var at = select(0, ys * i32(w) + xs, ys < ye && xs < xe);
  for (var yy = ys; yy < ye; yy++) {
    for (var xx = xs; xx < xe; xx++) {
      let t = yy * i32(w) + xx; let v = x[plane * h * w + u32(t)];
      if (v > best || isnan_(v)) { best = v; at = t; if (isnan_(v)) { break; } }
    }
    if (isnan_(best)) { break; }
  }
  y[i] = best; am[i] = at;
}`;
      ctx.dispatch(() => `'maxPool2d' (${poolWhat(p)})`, code, [x.buffer, o.buffer, arg.buffer], poolParams(p, n), ctx.grid(n));
      return { out: asHandle(o), argmax: asHandle(arg) };
    },

    maxPool2dBackward(dyh, amh, p) {
      const dy = g(dyh);
      const am = g(amh);
      const dx = out(dy.dtype, p.n * p.c * p.h * p.w);
      elementwise(() => `'maxPool2dBackward' (${poolWhat(p)})`, [{ name: 'dy', t: dy, type: 'f32' }, { name: 'am', t: am, type: 'i32' }], dx, 'f32', `
  ${POOL_COVER}
  var acc = 0.0; let t = i32(iy * w + ix);
  for (var oy = oyLo; oy <= oyHi; oy++) { for (var ox = oxLo; ox <= oxHi; ox++) {
    let o = plane * outH * outW + u32(oy) * outW + u32(ox);
    if (am[o] == t) { acc += dy[o]; }
  } }
  y[i] = acc;`, poolParams(p, p.n * p.c * p.h * p.w).slice(1));
      return asHandle(dx);
    },

    avgPool2d(xh, p) {
      const x = g(xh);
      const n = p.n * p.c * p.outH * p.outW;
      const o = out(x.dtype, n);
      elementwise(() => `'avgPool2d' (${poolWhat(p)})`, [{ name: 'x', t: x, type: 'f32' }], o, 'f32', `
  ${POOL_WINDOW}
  var sum = 0.0;
  for (var yy = ys; yy < ye; yy++) { for (var xx = xs; xx < xe; xx++) { sum += x[plane * h * w + u32(yy * i32(w) + xx)]; } }
  let div = select(f32(max(ye - ys, 0) * max(xe - xs, 0)), winSize, prm[11] != 0u);
  y[i] = select(0.0, sum / div, div > 0.0);`, poolParams(p, n).slice(1));
      return asHandle(o);
    },

    avgPool2dBackward(dyh, p) {
      const dy = g(dyh);
      const dx = out(dy.dtype, p.n * p.c * p.h * p.w);
      elementwise(() => `'avgPool2dBackward' (${poolWhat(p)})`, [{ name: 'dy', t: dy, type: 'f32' }], dx, 'f32', `
  ${POOL_COVER}
  var acc = 0.0;
  for (var oy = oyLo; oy <= oyHi; oy++) { for (var ox = oxLo; ox <= oxHi; ox++) {
    let y0 = oy * sh - pt; let x0 = ox * sw - pl;
    let cnt = f32((min(y0 + kh, i32(h)) - max(y0, 0)) * (min(x0 + kw, i32(w)) - max(x0, 0)));
    let win = f32((min(y0 + kh, i32(h) + pt) - y0) * (min(x0 + kw, i32(w) + pl) - x0));
    let div = select(cnt, win, prm[11] != 0u);
    if (div > 0.0) { acc += dy[plane * outH * outW + u32(oy) * outW + u32(ox)] / div; }
  } }
  y[i] = acc;`, poolParams(p, p.n * p.c * p.h * p.w).slice(1));
      return asHandle(dx);
    },

    batchNormForwardTrain(xh, shape, gh, bh, eps) {
      const x = g(xh);
      const [n, c, sp] = bnDims(shape);
      const mean = out(x.dtype, c);
      const variance = out(x.dtype, c);
      const invstd = out(x.dtype, c);
      // One workgroup per channel: sums of d = x − K with K the channel's first value (as the
      // reference does, so a large mean does not cancel the variance away), then the statistics.
      const code = `${decl(0, 'x', 'f32')}\n${decl(1, 'mu', 'f32', true)}\n${decl(2, 'va', 'f32', true)}\n${decl(3, 'inv', 'f32', true)}\n${prmDecl(4)}
var<workgroup> s1: array<f32, 64>;
var<workgroup> s2: array<f32, 64>;
${MAIN_ROW} {
  let ch = wid.x + wid.y * nwg.x; let n = prm[0]; let c = prm[1]; let sp = prm[2]; let ok = ch < c;
  let m = n * sp;
  var kv = 0.0; if (ok && m > 0u) { kv = x[ch * sp]; }
  var a1 = 0.0; var a2 = 0.0;
  if (ok) { for (var j = lid; j < m; j += 64u) { let b = j / sp; let e = j % sp; let d = x[(b * c + ch) * sp + e] - kv; a1 += d; a2 += d * d; } }
  s1[lid] = a1; s2[lid] = a2; workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { s1[lid] += s1[lid + s]; s2[lid] += s2[lid + s]; } workgroupBarrier(); }
  if (ok && lid == 0u) {
    let fm = f32(m); let md = s1[0] / fm;
    let v = max(s2[0] - md * s1[0], 0.0) / fm;
    mu[ch] = kv + md; va[ch] = v; inv[ch] = 1.0 / sqrt(v + bitcast<f32>(prm[3]));
  }
}`;
      ctx.dispatch(() => `'batchNormForwardTrain' (${fmtShape(shape)})`, code, [x.buffer, mean.buffer, variance.buffer, invstd.buffer], [n, c, sp, f32Bits(eps)], ctx.rowGrid(c));
      const gamma = gh === null ? null : g(gh);
      const beta = bh === null ? null : g(bh);
      const o = out(x.dtype, x.size);
      const ones = gamma ?? ctx.upload('float32', new Float32Array(c).fill(1));
      const zeros = beta ?? ctx.zeros('float32', c);
      elementwise(() => `'batchNormForwardTrain' (normalize ${fmtShape(shape)})`,
        [{ name: 'x', t: x, type: 'f32' }, { name: 'mu', t: mean, type: 'f32' }, { name: 'inv', t: invstd, type: 'f32' }, { name: 'ga', t: ones, type: 'f32' }, { name: 'be', t: zeros, type: 'f32' }], o, 'f32',
        `let ch = (i / prm[2]) % prm[1]; let k = inv[ch] * ga[ch]; y[i] = x[i] * k + (be[ch] - mu[ch] * k);`, [c, sp]);
      if (gamma === null) ctx.free(ones);
      if (beta === null) ctx.free(zeros);
      return { out: asHandle(o), mean: asHandle(mean), invstd: asHandle(invstd), variance: asHandle(variance) };
    },

    batchNormForwardEval(xh, shape, sch, shh) {
      const x = g(xh);
      const [, c, sp] = bnDims(shape);
      const o = out(x.dtype, x.size);
      elementwise(() => `'batchNormForwardEval' (${fmtShape(shape)})`,
        [{ name: 'x', t: x, type: 'f32' }, { name: 'sc', t: g(sch), type: 'f32' }, { name: 'sf', t: g(shh), type: 'f32' }], o, 'f32',
        'let ch = (i / prm[2]) % prm[1]; y[i] = x[i] * sc[ch] + sf[ch];', [c, sp]);
      return asHandle(o);
    },

    batchNormBackward(xh, dyh, shape, mh, ih, gh, batchStats) {
      const x = g(xh);
      const dy = g(dyh);
      const mean = g(mh);
      const invstd = g(ih);
      const [n, c, sp] = bnDims(shape);
      const dgamma = out(x.dtype, c);
      const dbeta = out(x.dtype, c);
      // Pass 1 (a workgroup per channel): dβ = Σdy, dγ = Σdy·(x − μ)·invstd.
      const code = `${decl(0, 'x', 'f32')}\n${decl(1, 'dy', 'f32')}\n${decl(2, 'mu', 'f32')}\n${decl(3, 'inv', 'f32')}\n${decl(4, 'dg', 'f32', true)}\n${decl(5, 'db', 'f32', true)}\n${prmDecl(6)}
var<workgroup> s1: array<f32, 64>;
var<workgroup> s2: array<f32, 64>;
${MAIN_ROW} {
  let ch = wid.x + wid.y * nwg.x; let n = prm[0]; let c = prm[1]; let sp = prm[2]; let ok = ch < c;
  let m = n * sp;
  var a1 = 0.0; var a2 = 0.0; var mc = 0.0; if (ok) { mc = mu[ch]; }
  if (ok) { for (var j = lid; j < m; j += 64u) { let at = ((j / sp) * c + ch) * sp + j % sp; let gv = dy[at]; a1 += gv; a2 += gv * (x[at] - mc); } }
  s1[lid] = a1; s2[lid] = a2; workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { s1[lid] += s1[lid + s]; s2[lid] += s2[lid + s]; } workgroupBarrier(); }
  if (ok && lid == 0u) { db[ch] = s1[0]; dg[ch] = s2[0] * inv[ch]; }
}`;
      ctx.dispatch(() => `'batchNormBackward' (${fmtShape(shape)})`, code, [x.buffer, dy.buffer, mean.buffer, invstd.buffer, dgamma.buffer, dbeta.buffer], [n, c, sp], ctx.rowGrid(c));
      // Pass 2: per-channel k = γ·invstd, q = k·invstd·dγ/M, r = k·dβ/M (q = r = 0 for constant statistics).
      const coef = out('float32', 3 * c);
      const gamma = gh === null ? ctx.upload('float32', new Float32Array(c).fill(1)) : g(gh);
      elementwise(() => `'batchNormBackward' (coefficients, ${fmtShape(shape)})`,
        [{ name: 'inv', t: invstd, type: 'f32' }, { name: 'ga', t: gamma, type: 'f32' }, { name: 'dg', t: dgamma, type: 'f32' }, { name: 'db', t: dbeta, type: 'f32' }], coef, 'f32', `
  let c = prm[1]; let ch = i % c; let which = i / c; let m = f32(prm[2]); let bs = prm[3] != 0u;
  let k = ga[ch] * inv[ch];
  var v = k;
  if (which == 1u) { v = select(0.0, k * inv[ch] * dg[ch] / m, bs); }
  if (which == 2u) { v = select(0.0, k * db[ch] / m, bs); }
  y[i] = v;`, [c, n * sp, batchStats ? 1 : 0]);
      if (gh === null) ctx.free(gamma);
      const dx = out(x.dtype, x.size);
      elementwise(() => `'batchNormBackward' (dx, ${fmtShape(shape)})`,
        [{ name: 'x', t: x, type: 'f32' }, { name: 'dy', t: dy, type: 'f32' }, { name: 'mu', t: mean, type: 'f32' }, { name: 'cf', t: coef, type: 'f32' }], dx, 'f32',
        'let c = prm[1]; let ch = (i / prm[2]) % c; y[i] = cf[ch] * dy[i] - cf[c + ch] * (x[i] - mu[ch]) - cf[2u * c + ch];', [c, sp]);
      ctx.free(coef);
      return { dx: asHandle(dx), dgamma: asHandle(dgamma), dbeta: asHandle(dbeta) };
    },

    checkLabels(lh, classes, ignoreIndex) {
      const labels = g(lh);
      const t = wgslType(labels.dtype);
      const o = out('int32', 2);
      // One workgroup: each thread counts its strided share and keeps its first bad position.
      const isInt = t === 'f32' ? '(k == floor(k) && abs(k) < 3.0e38)' : 'true';
      const code = `${decl(0, 'lab', t)}\n${decl(1, 'y', 'i32', true)}\n${prmDecl(2)}
var<workgroup> cnt: array<u32, 64>;
var<workgroup> bad: array<u32, 64>;
@compute @workgroup_size(64) fn main(@builtin(local_invocation_index) lid: u32) {
  let n = prm[0]; let hasIgnore = prm[1] != 0u; let ign = ${t === 'f32' ? 'bitcast<f32>(prm[2])' : 'bitcast<i32>(prm[2])'};
  let bounded = prm[3] != 0u; let classes = ${t}(prm[4]);
  var c = 0u; var b = 0xffffffffu;
  for (var i = lid; i < n; i += 64u) {
    let k = lab[i];
    if (hasIgnore && k == ign) { continue; }
    c++;
    if (b == 0xffffffffu && !(${isInt} && k >= ${t}(0) && (!bounded || k < classes))) { b = i; }
  }
  cnt[lid] = c; bad[lid] = b; workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { cnt[lid] += cnt[lid + s]; bad[lid] = min(bad[lid], bad[lid + s]); } workgroupBarrier(); }
  if (lid == 0u) { y[0] = i32(cnt[0]); y[1] = select(i32(bad[0]), -1, bad[0] == 0xffffffffu); }
}`;
      const ign = ignoreIndex ?? 0;
      const ignBits = labels.dtype === 'float32' ? f32Bits(ign) : i32Bits(ign);
      const bounded = Number.isFinite(classes);
      // A non-integer or unrepresentable ignoreIndex can never equal an integer label: no ignore.
      const hasIgnore = ignoreIndex !== null && (labels.dtype === 'float32' || Number.isInteger(ignoreIndex));
      ctx.dispatch(() => `'checkLabels' (${labels.size} labels, ${classes} classes)`, code, [labels.buffer, o.buffer],
        [labels.size, hasIgnore ? 1 : 0, ignBits, bounded ? 1 : 0, bounded ? classes : 0], [1, 1, 1]);
      return asHandle(o);
    },

    // Optimizer steps, in place on device state. WGSL computes in f32 throughout, where the
    // reference rounds double intermediates to float32 at each store: results agree to float32
    // rounding, not bit for bit. Scalars derived from the step count are computed on the host
    // in double. float64 parameters are refused like every float64 buffer.
    adamUpdate(wh, gh, mh, vh, vmh, b1, b2, eps, t, l2, decay, s, apply) {
      const w = g(wh);
      const bufs = [w, g(gh), g(mh), g(vh), ...(vmh === null ? [] : [g(vmh)])];
      const amsgrad = vmh !== null;
      const code = `${decl(0, 'w', 'f32', true)}\n${decl(1, 'gr', 'f32')}\n${decl(2, 'm', 'f32', true)}\n${decl(3, 'v', 'f32', true)}
${amsgrad ? decl(4, 'vm', 'f32', true) : ''}\n${prmDecl(amsgrad ? 5 : 4)}\n${INDEX}
fn pf(k: u32) -> f32 { return bitcast<f32>(prm[k]); }
${MAIN_1D} {
  let i = flat(gid, nwg); if (i >= prm[0]) { return; }
  let wi = w[i]; var gi = gr[i];
  let l2 = pf(5); if (l2 != 0.0) { gi = gi + l2 * wi; }
  let mi = pf(1) * m[i] + pf(7) * gi; m[i] = mi;
  var vi = pf(2) * v[i] + pf(8) * gi * gi; v[i] = vi;
  ${amsgrad ? 'if (vi > vm[i]) { vm[i] = vi; } else { vi = vm[i]; }' : ''}
  var ui = mi / pf(9) / (sqrt(vi) / pf(10) + pf(3));
  let decay = pf(6); if (decay != 0.0) { ui = ui + decay * wi; }
  ui = ui * pf(4);
  if (prm[11] != 0u) { w[i] = wi + ui; }
}`;
      const params = [w.size, ...[b1, b2, eps, s, l2, decay, 1 - b1, 1 - b2, 1 - b1 ** t, Math.sqrt(1 - b2 ** t)].map(f32Bits), apply ? 1 : 0];
      ctx.dispatch(() => `'adamUpdate' (${w.size} elements)`, code, bufs.map((b) => b.buffer), params, ctx.grid(w.size));
    },

    sgdUpdate(wh, gh, bh, first, momentum, dampening, nesterov, l2, s, apply) {
      const w = g(wh);
      const hasBuf = bh !== null;
      const bufs = [w, g(gh), ...(hasBuf ? [g(bh)] : [])];
      const code = `${decl(0, 'w', 'f32', true)}\n${decl(1, 'gr', 'f32')}\n${hasBuf ? decl(2, 'bf', 'f32', true) : ''}\n${prmDecl(hasBuf ? 3 : 2)}\n${INDEX}
fn pf(k: u32) -> f32 { return bitcast<f32>(prm[k]); }
${MAIN_1D} {
  let i = flat(gid, nwg); if (i >= prm[0]) { return; }
  let wi = w[i]; var gi = gr[i];
  let l2 = pf(1); if (l2 != 0.0) { gi = gi + l2 * wi; }
  var ui = gi;
  ${hasBuf ? `let bi = select(pf(3) * bf[i] + pf(4) * gi, gi, prm[6] != 0u); bf[i] = bi;
  ui = select(bi, gi + pf(3) * bi, prm[7] != 0u);` : ''}
  ui = ui * pf(2);
  if (prm[5] != 0u) { w[i] = wi + ui; }
}`;
      const params = [w.size, ...[l2, s, momentum, 1 - dampening].map(f32Bits), apply ? 1 : 0, first ? 1 : 0, nesterov ? 1 : 0];
      ctx.dispatch(() => `'sgdUpdate' (${w.size} elements)`, code, bufs.map((b) => b.buffer), params, ctx.grid(w.size));
    },

    rmspropUpdate(wh, gh, sqh, gah, bh, alpha, eps, momentum, l2, s, apply) {
      const w = g(wh);
      const centered = gah !== null;
      const hasBuf = bh !== null;
      const bufs = [w, g(gh), g(sqh), ...(centered ? [g(gah)] : []), ...(hasBuf ? [g(bh)] : [])];
      let at = 3;
      const gaDecl = centered ? decl(at++, 'ga', 'f32', true) : '';
      const bfDecl = hasBuf ? decl(at++, 'bf', 'f32', true) : '';
      const code = `${decl(0, 'w', 'f32', true)}\n${decl(1, 'gr', 'f32')}\n${decl(2, 'sq', 'f32', true)}\n${gaDecl}\n${bfDecl}\n${prmDecl(at)}\n${INDEX}
fn pf(k: u32) -> f32 { return bitcast<f32>(prm[k]); }
${MAIN_1D} {
  let i = flat(gid, nwg); if (i >= prm[0]) { return; }
  let wi = w[i]; var gi = gr[i];
  let l2 = pf(4); if (l2 != 0.0) { gi = gi + l2 * wi; }
  var ms = pf(1) * sq[i] + pf(7) * gi * gi; sq[i] = ms;
  ${centered ? 'let ai = pf(1) * ga[i] + pf(7) * gi; ga[i] = ai; ms = max(0.0, ms - ai * ai);' : ''}
  let st = gi / (sqrt(ms) + pf(2));
  var ui = st;
  ${hasBuf ? 'ui = pf(3) * bf[i] + st; bf[i] = ui;' : ''}
  ui = ui * pf(5);
  if (prm[6] != 0u) { w[i] = wi + ui; }
}`;
      const params = [w.size, ...[alpha, eps, momentum, l2, s].map(f32Bits), apply ? 1 : 0, f32Bits(1 - alpha)];
      ctx.dispatch(() => `'rmspropUpdate' (${w.size} elements)`, code, bufs.map((b) => b.buffer), params, ctx.grid(w.size));
    },

    adagradUpdate(wh, gh, sh, eps, factor, l2, s, apply) {
      const w = g(wh);
      const bufs = [w, g(gh), g(sh)];
      const code = `${decl(0, 'w', 'f32', true)}\n${decl(1, 'gr', 'f32')}\n${decl(2, 'sm', 'f32', true)}\n${prmDecl(3)}\n${INDEX}
fn pf(k: u32) -> f32 { return bitcast<f32>(prm[k]); }
${MAIN_1D} {
  let i = flat(gid, nwg); if (i >= prm[0]) { return; }
  let wi = w[i]; var gi = gr[i];
  let l2 = pf(3); if (l2 != 0.0) { gi = gi + l2 * wi; }
  let si = sm[i] + gi * gi; sm[i] = si;
  var ui = (pf(2) * gi) / (sqrt(si) + pf(1));
  ui = ui * pf(4);
  if (prm[5] != 0u) { w[i] = wi + ui; }
}`;
      const params = [w.size, ...[eps, factor, l2, s].map(f32Bits), apply ? 1 : 0];
      ctx.dispatch(() => `'adagradUpdate' (${w.size} elements)`, code, bufs.map((b) => b.buffer), params, ctx.grid(w.size));
    },

    nonFiniteCount(xhs) {
      const xs = xhs.map(g);
      const o = ctx.zeros('int32', xs.length);
      // One dispatch per float buffer: a thread per element, a workgroup sum, one atomic add
      // per workgroup into the buffer's slot. int32 and bool buffers hold no NaN/Inf: their 0
      // comes from the zero-filled output.
      const code = `${decl(0, 'x', 'u32')}\n@group(0) @binding(1) var<storage, read_write> y: array<atomic<i32>>;\n${prmDecl(2)}
var<workgroup> cnt: array<u32, 64>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = gid.x + gid.y * nwg.x * 64u;
  var c = 0u;
  if (i < prm[0] && (x[i] & 0x7f800000u) == 0x7f800000u) { c = 1u; }
  cnt[lid] = c; workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { cnt[lid] += cnt[lid + s]; } workgroupBarrier(); }
  if (lid == 0u && cnt[0] > 0u) { atomicAdd(&y[prm[1]], i32(cnt[0])); }
}`;
      xs.forEach((x, j) => {
        if (x.dtype !== 'float32' || x.size === 0) return;
        ctx.dispatch(() => `'nonFiniteCount' (buffer ${j} of ${xs.length}, ${x.size} elements)`, code, [x.buffer, o.buffer], [x.size, j], ctx.grid(x.size));
      });
      return asHandle(o);
    },
  };

  function softmaxT(x: GpuTensor, outer: number, size: number, inner: number, log: boolean): GpuTensor {
    const o = out(x.dtype, x.size);
    const rows = outer * inner;
    const write = log ? 'x[at] - mx - log(sum)' : 'exp(x[at] - mx) / sum';
    const code = `${decl(0, 'x', 'f32')}\n${decl(1, 'y', 'f32', true)}\n${prmDecl(2)}\n${NAN}
var<workgroup> sh: array<f32, 64>;
${MAIN_ROW} {
  let r = wid.x + wid.y * nwg.x; let n = prm[1]; let inner = prm[2]; let ok = r < prm[0];
  let base = (r / inner) * n * inner + r % inner;
  var m = ninf_();
  if (ok) { for (var j = lid; j < n; j += 64u) { m = max(m, x[base + j * inner]); } }
  sh[lid] = m; workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { sh[lid] = max(sh[lid], sh[lid + s]); } workgroupBarrier(); }
  let mx = sh[0];
  workgroupBarrier();
  var e = 0.0;
  if (ok) { for (var j = lid; j < n; j += 64u) { e += exp(x[base + j * inner] - mx); } }
  sh[lid] = e; workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) { if (lid < s) { sh[lid] += sh[lid + s]; } workgroupBarrier(); }
  let sum = sh[0];
  if (ok) { for (var j = lid; j < n; j += 64u) { let at = base + j * inner; y[at] = ${write}; } }
}`;
    ctx.dispatch(() => `'${log ? 'logSoftmax' : 'softmax'}' ([${outer}, ${size}, ${inner}])`, code, [x.buffer, o.buffer], [rows, size, inner], ctx.rowGrid(rows));
    return o;
  }

  function biasActT(x: GpuTensor, shape: Shape, bias: GpuTensor, axis: number, act: FusedActivation): GpuTensor {
    const [, size, inner] = around(shape, axis);
    const o = out(x.dtype, x.size);
    // relu keeps NaN (as the relu kernel does) and maps −∞ to 0.
    const body = act === 'relu' ? 'let v = x[i] + b[(i / prm[2]) % prm[1]]; y[i] = select(v, 0.0, !(v > 0.0) && !isnan_(v));' : 'y[i] = x[i] + b[(i / prm[2]) % prm[1]];';
    elementwise(() => `'biasAct' (${fmtShape(shape)} along ${axis}, ${act})`, [{ name: 'x', t: x, type: 'f32' }, { name: 'b', t: bias, type: 'f32' }], o, 'f32', body, [size, inner]);
    return o;
  }

  /**
   * Batched GEMM, tiled through workgroup memory: each 8×8 workgroup computes a 32×32 block of C,
   * 4×4 outputs per thread, staging 32×16 slices of A and B in shared memory per step of k.
   * Transposes and batch strides are folded into the tile loads.
   */
  function matmulT(a: GpuTensor, b: GpuTensor, p: MatmulParams): GpuTensor {
    const o = out(a.dtype, p.batch * p.m * p.n);
    gemm(a, b, o, { ...p, strideC: p.m * p.n, offA: 0, offB: 0, offC: 0 });
    return o;
  }

  /** C[offC + t·strideC] = op(A[offA + t·strideA]) · op(B[offB + t·strideB]) for t < batch (conv uses the offsets). */
  function gemm(a: GpuTensor, b: GpuTensor, o: GpuTensor, p: MatmulParams & { strideC: number; offA: number; offB: number; offC: number }): void {
    const { batch, m, k, n, transA, transB, strideA, strideB } = p;
    // An operand is "k-major" when consecutive elements step along its row/column index (A used
    // transposed, B as stored) and "k-minor" when they step along k. Either way, when its
    // contiguous dimension, batch stride and offset are multiples of 4, the tile is loaded as
    // vec4s (a quarter of the load instructions); otherwise one f32 at a time.
    const vecA = (transA ? m : k) % 4 === 0 && strideA % 4 === 0 && p.offA % 4 === 0;
    const vecB = (transB ? k : n) % 4 === 0 && strideB % 4 === 0 && p.offB % 4 === 0;
    const code = `${decl(0, 'A', vecA ? 'vec4<f32>' : 'f32')}\n${decl(1, 'B', vecB ? 'vec4<f32>' : 'f32')}\n${decl(2, 'C', 'f32', true)}\n${prmDecl(3)}
var<workgroup> As: array<f32, 512>; // [16][32]: k-major
var<workgroup> Bs: array<f32, 512>;
@compute @workgroup_size(8, 8) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = prm[0]; let K = prm[1]; let N = prm[2];
  let bt = wid.z + prm[5];
  let offA = prm[7] + bt * prm[3]; let offB = prm[8] + bt * prm[4]; let offC = prm[9] + bt * prm[6];
  let row0 = wid.y * 32u; let col0 = wid.x * 32u;
  let tx = lid3.x; let ty = lid3.y;
  var acc: array<f32, 16>;
  for (var t = 0u; t < 16u; t++) { acc[t] = 0.0; }
  for (var k0 = 0u; k0 < K; k0 += 16u) {
${tileLoad('A', 'As', transA, vecA, 'offA', 'row0', 'M', transA ? 'M' : 'K')}
${tileLoad('B', 'Bs', !transB, vecB, 'offB', 'col0', 'N', transB ? 'K' : 'N')}
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      var av: array<f32, 4>; var bv: array<f32, 4>;
      for (var r = 0u; r < 4u; r++) { av[r] = As[kk * 32u + ty * 4u + r]; bv[r] = Bs[kk * 32u + tx * 4u + r]; }
      for (var r = 0u; r < 4u; r++) { for (var c = 0u; c < 4u; c++) { acc[r * 4u + c] += av[r] * bv[c]; } }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    let row = row0 + ty * 4u + r;
    for (var c = 0u; c < 4u; c++) {
      let col = col0 + tx * 4u + c;
      if (row < M && col < N) { C[offC + row * N + col] = acc[r * 4u + c]; }
    }
  }
}`;
    const what = () => `'matmul' (batch ${batch}, ${m}×${k} · ${k}×${n}, transA ${transA}, transB ${transB})`;
    for (let b0 = 0; b0 < batch; b0 += 65535) {
      const nb = Math.min(65535, batch - b0);
      ctx.dispatch(what, code, [a.buffer, b.buffer, o.buffer], [m, k, n, strideA, strideB, b0, p.strideC, p.offA, p.offB, p.offC], [Math.ceil(n / 32), Math.ceil(m / 32), nb]);
    }
  }

  return kernels;
}
