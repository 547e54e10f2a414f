// Elementwise kernels whose JS form is branchy on random-signed data (a mispredicted branch per
// element): relu is one f32x4.max (which, like the reference, keeps NaN and turns -0/-inf into 0),
// and max pooling keeps its running winner with vector compares and bitselect.

/** Elements [i0, i1) of this thread's share, in multiples of 4 so vector loops stay aligned. */
// @ts-ignore: decorator
@inline function range(n: i32, tid: i32, nt: i32): i64 {
  const quads = (n + 3) >> 2;
  const i0 = min(n, <i32>((<i64>quads * tid) / nt) << 2);
  const i1 = min(n, <i32>((<i64>quads * (tid + 1)) / nt) << 2);
  return (<i64>i0 << 32) | <i64>(<u32>i1);
}

export function relu(n: i32, x: usize, y: usize, tid: i32, nt: i32): void {
  const r = range(n, tid, nt);
  let i = <i32>(r >> 32);
  const end = <i32>(r & 0xffffffff);
  const zero = f32x4.splat(0);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.max(v128.load(x + o), zero));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, max<f32>(load<f32>(x + o), 0));
  }
}

/**
 * relu's gradient: dy·(x > 0 ? 1 : 0), and x itself where x is NaN — the reference's expression
 * (a multiply by the 0/1 mask, so an infinite dy under x ≤ 0 gives NaN there too), branch-free.
 */
export function reluBackward(n: i32, x: usize, dy: usize, dx: usize, tid: i32, nt: i32): void {
  const r = range(n, tid, nt);
  let i = <i32>(r >> 32);
  const end = <i32>(r & 0xffffffff);
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const g = f32x4.mul(v128.load(dy + o), v128.bitselect(one, zero, f32x4.gt(v, zero)));
    v128.store(dx + o, v128.bitselect(v, g, f32x4.ne(v, v)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(dx + o, v != v ? v : load<f32>(dy + o) * (v > 0 ? <f32>1 : <f32>0));
  }
}

/**
 * Max pooling over planes [plane0, plane1) of this thread: window clipped to the image, the
 * first maximum wins, a NaN wins and later values (even NaNs) do not replace it — exactly the
 * reference's scan, without its branches. argmax is the flat index inside the plane.
 */
export function maxPool(
  planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, outH: i32, outW: i32,
  x: usize, y: usize, arg: usize, tid: i32, nt: i32,
): void {
  const p0 = <i32>((<i64>planes * tid) / nt);
  const p1 = <i32>((<i64>planes * (tid + 1)) / nt);
  for (let p = p0; p < p1; p++) {
    const xp = x + (<usize>(p * h * w) << 2);
    let oi = p * outH * outW;
    for (let oy = 0; oy < outH; oy++) {
      const ys = oy * sh - pt;
      const y0 = max(ys, 0), y1 = min(ys + kh, h);
      for (let ox = 0; ox < outW; ox++, oi++) {
        const xs = ox * sw - pl;
        const x0 = max(xs, 0), x1 = min(xs + kw, w);
        // The running best lives in lane 0 of a vector: f32x4 compares and bitselect are
        // branch-free in V8, where scalar float compare-and-select becomes a jump.
        let best = f32x4.splat(-Infinity);
        let at = y0 < y1 && x0 < x1 ? y0 * w + x0 : 0;
        for (let yy = y0; yy < y1; yy++) {
          for (let t = yy * w + x0, e = yy * w + x1; t < e; t++) {
            const v = v128.load32_splat(xp + (<usize>t << 2));
            // better = v > best, or v is NaN while best is not yet (the first NaN wins).
            const better = v128.or(f32x4.gt(v, best), v128.andnot(f32x4.ne(v, v), f32x4.ne(best, best)));
            best = v128.bitselect(v, best, better);
            at = select<i32>(t, at, i32x4.extract_lane(better, 0) != 0);
          }
        }
        store<f32>(y + (<usize>oi << 2), f32x4.extract_lane(best, 0));
        store<i32>(arg + (<usize>oi << 2), at);
      }
    }
  }
}
