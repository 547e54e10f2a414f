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
 * y = x ⊙ part[m] over x viewed as [outer, mid, inner], e.g. a channel bias [C] over
 * [N, C, H, W]; mode 0: +, 1: ×, 2: + then relu (max with 0, which keeps NaN, as the relu
 * kernel). This thread takes runs (outer·mid of them) [r0, r1). f32 + and × round exactly as the
 * reference's double-precision expression rounded to f32.
 */
export function blockedBinary(mode: i32, outer: i32, mid: i32, inner: i32, x: usize, part: usize, y: usize, tid: i32, nt: i32): void {
  const runs = outer * mid;
  const r0 = <i32>((<i64>runs * tid) / nt);
  const r1 = <i32>((<i64>runs * (tid + 1)) / nt);
  const zero = f32x4.splat(0);
  for (let r = r0; r < r1; r++) {
    const c = load<f32>(part + (<usize>(r % mid) << 2));
    const cv = f32x4.splat(c);
    let i = <usize>r * <usize>inner << 2;
    const end = i + (<usize>inner << 2);
    if (mode == 1) {
      for (; i + 16 <= end; i += 16) v128.store(y + i, f32x4.mul(v128.load(x + i), cv));
      for (; i < end; i += 4) store<f32>(y + i, load<f32>(x + i) * c);
    } else if (mode == 2) {
      for (; i + 16 <= end; i += 16) v128.store(y + i, f32x4.max(f32x4.add(v128.load(x + i), cv), zero));
      for (; i < end; i += 4) store<f32>(y + i, max<f32>(load<f32>(x + i) + c, 0));
    } else {
      for (; i + 16 <= end; i += 16) v128.store(y + i, f32x4.add(v128.load(x + i), cv));
      for (; i < end; i += 4) store<f32>(y + i, load<f32>(x + i) + c);
    }
  }
}

/**
 * o = a ⋄ b elementwise over this thread's range, ⋄ by mode: 0 +, 1 −, 2 ×, 3 ÷. One float32
 * operation rounds exactly as the reference's double-precision one rounded to float32 (double
 * has more than twice float32's precision), so the results are the reference's bit for bit.
 */
export function fullBinary(mode: i32, n: i32, a: usize, b: usize, o: usize, tid: i32, nt: i32): void {
  const r = range(n, tid, nt);
  let i = <usize>(<i32>(r >> 32)) << 2;
  const end = <usize>(<i32>(r & 0xffffffff)) << 2;
  if (mode == 0) {
    for (; i + 16 <= end; i += 16) v128.store(o + i, f32x4.add(v128.load(a + i), v128.load(b + i)));
    for (; i < end; i += 4) store<f32>(o + i, load<f32>(a + i) + load<f32>(b + i));
  } else if (mode == 1) {
    for (; i + 16 <= end; i += 16) v128.store(o + i, f32x4.sub(v128.load(a + i), v128.load(b + i)));
    for (; i < end; i += 4) store<f32>(o + i, load<f32>(a + i) - load<f32>(b + i));
  } else if (mode == 2) {
    for (; i + 16 <= end; i += 16) v128.store(o + i, f32x4.mul(v128.load(a + i), v128.load(b + i)));
    for (; i < end; i += 4) store<f32>(o + i, load<f32>(a + i) * load<f32>(b + i));
  } else {
    for (; i + 16 <= end; i += 16) v128.store(o + i, f32x4.div(v128.load(a + i), v128.load(b + i)));
    for (; i < end; i += 4) store<f32>(o + i, load<f32>(a + i) / load<f32>(b + i));
  }
}

/**
 * y[o, j] = x[o, j] + b[j] (then relu when `relu`), the bias of a Linear layer: rows [o0, o1) of
 * this thread, the row added to b four columns at a time.
 */
