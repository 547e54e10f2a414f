import { GradkitError } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import { isParameter } from '../nn/parameter.js';
import { abs, add, mul, square, sum } from '../ops/index.js';
import { upload } from '../ops/util.js';
import { Tensor } from '../tensor/tensor.js';

/** Options of `l1Penalty` and `l2Penalty`: the coefficient and whether 'noDecay' parameters count. */
export interface PenaltyOptions {
  /** Multiplies the penalty (default 1). */
  coeff?: number;
  /** Also penalize parameters tagged 'noDecay' (biases, norm scales); default false, as weight decay. */
  includeNoDecay?: boolean;
}

function penalty(op: string, params: Iterable<Tensor>, opts: PenaltyOptions, term: (p: Tensor) => Tensor): Tensor {
  const coeff = opts.coeff ?? 1;
  if (typeof coeff !== 'number' || !Number.isFinite(coeff) || coeff < 0) throw new GradkitError(op, `coeff must be a finite number >= 0, got ${String(coeff)}`);
  let total: Tensor | null = null;
  let i = 0;
  for (const p of params) {
    if (!(p instanceof Tensor)) throw new GradkitError(op, `parameter ${i} is not a Tensor (got ${p === null ? 'null' : typeof p})`);
    if (!isFloat(p.dtype)) throw new GradkitError(op, `parameter ${i}${p.name ? ` (${p.name})` : ''} is ${p.dtype}; expected float`);
    i++;
    if (!opts.includeNoDecay && isParameter(p) && p.tags.has('noDecay')) continue;
    const t = sum(term(p));
    total = total === null ? t : add(total, t);
  }
  if (total === null) return upload(new Float32Array([0]), []);
  return coeff === 1 ? total : mul(total, coeff);
}

/** coeff · Σ|w| over the parameters (an L1 / lasso term to add to the loss; encourages sparsity). */
export function l1Penalty(params: Iterable<Tensor>, opts: PenaltyOptions = {}): Tensor {
  return penalty('l1Penalty', params, opts, abs);
}

/**
 * coeff · Σw² over the parameters (an L2 term to add to the loss). Its gradient is 2·coeff·w,
 * so coeff = λ/2 reproduces SGD's coupled weightDecay λ.
 */
export function l2Penalty(params: Iterable<Tensor>, opts: PenaltyOptions = {}): Tensor {
  return penalty('l2Penalty', params, opts, square);
}
