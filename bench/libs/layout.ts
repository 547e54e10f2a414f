/**
 * Layout conversions for peers that work in NHWC (TensorFlow.js): the shared parameters and
 * images are NCHW/OIHW, and converting them once, outside the timed region, keeps the networks
 * identical (same function, same start) rather than merely the same shape.
 */

/** [n, c, h, w] → [n, h, w, c]. */
export function nchwToNhwc(x: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++) out[((i * h + y) * w + xx) * c + ch] = x[((i * c + ch) * h + y) * w + xx];
  return out;
}

/** Conv weight [cOut, cIn, kh, kw] (OIHW) → [kh, kw, cIn, cOut] (HWIO). */
export function oihwToHwio(wt: Float32Array, o: number, i: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(wt.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + b) * o + a] = wt[((a * i + b) * kh + y) * kw + x];
  return out;
}

/**
 * Rows of a [c·h·w, out] linear weight reordered from NCHW flatten order (c, h, w) to NHWC
 * flatten order (h, w, c), so flatten-then-linear computes the same function in both layouts.
 */
export function flattenRowsToNhwc(wt: Float32Array, c: number, h: number, w: number, out: number): Float32Array {
  const res = new Float32Array(wt.length);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const src = ((ch * h + y) * w + x) * out;
        const dst = ((y * w + x) * c + ch) * out;
        res.set(wt.subarray(src, src + out), dst);
      }
  return res;
}