export function rowBias(rows: i32, cols: i32, x: usize, b: usize, y: usize, relu: i32, tid: i32, nt: i32): void {
  const o0 = <i32>((<i64>rows * tid) / nt), o1 = <i32>((<i64>rows * (tid + 1)) / nt);
  const zero = f32x4.splat(0);
  for (let o = o0; o < o1; o++) {
    const row = <usize>o * <usize>cols << 2;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const q = <usize>j << 2;
      let v = f32x4.add(v128.load(x + row + q), v128.load(b + q));
      if (relu) v = f32x4.max(v, zero);
      v128.store(y + row + q, v);
    }
    for (; j < cols; j++) {
      const q = <usize>j << 2;
      let v = load<f32>(x + row + q) + load<f32>(b + q);
      if (relu) v = max<f32>(v, 0);
      store<f32>(y + row + q, v);
    }
  }
}

/** Rows per partial column sum in biasActBackward (inner = 1); the JS side uses the same. */
export const ROW_BLOCK: i32 = 32;

// @ts-ignore: decorator
@inline function maskGrad(y: v128, dy: v128, relu: i32): v128 {
  if (!relu) return dy;
  const zero = f32x4.splat(0);
  const g = f32x4.mul(dy, v128.bitselect(f32x4.splat(1), zero, f32x4.gt(y, zero)));
  return v128.bitselect(y, g, f32x4.ne(y, y));
}
// @ts-ignore: decorator
@inline function maskGrad1(y: f32, dy: f32, relu: i32): f32 {
  if (!relu) return dy;
  return y != y ? y : dy * (y > 0 ? <f32>1 : <f32>0);
}

/**
 * The gradients of biasAct from its output y: dx = dy·relu'(y) (the reluBackward expression; dy
 * itself when not relu), and the bias gradient's pieces in float64: with inner > 1 one sum per run
 * (sums[r], r < outer·mid; the caller adds the runs of each channel), with inner = 1 (rows of a
 * Linear) one partial column sum per block of ROW_BLOCK rows (sums + block·mid). The caller adds
 * them in a fixed order, so the result depends neither on the thread count nor on who ran what.
 */
export function biasActBackward(outer: i32, mid: i32, inner: i32, y: usize, dy: usize, dx: usize, sums: usize, relu: i32, tid: i32, nt: i32): void {
  if (inner == 1) {
    const blocks = (outer + ROW_BLOCK - 1) / ROW_BLOCK;
    const b0 = <i32>((<i64>blocks * tid) / nt), b1 = <i32>((<i64>blocks * (tid + 1)) / nt);
    for (let blk = b0; blk < b1; blk++) {
      const part = sums + (<usize>blk * <usize>mid << 3);
      memory.fill(part, 0, <usize>mid << 3);
      const oEnd = min(outer, (blk + 1) * ROW_BLOCK);
      for (let o = blk * ROW_BLOCK; o < oEnd; o++) {
        const row = <usize>o * <usize>mid << 2;
        let j = 0;
        for (; j + 4 <= mid; j += 4) {
          const q = <usize>j << 2;
          const g = maskGrad(v128.load(y + row + q), v128.load(dy + row + q), relu);
          v128.store(dx + row + q, g);
          const at = part + (<usize>j << 3);
          v128.store(at, f64x2.add(v128.load(at), f64x2.promote_low_f32x4(g)));
          v128.store(at, f64x2.add(v128.load(at, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(g, g, 2, 3, 0, 1))), 16);
        }
        for (; j < mid; j++) {
          const q = <usize>j << 2;
          const g = maskGrad1(load<f32>(y + row + q), load<f32>(dy + row + q), relu);
          store<f32>(dx + row + q, g);
          const at = part + (<usize>j << 3);
          store<f64>(at, load<f64>(at) + <f64>g);
        }
      }
    }
    return;
  }
  const runs = outer * mid;
  const r0 = <i32>((<i64>runs * tid) / nt), r1 = <i32>((<i64>runs * (tid + 1)) / nt);
  for (let r = r0; r < r1; r++) {
    let i = <usize>r * <usize>inner << 2;
    const end = i + (<usize>inner << 2);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
    for (; i + 16 <= end; i += 16) {
      const g = maskGrad(v128.load(y + i), v128.load(dy + i), relu);
      v128.store(dx + i, g);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(g));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(g, g, 2, 3, 0, 1)));
    }
    let acc = f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1) + f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1);
    for (; i < end; i += 4) {
      const g = maskGrad1(load<f32>(y + i), load<f32>(dy + i), relu);
      store<f32>(dx + i, g);
      acc += <f64>g;
    }
    store<f64>(sums + (<usize>r << 3), acc);
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
 * Four adjacent 2×2 windows (stride 2) whose top-left pixels are at src (row stride w floats):
 * the even and odd columns of two rows are the four taps, visited in the reference's order
 * (row by row) with its rule — a later tap wins when greater, or when it is the first NaN.
 * `idx` holds the flat indices of the four top-left taps.
 */
