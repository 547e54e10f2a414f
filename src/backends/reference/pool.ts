import type { DataArray } from '../../core/dtype.js';
import type { Pool2dParams } from '../../backend/kernels.js';
import { allocLike } from './util.js';

/** Visits every output cell of every (n, c) plane with its in-bounds window taps. */
function forEachWindow(
  p: Pool2dParams,
  fn: (plane: number, outIdx: number, taps: number[], windowSize: number) => void,
): void {
  const taps: number[] = [];
  for (let plane = 0; plane < p.n * p.c; plane++) {
    for (let oy = 0; oy < p.outH; oy++) {
      for (let ox = 0; ox < p.outW; ox++) {
        taps.length = 0;
        const y0 = oy * p.strideH - p.padTop;
        const x0 = ox * p.strideW - p.padLeft;
        // PyTorch counts the padded window, clipped to the padded image, for count_include_pad.
        const yEnd = Math.min(y0 + p.kh, p.h + p.padTop);
        const xEnd = Math.min(x0 + p.kw, p.w + p.padLeft);
        const windowSize = (yEnd - y0) * (xEnd - x0);
        for (let y = Math.max(y0, 0); y < Math.min(y0 + p.kh, p.h); y++) {
          for (let x = Math.max(x0, 0); x < Math.min(x0 + p.kw, p.w); x++) taps.push(y * p.w + x);
        }
        fn(plane, (plane * p.outH + oy) * p.outW + ox, taps, windowSize);
      }
    }
  }
}

export function maxPool2d(x: DataArray, p: Pool2dParams): { out: DataArray; argmax: Int32Array } {
  const out = allocLike(x, p.n * p.c * p.outH * p.outW);
  const argmax = new Int32Array(out.length);
  const planeSize = p.h * p.w;
  forEachWindow(p, (plane, oi, taps) => {
    let best = -Infinity;
    let bestAt = taps.length > 0 ? taps[0] : 0;
    for (const t of taps) {
      const v = x[plane * planeSize + t];
      if (v > best || Number.isNaN(v)) {
        best = v;
        bestAt = t;
        if (Number.isNaN(v)) break;
      }
    }
    out[oi] = best;
    argmax[oi] = bestAt;
  });
  return { out, argmax };
}

export function maxPool2dBackward(dy: DataArray, argmax: Int32Array, p: Pool2dParams): DataArray {
  const dx = allocLike(dy, p.n * p.c * p.h * p.w);
  const planeOut = p.outH * p.outW;
  const planeIn = p.h * p.w;
  for (let i = 0; i < dy.length; i++) {
    const plane = Math.floor(i / planeOut);
    dx[plane * planeIn + argmax[i]] += dy[i];
  }
  return dx;
}

export function avgPool2d(x: DataArray, p: Pool2dParams): DataArray {
  const out = allocLike(x, p.n * p.c * p.outH * p.outW);
  const planeSize = p.h * p.w;
  forEachWindow(p, (plane, oi, taps, windowSize) => {
    let sum = 0;
    for (const t of taps) sum += x[plane * planeSize + t];
    const div = p.countIncludePad ? windowSize : taps.length;
    out[oi] = div > 0 ? sum / div : 0;
  });
  return out;
}

export function avgPool2dBackward(dy: DataArray, p: Pool2dParams): DataArray {
  const dx = allocLike(dy, p.n * p.c * p.h * p.w);
  const planeSize = p.h * p.w;
  forEachWindow(p, (plane, oi, taps, windowSize) => {
    const div = p.countIncludePad ? windowSize : taps.length;
    if (div === 0) return;
    const g = dy[oi] / div;
    for (const t of taps) dx[plane * planeSize + t] += g;
  });
  return dx;
}
