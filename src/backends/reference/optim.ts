import type { DataArray } from '../../core/dtype.js';
import type { Kernels } from '../../backend/kernels.js';

/**
 * The optimizer step kernels (Adam/AdamW, SGD with momentum, RMSprop, Adagrad): gradient in, weight and
 * slots updated in place, in one pass without an update buffer. Each reproduces the composed
 * chain of src/optim/transforms.ts (addL2ToGradient → preconditioner → addDecayedWeights →
 * scaleByLearningRate → applyUpdates) bit for bit: in float32 every value the chain stores in a
 * Float32Array is rounded here with Math.fround at the same point, and the float operations
 * keep their order (no 1/bc1 reciprocal, no fused lr·bias factor). float64 runs the same
 * expressions without the rounding. The two dtypes get separate loops so that each stays
 * monomorphic (one array type, fround inlined), which is what V8 compiles best.
 *
 * This file is the contract: a backend's own step (e.g. wasm SIMD) must match it bit for bit.
 */

const fround = Math.fround;

type AdamUpdate = Kernels<DataArray>['adamUpdate'];
type SgdUpdate = Kernels<DataArray>['sgdUpdate'];
type RmspropUpdate = Kernels<DataArray>['rmspropUpdate'];
type AdagradUpdate = Kernels<DataArray>['adagradUpdate'];

/** Adam/AdamW on float32 arrays (see Kernels.adamUpdate). */
export function adamUpdate32(
  w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, vMax: Float32Array | null,
  b1: number, b2: number, eps: number, t: number, l2: number, decay: number, s: number, apply: boolean,
): void {
  const bc1 = 1 - b1 ** t;
  const bc2Sqrt = Math.sqrt(1 - b2 ** t);
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    let gi = g[i];
    if (l2 !== 0) gi = fround(gi + l2 * wi);
    const mi = fround(b1 * m[i] + c1 * gi);
    m[i] = mi;
    let vi = fround(b2 * v[i] + c2 * gi * gi);
    v[i] = vi;
    if (vMax !== null) {
      if (vi > vMax[i]) vMax[i] = vi;
      else vi = vMax[i];
    }
    let ui = fround(mi / bc1 / (Math.sqrt(vi) / bc2Sqrt + eps));
    if (decay !== 0) ui = fround(ui + decay * wi);
    ui = fround(ui * s);
    if (apply) w[i] = wi + ui;
  }
}

/** Adam/AdamW on float64 arrays: adamUpdate32 without the float32 rounding. */
export function adamUpdate64(
  w: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, vMax: Float64Array | null,
  b1: number, b2: number, eps: number, t: number, l2: number, decay: number, s: number, apply: boolean,
): void {
  const bc1 = 1 - b1 ** t;
  const bc2Sqrt = Math.sqrt(1 - b2 ** t);
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    let gi = g[i];
    if (l2 !== 0) gi = gi + l2 * wi;
    const mi = b1 * m[i] + c1 * gi;
    m[i] = mi;
    let vi = b2 * v[i] + c2 * gi * gi;
    v[i] = vi;
    if (vMax !== null) {
      if (vi > vMax[i]) vMax[i] = vi;
      else vi = vMax[i];
    }
    let ui = mi / bc1 / (Math.sqrt(vi) / bc2Sqrt + eps);
    if (decay !== 0) ui = ui + decay * wi;
    ui = ui * s;
    if (apply) w[i] = wi + ui;
  }
}

/** SGD (+ momentum) on float32 arrays (see Kernels.sgdUpdate). */
export function sgdUpdate32(
  w: Float32Array, g: Float32Array, buf: Float32Array | null, first: boolean,
  momentum: number, dampening: number, nesterov: boolean, l2: number, s: number, apply: boolean,
): void {
  const n = w.length;
  if (buf === null) {
    for (let i = 0; i < n; i++) {
      const wi = w[i];
      let gi = g[i];
      if (l2 !== 0) gi = fround(gi + l2 * wi);
      const ui = fround(gi * s);
      if (apply) w[i] = wi + ui;
    }
    return;
  }
  const keep = 1 - dampening;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    let gi = g[i];
    if (l2 !== 0) gi = fround(gi + l2 * wi);
    const bi = first ? gi : fround(momentum * buf[i] + keep * gi);
    buf[i] = bi;
    let ui = nesterov ? fround(gi + momentum * bi) : bi;
    ui = fround(ui * s);
    if (apply) w[i] = wi + ui;
  }
}

