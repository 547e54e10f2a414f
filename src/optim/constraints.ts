import { GradkitError, fmtShape } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import { readSync } from '../tensor/host.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkNumber } from './validate.js';

/** Options of `applyMaxNorm`: which weight axis indexes the units whose incoming norm is capped. */
export interface MaxNormOptions {
  /**
   * The axis that indexes units (default 0: rows of a Linear weight [out, in] and filters of a
   * conv weight [out, in, kH, kW], as gradkit/PyTorch lay them out). Each unit's incoming
   * weights are all elements sharing one index on this axis.
   */
  unitAxis?: number;
}

/**
 * Max-norm constraint (Srebro & Shraibman; used with dropout): renormalizes each unit's
 * incoming weight vector in place so its L2 norm is at most maxValue; vectors already inside
 * the ball are left unchanged. Call it after optimizer.step(). Returns how many units were scaled.
 */
export function applyMaxNorm(weight: Tensor, maxValue: number, opts: MaxNormOptions = {}): number {
  checkNumber('applyMaxNorm', 'maxValue', maxValue, { min: 0, minExclusive: true });
  if (!isFloat(weight.dtype)) throw new GradkitError('applyMaxNorm', `weight must be float, got ${weight.dtype}`);
  if (weight.rank < 2) throw new GradkitError('applyMaxNorm', `weight must have at least 2 axes (units × incoming), got shape ${fmtShape(weight.shape)}`);
  const axis = opts.unitAxis ?? 0;
  if (!Number.isInteger(axis) || axis < -weight.rank || axis >= weight.rank) {
    throw new GradkitError('applyMaxNorm', `unitAxis ${axis} is out of range for shape ${fmtShape(weight.shape)}`);
  }
  const ax = axis < 0 ? axis + weight.rank : axis;
  const units = weight.shape[ax];
  const inner = weight.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  const outer = weight.shape.slice(0, ax).reduce((a, b) => a * b, 1);
  // Host work on purpose: the count it returns is a host value, and a constraint runs once per
  // step at most. The scaled values go back through assign (never into readSync's array).
  const w = readSync(weight);
  // Element (o, u, i) sits at (o·units + u)·inner + i.
  const sq = new Float64Array(units);
  for (let o = 0; o < outer; o++) {
    for (let u = 0; u < units; u++) {
      const base = (o * units + u) * inner;
      for (let i = 0; i < inner; i++) sq[u] += w[base + i] * w[base + i];
    }
  }
  let scaled = 0;
  const factor = new Float64Array(units).fill(1);
  for (let u = 0; u < units; u++) {
    const norm = Math.sqrt(sq[u]);
    if (norm > maxValue) {
      factor[u] = maxValue / norm;
      scaled++;
    }
  }
  if (scaled === 0) return 0;
  // A copy of the weight's own dtype, so each product rounds as it did in place.
  const out = w.slice();
  for (let o = 0; o < outer; o++) {
    for (let u = 0; u < units; u++) {
      if (factor[u] === 1) continue;
      const base = (o * units + u) * inner;
      for (let i = 0; i < inner; i++) out[base + i] *= factor[u];
    }
  }
  weight.assign(out);
  return scaled;
}
