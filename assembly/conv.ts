// NCHW convolution lowered to GEMM through im2col / col2im. For one image and one group the
// column matrix is col[(ci·kh + ky)·kw + kx][oy·outW + ox] = x[ci, iy, ix] (zero outside the image),
// with iy = oy·sh − padTop + ky·dh and ix = ox·sw − padLeft + kx·dw, exactly the reference's taps.
// Then forward is W_g · col, the input gradient is col2im(W_gᵀ · dy), the weight gradient is
// Σ_images dy · colᵀ.

import { gemm, GEMM_WS_BYTES } from './gemm';

/** The conv geometry as the JS side wrote it into the job block (i32 words 1..16). */
@unmanaged export class Geo {
  n: i32; cIn: i32; h: i32; w: i32; cOut: i32; kh: i32; kw: i32;
  sh: i32; sw: i32; pt: i32; pl: i32; dh: i32; dw: i32; groups: i32; outH: i32; outW: i32;
}

/** First and one-past-last output column whose input column ox·sw + off lies in [0, w). */
// @ts-ignore: decorator
@inline function validRange(off: i32, sw: i32, w: i32, outW: i32): i64 {
  const lo = off >= 0 ? 0 : min((-off + sw - 1) / sw, outW);
  const last = w - 1 - off;
  let hi = last < 0 ? 0 : last / sw + 1;
  if (hi > outW) hi = outW;
  return (<i64>lo << 32) | <i64>(<u32>max(hi, lo));
}

/**
 * im2col for channels [c0, c0 + cInG) of one image plane block starting at x.
 *
 * The rows and columns that fall inside the image are found once per tap (validRange), so the
 * per-row work is only the copy: with small images (outW = 11 on the benchmark CNN's second
 * layer) the per-row bookkeeping had made im2col about a third of the forward pass. When a whole
 * row is inside the image and the horizontal stride is 1, the row is copied in whole vectors:
 * the last one may write up to 3 floats past the row, into the start of the next row, which is
 * always written later (rows go in order, each row and each zero run is written in full), or,
 * after the matrix's last row, into the 16 spare bytes the caller adds to the column buffer. It
 * may likewise read up to 3 floats past the input row, which stay inside wasm memory (operands
 * are followed by the output and workspace) and are overwritten as just said.
 */
function im2col(g: Geo, x: usize, cInG: i32, col: usize): void {
  const P = g.outH * g.outW;
  const rowBytes = <usize>g.outW << 2;
  const srcStep = <usize>(g.sh * g.w) << 2;
  let row = col;
  for (let ci = 0; ci < cInG; ci++) {
    const xc = x + (<usize>(ci * g.h * g.w) << 2);
    for (let ky = 0; ky < g.kh; ky++) {
      const yoff = ky * g.dh - g.pt;
      const ry = validRange(yoff, g.sh, g.h, g.outH);
      const oyLo = <i32>(ry >> 32), oyHi = <i32>(ry & 0xffffffff);
      for (let kx = 0; kx < g.kw; kx++) {
        const off = kx * g.dw - g.pl;
        const r = validRange(off, g.sw, g.w, g.outW);
        const lo = <i32>(r >> 32), hi = <i32>(r & 0xffffffff);
        // Output rows whose input row lies in the top or bottom padding are zero.
        if (oyLo > 0) memory.fill(row, 0, <usize>oyLo * rowBytes);
        let dst = row + <usize>oyLo * rowBytes;
        let src = xc + (<usize>((oyLo * g.sh + yoff) * g.w + off) << 2);
        if (g.sw == 1 && lo == 0 && hi == g.outW) {
          for (let oy = oyLo; oy < oyHi; oy++, dst += rowBytes, src += srcStep) {
            for (let o: usize = 0; o < rowBytes; o += 16) v128.store(dst + o, v128.load(src + o));
          }
        } else {
          for (let oy = oyLo; oy < oyHi; oy++, dst += rowBytes, src += srcStep) {
            if (lo > 0) memory.fill(dst, 0, <usize>lo << 2);
            if (g.sw == 1) {
              let d = dst + (<usize>lo << 2), q = src + (<usize>lo << 2);
              const end = dst + (<usize>hi << 2);
              for (; d + 16 <= end; d += 16, q += 16) v128.store(d, v128.load(q));
              for (; d < end; d += 4, q += 4) store<f32>(d, load<f32>(q));
            } else {
              for (let ox = lo; ox < hi; ox++) store<f32>(dst + (<usize>ox << 2), load<f32>(src + (<usize>(ox * g.sw) << 2)));
            }
            if (hi < g.outW) memory.fill(dst + (<usize>hi << 2), 0, <usize>(g.outW - hi) << 2);
          }
        }
        if (oyHi < g.outH) memory.fill(dst, 0, <usize>(g.outH - oyHi) * rowBytes);
        row += <usize>P << 2;
      }
    }
  }
}

