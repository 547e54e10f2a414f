/**
 * The Trainer's default loss, mean cross-entropy from logits [N, C] against integer labels [N]
 * or soft targets [N, C] (mixup/cutmix produce those). Kept here, small, so the Trainer does
 * not depend on the losses module's full option set.
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';

/** The Trainer's default loss: cross-entropy of logits against integer class labels. */
export function defaultClassificationLoss(logits: Tensor, target: Tensor): Tensor {
  const op = 'Trainer loss (cross-entropy)';
  if (logits.rank !== 2) throw new GradkitError(op, `expected logits [N, C], got ${fmtShape(logits.shape)}`);
  const [n, c] = logits.shape;
  if (target.dtype === 'int32') {
    if (target.rank !== 1 || target.shape[0] !== n) throw new GradkitError(op, `integer labels must have shape [${n}], got ${fmtShape(target.shape)}`);
    // Label values are range-checked by softmaxCrossEntropy itself (no second host scan per batch).
    return ops.mean(ops.softmaxCrossEntropy(logits, target));
  }
  if (target.rank !== 2 || target.shape[0] !== n || target.shape[1] !== c) {
    throw new GradkitError(op, `soft targets must have the logits' shape ${fmtShape(logits.shape)}, got ${target.dtype} ${fmtShape(target.shape)}`);
  }
  return ops.neg(ops.mean(ops.sum(ops.mul(ops.logSoftmax(logits, 1), target), 1)));
}
