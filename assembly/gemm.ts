// Single-threaded SGEMM on raw pointers: C = op(A)·op(B) (beta = 0) or C += op(A)·op(B) (beta = 1).
//
// Operands are described by element strides so one routine covers every transpose case and the
// conv lowerings: A(i, p) lives at a + (i·rsA + p·csA)·4, B(p, j) at b + (p·rsB + j·csB)·4, and
// C(i, j) at c + (i·ldc + j)·4. The structure is the classic GotoBLAS one: B is packed per
// K-block into 8-column panels, A per (MC × KC) block into MR-row panels (both zero-padded, so the
// micro-kernel never branches on edges), and an MR×8 register tile of f32x4 accumulators does the
// arithmetic. MR is 6 with relaxed-SIMD FMA (12 accumulators + 2 B vectors + 1 A splat fit the 16
// SIMD registers) and 5 with plain mul+add, which needs one more temporary.

// @ts-ignore: decorator
@inline export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
// @ts-ignore: decorator
@inline export const NR: i32 = 8;
// @ts-ignore: decorator
@inline export const KC: i32 = 256;
// @ts-ignore: decorator
@inline export const MC: i32 = MR * 16;
// @ts-ignore: decorator
@inline export const NC: i32 = 1024;

/** Bytes of per-thread workspace gemm() needs: packed A block, packed B block, one edge tile. */
export const GEMM_WS_BYTES: i32 = (MC * KC + KC * NC + MR * NR) * 4 + 64;

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Packs B(p0 .. p0+kc, j0 .. j0+nc) as ceil(nc/8) panels of kc×8, zero-padding the last one. */
function packB(dst: usize, b: usize, rsB: i32, csB: i32, p0: i32, kc: i32, j0: i32, nc: i32): void {
  for (let j = 0; j < nc; j += NR) {
    const w = min(NR, nc - j);
    const base = b + (<usize>(p0 * rsB + (j0 + j) * csB) << 2);
    if (w == NR && csB == 1) {
      // Rows of B are contiguous: two vector loads per k.
      for (let p = 0; p < kc; p++) {
        const src = base + (<usize>(p * rsB) << 2);
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        dst += 32;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const src = base + (<usize>(p * rsB) << 2);
        let q = 0;
        for (; q < w; q++) store<f32>(dst + (<usize>q << 2), load<f32>(src + (<usize>(q * csB) << 2)));
        for (; q < NR; q++) store<f32>(dst + (<usize>q << 2), 0);
        dst += 32;
      }
    }
  }
}

/**
 * Packs A(i0 .. i0+mc, p0 .. p0+kc) as ceil(mc/MR) panels of MR rows, each row KC floats apart
 * (zero rows pad the last panel). Rows stay rows, so for the usual row-major A packing is a
 * vector copy per row, and the micro-kernel reaches row r of a panel at the constant offset
 * r·KC·4 (an immediate in the load), needing one pointer for all MR rows.
 */
function packA(dst: usize, a: usize, rsA: i32, csA: i32, i0: i32, mc: i32, p0: i32, kc: i32): void {
  for (let i = 0; i < mc; i += MR) {
    const h = min(MR, mc - i);
    const base = a + (<usize>((i0 + i) * rsA + p0 * csA) << 2);
    if (csA == 1) {
      for (let r = 0; r < h; r++) {
        let s = base + (<usize>(r * rsA) << 2);
        let d = dst + (<usize>(r * KC) << 2);
        const end = d + (<usize>kc << 2);
        for (; d + 16 <= end; d += 16, s += 16) v128.store(d, v128.load(s));
        for (; d < end; d += 4, s += 4) store<f32>(d, load<f32>(s));
      }
    } else {
      // Transposed A: the MR values of one k are adjacent in memory, so walk k outermost.
      for (let p = 0; p < kc; p++) {
        const src = base + (<usize>(p * csA) << 2);
        const d = dst + (<usize>p << 2);
        for (let r = 0; r < h; r++) store<f32>(d + (<usize>(r * KC) << 2), load<f32>(src + (<usize>(r * rsA) << 2)));
      }
    }
    for (let r = h; r < MR; r++) memory.fill(dst + (<usize>(r * KC) << 2), 0, <usize>kc << 2);
    dst += <usize>(MR * KC) << 2;
  }
}