/** SGD (+ momentum) on float64 arrays: sgdUpdate32 without the float32 rounding. */
export function sgdUpdate64(
  w: Float64Array, g: Float64Array, buf: Float64Array | null, first: boolean,
  momentum: number, dampening: number, nesterov: boolean, l2: number, s: number, apply: boolean,
): void {
  const n = w.length;
  if (buf === null) {
    for (let i = 0; i < n; i++) {
      const wi = w[i];
      let gi = g[i];
      if (l2 !== 0) gi = gi + l2 * wi;
      const ui = gi * s;
      if (apply) w[i] = wi + ui;
    }
    return;
  }
  const keep = 1 - dampening;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    let gi = g[i];
    if (l2 !== 0) gi = gi + l2 * wi;
    const bi = first ? gi : momentum * buf[i] + keep * gi;
    buf[i] = bi;
    let ui = nesterov ? gi + momentum * bi : bi;
    ui = ui * s;
    if (apply) w[i] = wi + ui;
  }
}

/**
 * RMSprop on float32 arrays (see Kernels.rmspropUpdate). The division result stays in double
 * until the chain would store it (buf, or the update buffer).
 */
export function rmspropUpdate32(
  w: Float32Array, g: Float32Array, sq: Float32Array, gAvg: Float32Array | null, buf: Float32Array | null,
  alpha: number, eps: number, momentum: number, l2: number, s: number, apply: boolean,
): void {
  const c = 1 - alpha;
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    let gi = g[i];
    if (l2 !== 0) gi = fround(gi + l2 * wi);
    let meanSq = fround(alpha * sq[i] + c * gi * gi);
    sq[i] = meanSq;
    if (gAvg !== null) {
      const ai = fround(alpha * gAvg[i] + c * gi);
      gAvg[i] = ai;
      // E[g²] − E[g]² is >= 0 in exact arithmetic; round-off must not make it sqrt(−tiny) = NaN.
      meanSq = Math.max(0, meanSq - ai * ai);
    }
    const step = gi / (Math.sqrt(meanSq) + eps);
    let ui: number;
    if (buf !== null) {
      ui = fround(momentum * buf[i] + step);
      buf[i] = ui;
    } else {
      ui = fround(step);
    }
    ui = fround(ui * s);
    if (apply) w[i] = wi + ui;
  }
}

/** RMSprop on float64 arrays: rmspropUpdate32 without the float32 rounding. */
export function rmspropUpdate64(
  w: Float64Array, g: Float64Array, sq: Float64Array, gAvg: Float64Array | null, buf: Float64Array | null,
  alpha: number, eps: number, momentum: number, l2: number, s: number, apply: boolean,
): void {
  const c = 1 - alpha;
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    let gi = g[i];
    if (l2 !== 0) gi = gi + l2 * wi;
    let meanSq = alpha * sq[i] + c * gi * gi;
    sq[i] = meanSq;
    if (gAvg !== null) {
      const ai = alpha * gAvg[i] + c * gi;
      gAvg[i] = ai;
      meanSq = Math.max(0, meanSq - ai * ai);
    }
    const step = gi / (Math.sqrt(meanSq) + eps);
    let ui: number;
    if (buf !== null) {
      ui = momentum * buf[i] + step;
      buf[i] = ui;
    } else {
      ui = step;
    }
    ui = ui * s;
    if (apply) w[i] = wi + ui;
  }
}

/**
 * Adagrad on float32 arrays (see Kernels.adagradUpdate). The chain stores the sum, then reads it
 * back for the root; the quotient stays in double until the update buffer would store it.
 */
