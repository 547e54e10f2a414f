// Adam/AdamW update in wasm, bit for bit the same as the TypeScript fast path
// (src/backends/reference/optim.ts adamUpdate): the arithmetic is double precision with a rounding
// to float32 (demote then promote) wherever the TypeScript stores into a Float32Array or calls
// Math.fround, the operations keep their order (no fused multiply-add, no reciprocals), and IEEE
// double arithmetic is exact-rounded in wasm just as in JS. Two elements per f64x2 step: the
// two divisions and the square root are what an Adam step costs, and they halve here.

/** Scalar parameters, as f64 at byte 64 of the job block (see runAdam in index.ts). */
@unmanaged export class AdamParams {
  b1: f64; b2: f64; eps: f64; bc1: f64; bc2Sqrt: f64; l2: f64; decay: f64; s: f64;
}

// @ts-ignore: decorator
@inline function lo2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}
// @ts-ignore: decorator
@inline function fr(x: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(x));
}
// @ts-ignore: decorator
@inline function store2(p: usize, x: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(x), 0);
}

/** One element, the same expressions in scalar doubles (the odd tail). */
function adamOne(
  q: AdamParams, c1: f64, c2: f64, w: usize, g: usize, m: usize, v: usize, vMax: usize, apply: i32,
): void {
  const wi = <f64>load<f32>(w);
  let gi = <f64>load<f32>(g);
  if (q.l2 != 0) gi = <f64><f32>(gi + q.l2 * wi);
  const mi = <f64><f32>(q.b1 * <f64>load<f32>(m) + c1 * gi);
  store<f32>(m, <f32>mi);
  let vf = <f32>(q.b2 * <f64>load<f32>(v) + c2 * gi * gi);
  store<f32>(v, vf);
  if (vMax != 0) {
    const old = load<f32>(vMax);
    if (vf > old) store<f32>(vMax, vf);
    else vf = old;
  }
  let ui = <f64><f32>(mi / q.bc1 / (Math.sqrt(<f64>vf) / q.bc2Sqrt + q.eps));
  if (q.decay != 0) ui = <f64><f32>(ui + q.decay * wi);
  ui = <f64><f32>(ui * q.s);
  if (apply) store<f32>(w, <f32>(wi + ui));
}

/** Elements [i0, i1) of slice tid of nt, in pairs. */
export function adamStep(
  n: i32, w: usize, g: usize, m: usize, v: usize, vMax: usize, apply: i32, q: AdamParams, tid: i32, nt: i32,
): void {
  const pairs = n >> 1;
  const p0 = <i32>((<i64>pairs * tid) / nt), p1 = <i32>((<i64>pairs * (tid + 1)) / nt);
  const c1 = 1 - q.b1, c2 = 1 - q.b2;
  const b1 = f64x2.splat(q.b1), b2 = f64x2.splat(q.b2), c1v = f64x2.splat(c1), c2v = f64x2.splat(c2);
  const bc1 = f64x2.splat(q.bc1), bc2 = f64x2.splat(q.bc2Sqrt), eps = f64x2.splat(q.eps);
  const l2 = f64x2.splat(q.l2), decay = f64x2.splat(q.decay), s = f64x2.splat(q.s);
  const useL2 = q.l2 != 0, useDecay = q.decay != 0;
  for (let p = p0; p < p1; p++) {
    const o = <usize>p << 3;
    const wv = lo2(w + o);
    let gv = lo2(g + o);
    if (useL2) gv = fr(f64x2.add(gv, f64x2.mul(l2, wv)));
    const mv = fr(f64x2.add(f64x2.mul(b1, lo2(m + o)), f64x2.mul(c1v, gv)));
    store2(m + o, mv);
    let vv = fr(f64x2.add(f64x2.mul(b2, lo2(v + o)), f64x2.mul(f64x2.mul(c2v, gv), gv)));
    store2(v + o, vv);
    if (vMax != 0) {
      const vf = f32x4.demote_f64x2_zero(vv);
      const old = v128.load64_zero(vMax + o);
      const keep = v128.bitselect(vf, old, f32x4.gt(vf, old));
      v128.store64_lane(vMax + o, keep, 0);
      vv = f64x2.promote_low_f32x4(keep);
    }
    let u = fr(f64x2.div(f64x2.div(mv, bc1), f64x2.add(f64x2.div(f64x2.sqrt(vv), bc2), eps)));
    if (useDecay) u = fr(f64x2.add(u, f64x2.mul(decay, wv)));
    u = fr(f64x2.mul(u, s));
    if (apply) store2(w + o, f64x2.add(wv, u));
  }
  if ((n & 1) != 0 && tid == nt - 1) {
    const o = <usize>(n - 1) << 2;
    adamOne(q, c1, c2, w + o, g + o, m + o, v + o, vMax != 0 ? vMax + o : 0, apply);
  }
}