/** The adjoint of im2col: adds every column entry back onto its input pixel (dx must start zeroed). */
function col2im(g: Geo, col: usize, cInG: i32, dx: usize): void {
  const P = g.outH * g.outW;
  let row = col;
  for (let ci = 0; ci < cInG; ci++) {
    const xc = dx + (<usize>(ci * g.h * g.w) << 2);
    for (let ky = 0; ky < g.kh; ky++) {
      for (let kx = 0; kx < g.kw; kx++) {
        const off = kx * g.dw - g.pl;
        const r = validRange(off, g.sw, g.w, g.outW);
        const lo = <i32>(r >> 32), hi = <i32>(r & 0xffffffff);
        for (let oy = 0; oy < g.outH; oy++) {
          const iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          const src = row + (<usize>(oy * g.outW) << 2);
          const dst = xc + (<usize>(iy * g.w + off) << 2);
          if (g.sw == 1) {
            // Unit stride: the row adds onto a contiguous run of pixels, four at a time.
            let d = dst + (<usize>lo << 2), q = src + (<usize>lo << 2);
            const end = dst + (<usize>hi << 2);
            for (; d + 16 <= end; d += 16, q += 16) v128.store(d, f32x4.add(v128.load(d), v128.load(q)));
            for (; d < end; d += 4, q += 4) store<f32>(d, load<f32>(d) + load<f32>(q));
          } else {
            for (let ox = lo; ox < hi; ox++) {
              const d = dst + (<usize>(ox * g.sw) << 2);
              store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>ox << 2)));
            }
          }
        }
        row += <usize>P << 2;
      }
    }
  }
}

/** Images [n0, n1) of chunk c of `chunks`: an even split. */
// @ts-ignore: decorator
@inline function share(total: i32, c: i32, chunks: i32): i64 {
  const n0 = <i32>((<i64>total * c) / chunks);
  const n1 = <i32>((<i64>total * (c + 1)) / chunks);
  return (<i64>n0 << 32) | <i64>(<u32>n1);
}

/**
 * Forward and input-gradient take images from a shared counter (each image's output is written
 * by one thread alone, so the results do not depend on who took it); the weight gradient keeps a
 * fixed split so that its per-thread partial sums, and hence its rounding, are reproducible.
 */
export function convForward(g: Geo, x: usize, w: usize, y: usize, ws: usize, counter: usize): void {
  const cInG = g.cIn / g.groups, cOutG = g.cOut / g.groups;
  const K = cInG * g.kh * g.kw, P = g.outH * g.outW;
  const col = ws + <usize>GEMM_WS_BYTES;
  for (let b = atomic.add<i32>(counter, 1); b < g.n; b = atomic.add<i32>(counter, 1)) {
    for (let gi = 0; gi < g.groups; gi++) {
      const xg = x + (<usize>((b * g.cIn + gi * cInG) * g.h * g.w) << 2);
      const yg = y + (<usize>((b * g.cOut + gi * cOutG) * P) << 2);
      const wg = w + (<usize>(gi * cOutG * K) << 2);
      im2col(g, xg, cInG, col);
      gemm(cOutG, P, K, wg, K, 1, col, P, 1, yg, P, 0, ws);
    }
  }
}