/** MR×8 tile: C(ldc) (=|+=) Apanel · Bpanel over kc. */
function micro(kc: i32, ap: usize, bp: usize, c: usize, ldc: i32, beta: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  // Two k-steps per trip halve the loop bookkeeping, which competes with the SIMD work for
  // decode/dispatch slots (the kernel is front-end bound on x64, not arithmetic bound).
  let p = 0;
  for (; p + 1 < kc; p += 2) {
    let b0 = v128.load(bp);
    let b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap, 0);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 1*KC*4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 2*KC*4);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 3*KC*4);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a = v128.load32_splat(ap, 4*KC*4);
    c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    if (MR == 6) {
      a = v128.load32_splat(ap, 5*KC*4);
      c50 = madd(a, b0, c50); c51 = madd(a, b1, c51);
    }
    b0 = v128.load(bp, 32);
    b1 = v128.load(bp, 48);
    a = v128.load32_splat(ap, 4);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 1*KC*4 + 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 2*KC*4 + 4);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 3*KC*4 + 4);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a = v128.load32_splat(ap, 4*KC*4 + 4);
    c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    if (MR == 6) {
      a = v128.load32_splat(ap, 5*KC*4 + 4);
      c50 = madd(a, b0, c50); c51 = madd(a, b1, c51);
    }
    ap += 8;
    bp += 64;
  }
  if (p < kc) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap, 0);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 1*KC*4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 2*KC*4);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 3*KC*4);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a = v128.load32_splat(ap, 4*KC*4);
    c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    if (MR == 6) {
      a = v128.load32_splat(ap, 5*KC*4);
      c50 = madd(a, b0, c50); c51 = madd(a, b1, c51);
    }
  }
  const ld = <usize>ldc << 2;
  if (beta) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ld)); c11 = f32x4.add(c11, v128.load(c + ld, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ld)); c21 = f32x4.add(c21, v128.load(c + 2 * ld, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ld)); c31 = f32x4.add(c31, v128.load(c + 3 * ld, 16));
    c40 = f32x4.add(c40, v128.load(c + 4 * ld)); c41 = f32x4.add(c41, v128.load(c + 4 * ld, 16));
    if (MR == 6) {
      c50 = f32x4.add(c50, v128.load(c + 5 * ld)); c51 = f32x4.add(c51, v128.load(c + 5 * ld, 16));
    }
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ld, c10); v128.store(c + ld, c11, 16);
  v128.store(c + 2 * ld, c20); v128.store(c + 2 * ld, c21, 16);
  v128.store(c + 3 * ld, c30); v128.store(c + 3 * ld, c31, 16);
  v128.store(c + 4 * ld, c40); v128.store(c + 4 * ld, c41, 16);
  if (MR == 6) {
    v128.store(c + 5 * ld, c50); v128.store(c + 5 * ld, c51, 16);
  }
}

/**
 * C(m×n) (=|+=) A(m×k)·B(k×n) on one thread. `ws` is GEMM_WS_BYTES of scratch owned by the caller.
 * k = 0 gives zeros (beta = 0) or leaves C alone (beta = 1), as the maths says.
 */
export function gemm(
  m: i32, n: i32, k: i32,
  a: usize, rsA: i32, csA: i32,
  b: usize, rsB: i32, csB: i32,
  c: usize, ldc: i32, beta: i32, ws: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!beta) for (let i = 0; i < m; i++) memory.fill(c + (<usize>(i * ldc) << 2), 0, <usize>n << 2);
    return;
  }
  const pa = (ws + 15) & ~(<usize>15);
  const pb = pa + (<usize>(MC * KC) << 2);
  const tile = pb + (<usize>(KC * NC) << 2);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const bt = pc == 0 ? beta : 1;
      packB(pb, b, rsB, csB, pc, kc, jc, nc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(pa, a, rsA, csA, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bp = pb + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const ap = pa + (<usize>(ir * KC) << 2);
            const cp = c + (<usize>((ic + ir) * ldc + jc + jr) << 2);
            if (mr == MR && nr == NR) {
              micro(kc, ap, bp, cp, ldc, bt);
            } else {
              // Edge tile: compute the full tile into scratch, then move only the valid part.
              micro(kc, ap, bp, tile, NR, 0);
              for (let r = 0; r < mr; r++) {
                const crow = cp + (<usize>(r * ldc) << 2);
                const trow = tile + (<usize>(r * NR) << 2);
                if (nr == NR) {
                  // Only rows are missing (M edge): whole rows move as two vectors.
                  let v0 = v128.load(trow), v1 = v128.load(trow, 16);
                  if (bt) {
                    v0 = f32x4.add(v0, v128.load(crow));
                    v1 = f32x4.add(v1, v128.load(crow, 16));
                  }
                  v128.store(crow, v0);
                  v128.store(crow, v1, 16);
                } else {
                  for (let q = 0; q < nr; q++) {
                    const dst = crow + (<usize>q << 2);
                    const v = load<f32>(trow + (<usize>q << 2));
                    store<f32>(dst, bt ? load<f32>(dst) + v : v);
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

/** Depth of the tile the ceiling probe runs (a full K-block). */
export const PEAK_KC: i32 = KC;

/**
 * The GEMM's ceiling on this machine: the micro-kernel run `trips` times on one packed A panel
 * and one packed B panel that stay in L1 (no packing, no cache misses, no edges) — what the
 * inner loop reaches when memory costs nothing. `ws` is scratch for the panels and the tile
 * (filled here, so the arithmetic is on ordinary numbers, not denormals).
 */
export function microPeak(trips: i32, ws: usize): void {
  const ap = (ws + 15) & ~(<usize>15);
  const bp = ap + (<usize>(MR * KC) << 2);
  const c = bp + (<usize>(PEAK_KC * NR) << 2);
  for (let i = 0; i < MR * KC; i++) store<f32>(ap + (<usize>i << 2), <f32>((i % 7) + 1) * 0.125);
  for (let i = 0; i < PEAK_KC * NR; i++) store<f32>(bp + (<usize>i << 2), <f32>((i % 5) + 1) * 0.0625);
  for (let t = 0; t < trips; t++) micro(PEAK_KC, ap, bp, c, NR, t > 0 ? 1 : 0);
}