// @ts-ignore: decorator
@inline function pool2x2(src: usize, w: i32, idx: v128, y: usize, arg: usize): void {
  const below = src + (<usize>w << 2);
  const r0a = v128.load(src), r0b = v128.load(src, 16);
  const r1a = v128.load(below), r1b = v128.load(below, 16);
  let best = v128.shuffle<f32>(r0a, r0b, 0, 2, 4, 6);
  let at = idx;
  // Taps 2..4: (row 0, odd column), (row 1, even), (row 1, odd).
  let v = v128.shuffle<f32>(r0a, r0b, 1, 3, 5, 7);
  let better = v128.or(f32x4.gt(v, best), v128.andnot(f32x4.ne(v, v), f32x4.ne(best, best)));
  best = v128.bitselect(v, best, better);
  at = v128.bitselect(i32x4.add(idx, i32x4.splat(1)), at, better);
  v = v128.shuffle<f32>(r1a, r1b, 0, 2, 4, 6);
  better = v128.or(f32x4.gt(v, best), v128.andnot(f32x4.ne(v, v), f32x4.ne(best, best)));
  best = v128.bitselect(v, best, better);
  at = v128.bitselect(i32x4.add(idx, i32x4.splat(w)), at, better);
  v = v128.shuffle<f32>(r1a, r1b, 1, 3, 5, 7);
  better = v128.or(f32x4.gt(v, best), v128.andnot(f32x4.ne(v, v), f32x4.ne(best, best)));
  best = v128.bitselect(v, best, better);
  at = v128.bitselect(i32x4.add(idx, i32x4.splat(w + 1)), at, better);
  v128.store(y, best);
  v128.store(arg, at);
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
  // The common 2×2 / stride 2 window with every window inside the image: four outputs at once.
  const pair = kh == 2 && kw == 2 && sh == 2 && sw == 2 && pt == 0 && pl == 0 && 2 * outH <= h && 2 * outW <= w;
  for (let p = p0; p < p1; p++) {
    const xp = x + (<usize>(p * h * w) << 2);
    let oi = p * outH * outW;
    for (let oy = 0; oy < outH; oy++) {
      const ys = oy * sh - pt;
      const y0 = max(ys, 0), y1 = min(ys + kh, h);
      let ox = 0;
      if (pair) {
        for (; ox + 4 <= outW; ox += 4, oi += 4) {
          const t = ys * w + 2 * ox;
          pool2x2(xp + (<usize>t << 2), w, i32x4(t, t + 2, t + 4, t + 6), y + (<usize>oi << 2), arg + (<usize>oi << 2));
        }
      }
      for (; ox < outW; ox++, oi++) {
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

/**
 * Max pooling's gradient over planes [plane0, plane1) of this thread: the planes of dx zeroed,
 * then each output's gradient added at its argmax, in output order — the reference's sums in
 * the reference's order (a float32 add is what JS's double add rounded to float32 gives).
 */
export function maxPoolBackward(planes: i32, planeIn: i32, planeOut: i32, dy: usize, arg: usize, dx: usize, tid: i32, nt: i32): void {
  const p0 = <i32>((<i64>planes * tid) / nt);
  const p1 = <i32>((<i64>planes * (tid + 1)) / nt);
  if (p1 <= p0) return;
  memory.fill(dx + (<usize>(p0 * planeIn) << 2), 0, <usize>((p1 - p0) * planeIn) << 2);
  for (let p = p0; p < p1; p++) {
    const dxp = dx + (<usize>(p * planeIn) << 2);
    const o0 = p * planeOut;
    for (let i = o0, e = o0 + planeOut; i < e; i++) {
      const at = dxp + (<usize>load<i32>(arg + (<usize>i << 2)) << 2);
      store<f32>(at, load<f32>(at) + load<f32>(dy + (<usize>i << 2)));
    }
  }
}
