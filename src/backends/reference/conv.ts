import type { DataArray } from '../../core/dtype.js';
import type { Conv2dParams } from '../../backend/kernels.js';
import { allocLike } from './util.js';

/**
 * Direct convolution loops: the definition, written out. For output (b, co, oy, ox) the input
 * pixel of tap (ky, kx) is (oy·sh − padTop + ky·dh, ox·sw − padLeft + kx·dw); taps outside the
 * image read zero. All three kernels walk the same loop nest so they are adjoint by construction.
 */
function forEachTap(
  p: Conv2dParams,
  fn: (xIdx: number, wIdx: number, yIdx: number) => void,
): void {
  const cInG = p.cIn / p.groups;
  const cOutG = p.cOut / p.groups;
  for (let b = 0; b < p.n; b++) {
    for (let co = 0; co < p.cOut; co++) {
      const g = Math.floor(co / cOutG);
      for (let oy = 0; oy < p.outH; oy++) {
        for (let ox = 0; ox < p.outW; ox++) {
          const yIdx = ((b * p.cOut + co) * p.outH + oy) * p.outW + ox;
          for (let ci = 0; ci < cInG; ci++) {
            const c = g * cInG + ci;
            for (let ky = 0; ky < p.kh; ky++) {
              const iy = oy * p.strideH - p.padTop + ky * p.dilationH;
              if (iy < 0 || iy >= p.h) continue;
              for (let kx = 0; kx < p.kw; kx++) {
                const ix = ox * p.strideW - p.padLeft + kx * p.dilationW;
                if (ix < 0 || ix >= p.w) continue;
                const xIdx = ((b * p.cIn + c) * p.h + iy) * p.w + ix;
                const wIdx = ((co * cInG + ci) * p.kh + ky) * p.kw + kx;
                fn(xIdx, wIdx, yIdx);
              }
            }
          }
        }
      }
    }
  }
}

export function conv2d(x: DataArray, w: DataArray, p: Conv2dParams): DataArray {
  const out = allocLike(x, p.n * p.cOut * p.outH * p.outW);
  forEachTap(p, (xi, wi, yi) => {
    out[yi] += x[xi] * w[wi];
  });
  return out;
}

export function conv2dBackwardInput(dy: DataArray, w: DataArray, p: Conv2dParams): DataArray {
  const dx = allocLike(dy, p.n * p.cIn * p.h * p.w);
  forEachTap(p, (xi, wi, yi) => {
    dx[xi] += dy[yi] * w[wi];
  });
  return dx;
}

export function conv2dBackwardFilter(x: DataArray, dy: DataArray, p: Conv2dParams): DataArray {
  const dw = allocLike(x, p.cOut * (p.cIn / p.groups) * p.kh * p.kw);
  forEachTap(p, (xi, wi, yi) => {
    dw[wi] += x[xi] * dy[yi];
  });
  return dw;
}