/**
 * `wT` is the weight already transposed per group (K × cOutG, done once by the caller), so the
 * GEMM packs it with vector copies instead of gathering it one float at a time for every image.
 */
export function convBackwardInput(g: Geo, dy: usize, wT: usize, dx: usize, ws: usize, counter: usize): void {
  const cInG = g.cIn / g.groups, cOutG = g.cOut / g.groups;
  const K = cInG * g.kh * g.kw, P = g.outH * g.outW;
  const col = ws + <usize>GEMM_WS_BYTES;
  for (let b = atomic.add<i32>(counter, 1); b < g.n; b = atomic.add<i32>(counter, 1)) {
    memory.fill(dx + (<usize>(b * g.cIn * g.h * g.w) << 2), 0, <usize>(g.cIn * g.h * g.w) << 2);
    for (let gi = 0; gi < g.groups; gi++) {
      const dyg = dy + (<usize>((b * g.cOut + gi * cOutG) * P) << 2);
      const wg = wT + (<usize>(gi * cOutG * K) << 2);
      // dcol(K×P) = W_gᵀ(K×cOutG) · dy_g(cOutG×P).
      gemm(K, P, cOutG, wg, cOutG, 1, dyg, P, 1, col, P, 0, ws);
      col2im(g, col, cInG, dx + (<usize>((b * g.cIn + gi * cInG) * g.h * g.w) << 2));
    }
  }
}

/**
 * The images are cut into `chunks` fixed, even chunks, taken by threads from a shared counter;
 * each chunk sums its images into its own partial dWᵀ (parts + c·partStride: per group a
 * K × cOutG matrix) and the caller adds the partials in chunk order and transposes. Fixed chunks
 * keep the rounding independent of which thread took what; several chunks per thread let a
 * thread that got its CPU finish another's share on a busy machine (a fixed per-thread split
 * made the whole job wait for a descheduled worker).
 *
 * Transposed because then the big operand, the column matrix, is A with contiguous rows (vector
 * packing) and only the small dy is packed with strided loads; dW = dy·colᵀ had to gather all
 * K·P column entries one float at a time, and for the first layer (K = 9) padded N to 16.
 * Measured on the benchmark CNN at batch 64, one thread: conv1 4.2 → 1.2 ms, conv2 10.7 → 3.9 ms.
 */
export function convBackwardFilter(g: Geo, x: usize, dy: usize, parts: usize, partStride: usize, ws: usize, chunks: i32, counter: usize): void {
  const cInG = g.cIn / g.groups, cOutG = g.cOut / g.groups;
  const K = cInG * g.kh * g.kw, P = g.outH * g.outW;
  const col = ws + <usize>GEMM_WS_BYTES;
  for (let c = atomic.add<i32>(counter, 1); c < chunks; c = atomic.add<i32>(counter, 1)) {
    const part = parts + <usize>c * partStride;
    memory.fill(part, 0, <usize>(g.cOut * K) << 2);
    const s = share(g.n, c, chunks);
    for (let b = <i32>(s >> 32); b < <i32>(s & 0xffffffff); b++) {
      for (let gi = 0; gi < g.groups; gi++) {
        const xg = x + (<usize>((b * g.cIn + gi * cInG) * g.h * g.w) << 2);
        const dyg = dy + (<usize>((b * g.cOut + gi * cOutG) * P) << 2);
        im2col(g, xg, cInG, col);
        // dW_gᵀ(K×cOutG) += col(K×P) · dy_gᵀ(P×cOutG).
        gemm(K, cOutG, P, col, P, 1, dyg, 1, P, part + (<usize>(gi * cOutG * K) << 2), cOutG, 1, ws);
      }
    }
  }
}
