/**
 * The fixed sequence of events of a training run (fastai's learner idea). The loop is:
 *
 *   beforeFit
 *     for each epoch:  beforeEpoch
 *       beforeTrain
 *         for each batch: beforeBatch, afterForward, afterLoss, afterBackward, afterStep, afterBatch
 *       afterTrain
 *       beforeValidate  (model.eval(), no gradients)
 *         for each batch: beforeBatch, afterForward, afterLoss, afterBatch
 *       afterValidate
 *     afterEpoch
 *   afterFit
 *
 * Callbacks cancel part of the loop by throwing a typed exception: CancelBatch skips the rest of
 * the batch (afterCancelBatch, then afterBatch still runs), CancelEpoch the rest of the epoch
 * (afterCancelEpoch, then afterEpoch), CancelFit the rest of training (afterCancelFit, then
 * afterFit). Any other error propagates out of fit() with no further events: that is a crash,
 * and the last checkpoint is the place to resume from.
 */
export const EVENTS = [
  'beforeFit', 'beforeEpoch', 'beforeTrain', 'beforeBatch', 'afterForward', 'afterLoss', 'afterBackward', 'afterStep',
  'afterBatch', 'afterTrain', 'beforeValidate', 'afterValidate', 'afterEpoch', 'afterFit',
  'afterCancelBatch', 'afterCancelEpoch', 'afterCancelFit',
] as const;

/** The name of a training event a callback can hook (one of EVENTS). */
export type EventName = (typeof EVENTS)[number];

/** Thrown by a callback to skip the rest of the current batch (e.g. the optimizer step). */
export class CancelBatch extends Error {
  constructor(reason = 'batch cancelled') {
    super(reason);
    this.name = 'CancelBatch';
  }
}

/** Thrown by a callback to end the current epoch early (its validation is skipped). */
export class CancelEpoch extends Error {
  constructor(reason = 'epoch cancelled') {
    super(reason);
    this.name = 'CancelEpoch';
  }
}

/** Thrown by a callback to stop training; fit() returns normally with `stopReason` set. */
export class CancelFit extends Error {
  constructor(reason = 'training cancelled') {
    super(reason);
    this.name = 'CancelFit';
  }
}