// RMSprop, bit for bit src/backends/reference/optim.ts rmspropUpdate, in the same f64x2 manner: the
// division and the square root per element are the cost, and they halve here.

/** Scalar parameters, as f64 at byte 64 of the job block (see src/backends/wasm/optim.ts). */
@unmanaged export class RmsParams {
  alpha: f64; eps: f64; momentum: f64; l2: f64; s: f64;
}

/** One element in scalar doubles (the odd tail). */
function rmsOne(q: RmsParams, c: f64, w: usize, g: usize, sq: usize, gAvg: usize, buf: usize, apply: i32): void {
  const wi = <f64>load<f32>(w);
  let gi = <f64>load<f32>(g);
  if (q.l2 != 0) gi = <f64><f32>(gi + q.l2 * wi);
  let meanSq = <f64><f32>(q.alpha * <f64>load<f32>(sq) + c * gi * gi);
  store<f32>(sq, <f32>meanSq);
  if (gAvg != 0) {
    const ai = <f64><f32>(q.alpha * <f64>load<f32>(gAvg) + c * gi);
    store<f32>(gAvg, <f32>ai);
    // Math.max(0, x) of the TypeScript: NaN stays NaN, −0 becomes +0 (wasm max does both).
    meanSq = max<f64>(0, meanSq - ai * ai);
  }
  const step = gi / (Math.sqrt(meanSq) + q.eps);
  let ui: f64;
  if (buf != 0) {
    ui = <f64><f32>(q.momentum * <f64>load<f32>(buf) + step);
    store<f32>(buf, <f32>ui);
  } else {
    ui = <f64><f32>step;
  }
  ui = <f64><f32>(ui * q.s);
  if (apply) store<f32>(w, <f32>(wi + ui));
}

/** Elements of slice tid of nt, in pairs; gAvg and buf are 0 when absent. */
export function rmsStep(
  n: i32, w: usize, g: usize, sq: usize, gAvg: usize, buf: usize, apply: i32, q: RmsParams, tid: i32, nt: i32,
): void {
  const pairs = n >> 1;
  const p0 = <i32>((<i64>pairs * tid) / nt), p1 = <i32>((<i64>pairs * (tid + 1)) / nt);
  const c = 1 - q.alpha;
  const alpha = f64x2.splat(q.alpha), cv = f64x2.splat(c), eps = f64x2.splat(q.eps), mom = f64x2.splat(q.momentum);
  const l2 = f64x2.splat(q.l2), s = f64x2.splat(q.s), zero = f64x2.splat(0);
  const useL2 = q.l2 != 0;
  for (let p = p0; p < p1; p++) {
    const o = <usize>p << 3;
    const wv = lo2(w + o);
    let gv = lo2(g + o);
    if (useL2) gv = fr(f64x2.add(gv, f64x2.mul(l2, wv)));
    let ms = fr(f64x2.add(f64x2.mul(alpha, lo2(sq + o)), f64x2.mul(f64x2.mul(cv, gv), gv)));
    store2(sq + o, ms);
    if (gAvg != 0) {
      const av = fr(f64x2.add(f64x2.mul(alpha, lo2(gAvg + o)), f64x2.mul(cv, gv)));
      store2(gAvg + o, av);
      ms = f64x2.max(zero, f64x2.sub(ms, f64x2.mul(av, av)));
    }
    const step = f64x2.div(gv, f64x2.add(f64x2.sqrt(ms), eps));
    let u: v128;
    if (buf != 0) {
      u = fr(f64x2.add(f64x2.mul(mom, lo2(buf + o)), step));
      store2(buf + o, u);
    } else {
      u = fr(step);
    }
    u = fr(f64x2.mul(u, s));
    if (apply) store2(w + o, f64x2.add(wv, u));
  }
  if ((n & 1) != 0 && tid == nt - 1) {
    const o = <usize>(n - 1) << 2;
    rmsOne(q, c, w + o, g + o, sq + o, gAvg != 0 ? gAvg + o : 0, buf != 0 ? buf + o : 0, apply);
  }
}
