import { GradkitError, fmtShape } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import { shapesEqual } from '../core/shape.js';
import { mean, sum } from '../ops/index.js';
import { upload } from '../ops/util.js';
import { readSync } from '../tensor/host.js';
import { Tensor } from '../tensor/tensor.js';

/** How per-element losses become the result: their mean (default), their sum, or as they are. */
export type Reduction = 'mean' | 'sum' | 'none';

export function checkReduction<R extends string>(op: string, r: unknown, allowed: readonly R[]): R {
  if (!allowed.includes(r as R)) throw new GradkitError(op, `reduction must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(r)}`);
  return r as R;
}

/** Applies a Reduction to per-element losses. */
export function reduceLoss(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return sum(loss);
  return mean(loss);
}

export function checkFloatTensor(op: string, name: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new GradkitError(op, `${name} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  if (!isFloat(x.dtype)) throw new GradkitError(op, `${name} must be a float tensor, got ${x.dtype}`);
  return x;
}

/** input and target of an elementwise loss must have the same shape (broadcasting them is almost always a bug). */
export function checkSameShape(op: string, input: Tensor, target: Tensor): void {
  if (!shapesEqual(input.shape, target.shape)) {
    throw new GradkitError(op, `input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} must have the same shape`);
  }
}

/** A float tensor from numbers or a tensor, checked to hold `n` finite values >= 0. */
export function weightVector(op: string, name: string, w: Tensor | readonly number[], n: number, dtype: 'float32' | 'float64'): Tensor {
  const values = w instanceof Tensor ? Array.from(readSync(w)) : [...w];
  if (values.length !== n || (w instanceof Tensor && w.rank !== 1)) {
    throw new GradkitError(op, `${name} must hold one value per class (${n}), got ${w instanceof Tensor ? `shape ${fmtShape(w.shape)}` : `${values.length} values`}`);
  }
  values.forEach((v, i) => {
    if (!Number.isFinite(v) || v < 0) throw new GradkitError(op, `${name}[${i}] must be a finite number >= 0, got ${v}`);
  });
  return upload(dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values), [n]);
}
