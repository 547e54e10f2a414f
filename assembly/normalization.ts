// BatchNorm's passes over [N, C, S] data (S = H·W), the heavy part of a BatchNorm layer. Each
// thread takes whole runs r = b·C + c (one image's channel plane) from a fixed split, and every
// run's sums go to their own float64 slot: the caller adds the runs of a channel in a fixed order,
// so the statistics do not depend on the thread count. The per-element arithmetic is the
// reference's (src/backends/reference/fused.ts) in double precision, two lanes at a time.

// @ts-ignore: decorator
@inline function lo2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** Runs [r0, r1) of slice tid of nt. */
// @ts-ignore: decorator
@inline function runRange(runs: i32, tid: i32, nt: i32): i64 {
  const r0 = <i32>((<i64>runs * tid) / nt), r1 = <i32>((<i64>runs * (tid + 1)) / nt);
  return (<i64>r0 << 32) | <i64>(<u32>r1);
}

/**
 * Per run: Σd and Σd² with d = x − K[channel] (K: a data point of the channel, so the one-pass
 * variance does not cancel), into sums[2r] and sums[2r + 1].
 */
export function bnStats(c: i32, s: i32, runs: i32, x: usize, shiftK: usize, sums: usize, tid: i32, nt: i32): void {
  const rr = runRange(runs, tid, nt);
  for (let r = <i32>(rr >> 32); r < <i32>(rr & 0xffffffff); r++) {
    const k = load<f64>(shiftK + (<usize>(r % c) << 3));
    const kv = f64x2.splat(k);
    let p = x + (<usize>r * <usize>s << 2);
    const end = p + (<usize>s << 2);
    let a1 = f64x2.splat(0), a2 = f64x2.splat(0);
    for (; p + 8 <= end; p += 8) {
      const d = f64x2.sub(lo2(p), kv);
      a1 = f64x2.add(a1, d);
      a2 = f64x2.add(a2, f64x2.mul(d, d));
    }
    let s1 = f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1);
    let s2 = f64x2.extract_lane(a2, 0) + f64x2.extract_lane(a2, 1);
    if (p < end) {
      const d = <f64>load<f32>(p) - k;
      s1 += d;
      s2 += d * d;
    }
    store<f64>(sums + (<usize>r << 4), s1);
    store<f64>(sums + (<usize>r << 4), s2, 8);
  }
}

/** y = x·scale[channel] + shift[channel] in double, rounded to float32 (the reference's expression). */
export function bnAffine(c: i32, s: i32, runs: i32, x: usize, scale: usize, shift: usize, y: usize, tid: i32, nt: i32): void {
  const rr = runRange(runs, tid, nt);
  for (let r = <i32>(rr >> 32); r < <i32>(rr & 0xffffffff); r++) {
    const ch = <usize>(r % c) << 3;
    const k = load<f64>(scale + ch), t = load<f64>(shift + ch);
    const kv = f64x2.splat(k), tv = f64x2.splat(t);
    const o = <usize>r * <usize>s << 2;
    let p = x + o, q = y + o;
    const end = p + (<usize>s << 2);
    for (; p + 8 <= end; p += 8, q += 8) {
      v128.store64_lane(q, f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(lo2(p), kv), tv)), 0);
    }
    if (p < end) store<f32>(q, <f32>(<f64>load<f32>(p) * k + t));
  }
}

/** Per run: Σdy and Σdy·(x − μ[channel]) into sums[2r], sums[2r + 1]. */
export function bnBackwardSums(c: i32, s: i32, runs: i32, x: usize, dy: usize, mean: usize, sums: usize, tid: i32, nt: i32): void {
  const rr = runRange(runs, tid, nt);
  for (let r = <i32>(rr >> 32); r < <i32>(rr & 0xffffffff); r++) {
    const mu = load<f64>(mean + (<usize>(r % c) << 3));
    const mv = f64x2.splat(mu);
    const o = <usize>r * <usize>s << 2;
    let p = x + o, g = dy + o;
    const end = p + (<usize>s << 2);
    let a1 = f64x2.splat(0), a2 = f64x2.splat(0);
    for (; p + 8 <= end; p += 8, g += 8) {
      const gv = lo2(g);
      a1 = f64x2.add(a1, gv);
      a2 = f64x2.add(a2, f64x2.mul(gv, f64x2.sub(lo2(p), mv)));
    }
    let s1 = f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1);
    let s2 = f64x2.extract_lane(a2, 0) + f64x2.extract_lane(a2, 1);
    if (p < end) {
      const gi = <f64>load<f32>(g);
      s1 += gi;
      s2 += gi * (<f64>load<f32>(p) - mu);
    }
    store<f64>(sums + (<usize>r << 4), s1);
    store<f64>(sums + (<usize>r << 4), s2, 8);
  }
}

/**
 * dx = k·dy − q·(x − μ) − r per channel (coefficients as f64 arrays [C] at kqr, kqr + 8C,
 * kqr + 16C, and μ at mean), in the reference's order of operations, rounded to float32.
 */
export function bnBackwardDx(c: i32, s: i32, runs: i32, x: usize, dy: usize, mean: usize, kqr: usize, dx: usize, tid: i32, nt: i32): void {
  const rr = runRange(runs, tid, nt);
  const cb = <usize>c << 3;
  for (let r = <i32>(rr >> 32); r < <i32>(rr & 0xffffffff); r++) {
    const ch = <usize>(r % c) << 3;
    const kk = load<f64>(kqr + ch), qq = load<f64>(kqr + cb + ch), rc = load<f64>(kqr + 2 * cb + ch);
    const mu = load<f64>(mean + ch);
    const kv = f64x2.splat(kk), qv = f64x2.splat(qq), rv = f64x2.splat(rc), mv = f64x2.splat(mu);
    const o = <usize>r * <usize>s << 2;
    let p = x + o, g = dy + o, d = dx + o;
    const end = p + (<usize>s << 2);
    for (; p + 8 <= end; p += 8, g += 8, d += 8) {
      const v = f64x2.sub(f64x2.sub(f64x2.mul(kv, lo2(g)), f64x2.mul(qv, f64x2.sub(lo2(p), mv))), rv);
      v128.store64_lane(d, f32x4.demote_f64x2_zero(v), 0);
    }
    if (p < end) store<f32>(d, <f32>(kk * <f64>load<f32>(g) - qq * (<f64>load<f32>(p) - mu) - rc));
  }
}