export function adagradUpdate32(
  w: Float32Array, g: Float32Array, sum: Float32Array,
  eps: number, factor: number, l2: number, s: number, apply: boolean,
): void {
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    let gi = g[i];
    if (l2 !== 0) gi = fround(gi + l2 * wi);
    const si = fround(sum[i] + gi * gi);
    sum[i] = si;
    let ui = fround((factor * gi) / (Math.sqrt(si) + eps));
    ui = fround(ui * s);
    if (apply) w[i] = wi + ui;
  }
}

/** Adagrad on float64 arrays: adagradUpdate32 without the float32 rounding. */
export function adagradUpdate64(
  w: Float64Array, g: Float64Array, sum: Float64Array,
  eps: number, factor: number, l2: number, s: number, apply: boolean,
): void {
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    let gi = g[i];
    if (l2 !== 0) gi = gi + l2 * wi;
    const si = sum[i] + gi * gi;
    sum[i] = si;
    let ui = (factor * gi) / (Math.sqrt(si) + eps);
    ui = ui * s;
    if (apply) w[i] = wi + ui;
  }
}

function checkFloat(op: string, w: DataArray): 32 | 64 {
  if (w instanceof Float32Array) return 32;
  if (w instanceof Float64Array) return 64;
  throw new Error(`${op}: the parameter must be float32 or float64, got ${w.constructor.name}`);
}

/** Kernels.adamUpdate: the float32 or float64 loop by the parameter's dtype. */
export const adamUpdate: AdamUpdate = (w, g, m, v, vMax, b1, b2, eps, t, l2, decay, s, apply) => {
  if (checkFloat('adamUpdate', w) === 32) {
    adamUpdate32(w as Float32Array, g as Float32Array, m as Float32Array, v as Float32Array, vMax as Float32Array | null, b1, b2, eps, t, l2, decay, s, apply);
  } else {
    adamUpdate64(w as Float64Array, g as Float64Array, m as Float64Array, v as Float64Array, vMax as Float64Array | null, b1, b2, eps, t, l2, decay, s, apply);
  }
};

/** Kernels.sgdUpdate: the float32 or float64 loop by the parameter's dtype. */
export const sgdUpdate: SgdUpdate = (w, g, buf, first, momentum, dampening, nesterov, l2, s, apply) => {
  if (checkFloat('sgdUpdate', w) === 32) {
    sgdUpdate32(w as Float32Array, g as Float32Array, buf as Float32Array | null, first, momentum, dampening, nesterov, l2, s, apply);
  } else {
    sgdUpdate64(w as Float64Array, g as Float64Array, buf as Float64Array | null, first, momentum, dampening, nesterov, l2, s, apply);
  }
};

/** Kernels.rmspropUpdate: the float32 or float64 loop by the parameter's dtype. */
export const rmspropUpdate: RmspropUpdate = (w, g, sq, gAvg, buf, alpha, eps, momentum, l2, s, apply) => {
  if (checkFloat('rmspropUpdate', w) === 32) {
    rmspropUpdate32(w as Float32Array, g as Float32Array, sq as Float32Array, gAvg as Float32Array | null, buf as Float32Array | null, alpha, eps, momentum, l2, s, apply);
  } else {
    rmspropUpdate64(w as Float64Array, g as Float64Array, sq as Float64Array, gAvg as Float64Array | null, buf as Float64Array | null, alpha, eps, momentum, l2, s, apply);
  }
};

/** Kernels.adagradUpdate: the float32 or float64 loop by the parameter's dtype. */
export const adagradUpdate: AdagradUpdate = (w, g, sum, eps, factor, l2, s, apply) => {
  if (checkFloat('adagradUpdate', w) === 32) {
    adagradUpdate32(w as Float32Array, g as Float32Array, sum as Float32Array, eps, factor, l2, s, apply);
  } else {
    adagradUpdate64(w as Float64Array, g as Float64Array, sum as Float64Array, eps, factor, l2, s, apply);
  }
};
