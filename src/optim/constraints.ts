import { GradkitError, fmtShape } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import { noGrad } from '../autograd/engine.js';
import * as ops from '../ops/index.js';
import { canReadSync, readSync } from '../tensor/host.js';
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
 * Works on host values: on a GPU backend use `applyMaxNormAsync`.
 */
export function applyMaxNorm(weight: Tensor, maxValue: number, opts: MaxNormOptions = {}): number {
  const { units, inner, outer } = maxNormLayout(weight, maxValue, opts);
  if (!canReadSync(weight)) {
    throw new GradkitError('applyMaxNorm', `the ${weight.backend.name} backend reads asynchronously; use await optim.applyMaxNormAsync(weight, maxValue, opts)`);
  }
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

/**
 * `applyMaxNorm` on any backend: the norms, the scaling and the count are computed on the device
 * (in the weight's dtype), and the count of scaled units is read asynchronously.
 */
export async function applyMaxNormAsync(weight: Tensor, maxValue: number, opts: MaxNormOptions = {}): Promise<number> {
  const { units, inner, outer } = maxNormLayout(weight, maxValue, opts);
  const count = noGrad(() => {
    // Element (o, u, i) sits at (o·units + u)·inner + i: [outer, units, inner].
    const w3 = ops.reshape(weight, [outer, units, inner]);
    const norm = ops.sqrt(ops.sum(ops.square(w3), [0, 2]));
    const over = ops.gt(norm, maxValue);
    const factor = ops.where(over, ops.div(maxValue, norm), 1);
    weight.assign(ops.reshape(ops.mul(w3, ops.reshape(factor, [1, units, 1])), weight.shape));
    return ops.sum(ops.cast(over, 'int32'));
  });
  return (await count.data())[0];
}

/** Checks applyMaxNorm's arguments; the weight seen as [outer, units, inner] around the unit axis. */
function maxNormLayout(weight: Tensor, maxValue: number, opts: MaxNormOptions): { units: number; inner: number; outer: number } {
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
  return { units, inner, outer };
}
