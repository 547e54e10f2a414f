import type { DataArray } from '../../core/dtype.js';
import type { Pool2dParams } from '../../backend/kernels.js';
import {
  avgPool2d as refAvg, avgPool2dBackward as refAvgBack, maxPool2d as refMax, maxPool2dBackward as refMaxBack,
} from '../reference/pool.js';

/**
 * Float32 pooling as plain loops over clipped windows (the reference builds a tap list per
 * window through a callback). Same visiting order, tie-breaking (first maximum wins, a NaN wins
 * and stops the scan) and divisors as the reference, so results are bit-identical.
 */

/** Window bounds for output (oy, ox): rows [y0, y1), cols [x0, x1) clipped, and the padded size. */
function window(p: Pool2dParams, oy: number, ox: number, r: Int32Array): void {
  const ys = oy * p.strideH - p.padTop;
  const xs = ox * p.strideW - p.padLeft;
  r[0] = Math.max(ys, 0);
  r[1] = Math.min(ys + p.kh, p.h);
  r[2] = Math.max(xs, 0);
  r[3] = Math.min(xs + p.kw, p.w);
  // count_include_pad counts the window clipped to the padded image (PyTorch), as the reference.
  r[4] = (Math.min(ys + p.kh, p.h + p.padTop) - ys) * (Math.min(xs + p.kw, p.w + p.padLeft) - xs);
}

export function maxPool2d(x: DataArray, p: Pool2dParams): { out: DataArray; argmax: Int32Array } {
  if (!(x instanceof Float32Array)) return refMax(x, p);
  const planes = p.n * p.c;
  const out = new Float32Array(planes * p.outH * p.outW);
  const argmax = new Int32Array(out.length);
  const { h, w, kh, kw, strideH, strideW, padTop, padLeft, outH, outW } = p;
  const plane = h * w;
  let oi = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * plane;
    for (let oy = 0; oy < outH; oy++) {
      const ys = oy * strideH - padTop;
      const y0 = ys > 0 ? ys : 0;
      const y1 = ys + kh < h ? ys + kh : h;
      for (let ox = 0; ox < outW; ox++, oi++) {
        const xs = ox * strideW - padLeft;
        const x0 = xs > 0 ? xs : 0;
        const x1 = xs + kw < w ? xs + kw : w;
        let best = -Infinity;
        let at = y0 < y1 && x0 < x1 ? y0 * w + x0 : 0;
        scan: for (let y = y0; y < y1; y++) {
          for (let t = y * w + x0, end = y * w + x1; t < end; t++) {
            const v = x[base + t];
            if (v > best || v !== v) {
              best = v;
              at = t;
              if (v !== v) break scan;
            }
          }
        }
        out[oi] = best;
        argmax[oi] = at;
      }
    }
  }
  return { out, argmax };
}

export function maxPool2dBackward(dy: DataArray, argmax: Int32Array, p: Pool2dParams): DataArray {
  if (!(dy instanceof Float32Array)) return refMaxBack(dy, argmax, p);
  const dx = new Float32Array(p.n * p.c * p.h * p.w);
  const planeOut = p.outH * p.outW;
  const planeIn = p.h * p.w;
  let i = 0;
  for (let pl = 0; pl < p.n * p.c; pl++) {
    const base = pl * planeIn;
    for (let j = 0; j < planeOut; j++, i++) dx[base + argmax[i]] += dy[i];
  }
  return dx;
}

export function avgPool2d(x: DataArray, p: Pool2dParams): DataArray {
  if (!(x instanceof Float32Array)) return refAvg(x, p);
  const planes = p.n * p.c;
  const out = new Float32Array(planes * p.outH * p.outW);
  const r = new Int32Array(5);
  const plane = p.h * p.w;
  let oi = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * plane;
    for (let oy = 0; oy < p.outH; oy++) {
      for (let ox = 0; ox < p.outW; ox++, oi++) {
        window(p, oy, ox, r);
        let sum = 0;
        for (let y = r[0]; y < r[1]; y++) for (let xx = r[2]; xx < r[3]; xx++) sum += x[base + y * p.w + xx];
        const taps = Math.max(0, r[1] - r[0]) * Math.max(0, r[3] - r[2]);
        const div = p.countIncludePad ? r[4] : taps;
        out[oi] = div > 0 ? sum / div : 0;
      }
    }
  }
  return out;
}

export function avgPool2dBackward(dy: DataArray, p: Pool2dParams): DataArray {
  if (!(dy instanceof Float32Array)) return refAvgBack(dy, p);
  const dx = new Float32Array(p.n * p.c * p.h * p.w);
  const r = new Int32Array(5);
  const plane = p.h * p.w;
  let oi = 0;
  for (let pl = 0; pl < p.n * p.c; pl++) {
    const base = pl * plane;
    for (let oy = 0; oy < p.outH; oy++) {
      for (let ox = 0; ox < p.outW; ox++, oi++) {
        window(p, oy, ox, r);
        const taps = Math.max(0, r[1] - r[0]) * Math.max(0, r[3] - r[2]);
        const div = p.countIncludePad ? r[4] : taps;
        if (div === 0) continue;
        const g = dy[oi] / div;
        for (let y = r[0]; y < r[1]; y++) for (let xx = r[2]; xx < r[3]; xx++) dx[base + y * p.w + xx] += g;
      }
    }
  }
  return dx;
}
