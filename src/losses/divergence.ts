import { GradkitError } from '../core/errors.js';
import { div, exp, gt, log, mul, sub, sum, where } from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkFloatTensor, checkReduction, checkSameShape, reduceLoss } from './reduction.js';

/** Options of the KL-divergence loss: reduction and whether the target is given as log-probabilities. */
export interface KlDivOptions {
  /**
   * 'mean' (default, as PyTorch: over every element, which is not the true KL), 'batchmean'
   * (sum / batch size: the KL divergence per sample), 'sum' or 'none'.
   */
  reduction?: 'mean' | 'batchmean' | 'sum' | 'none';
  /** The target is given as log-probabilities too (default false). */
  logTarget?: boolean;
}

/**
 * KL(target ‖ input) with `input` as log-probabilities (e.g. logSoftmax output) and `target`
 * as probabilities: Σ target·(log target − input), with 0·log 0 taken as 0.
 */
export function klDiv(input: Tensor, target: Tensor, opts: KlDivOptions = {}): Tensor {
  const op = 'klDiv';
  checkFloatTensor(op, 'input', input);
  checkFloatTensor(op, 'target', target);
  checkSameShape(op, input, target);
  const reduction = checkReduction(op, opts.reduction ?? 'mean', ['mean', 'batchmean', 'sum', 'none'] as const);
  let pointwise: Tensor;
  if (opts.logTarget) {
    pointwise = mul(exp(target), sub(target, input));
  } else {
    const positive = gt(target, 0);
    // log of 1 where the target is 0, so neither value nor gradient becomes NaN there.
    const logT = log(where(positive, target, 1));
    pointwise = where(positive, mul(target, sub(logT, input)), 0);
  }
  if (reduction === 'batchmean') {
    if (input.rank === 0 || input.shape[0] === 0) throw new GradkitError(op, "'batchmean' needs a batch axis (axis 0) of size > 0");
    return div(sum(pointwise), input.shape[0]);
  }
  return reduceLoss(pointwise, reduction);
}
