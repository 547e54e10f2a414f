/**
 * Evaluates a classifier on a dataset: mean loss and accuracy, in eval mode, without gradients.
 * The model's training flag is put back afterwards. Samples whose logits hold NaN or ±Infinity
 * count as wrong.
 */
import { noGrad } from '../autograd/engine.js';
import type { Batch } from '../data/collate.js';
import type { AnyModule } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { scope } from '../tensor/lifetime.js';
import { batchStats } from './batch-stats.js';
import { defaultClassificationLoss } from './loss.js';

/** What `evaluate` returns: mean loss and accuracy over the data, and the sample count. */
export interface EvaluateResult {
  loss: number;
  accuracy: number;
  samples: number;
}

/** Runs the model in eval mode without gradients over the batches; returns the mean loss, accuracy and sample count. */
export function evaluate(model: AnyModule, data: Iterable<Batch>, opts: { loss?: (output: Tensor, target: Tensor) => Tensor } = {}): EvaluateResult {
  const lossFn = opts.loss ?? defaultClassificationLoss;
  const wasTraining = model.training;
  model.eval();
  let n = 0;
  let lossSum = 0;
  let correct = 0;
  try {
    // Each batch is pulled, run and scored inside its own scope, so the batch, its activations
    // and the statistics' intermediates are freed at once; one read per batch (the loss and the
    // count of rows whose argmax is the label; NaN/Inf rows count as wrong).
    const it = data[Symbol.iterator]();
    let done = false;
    try {
      for (;;) {
        const s = scope(() => {
          const r = it.next();
          if (r.done === true) return null;
          const batch = r.value;
          const target = batch[batch.length - 1] as Tensor;
          return noGrad(() => {
            const out = model.call(...(batch.slice(0, -1) as Tensor[])) as Tensor;
            return { b: target.shape[0], ...batchStats(lossFn(out, target), out, target, { accuracy: true, topK: [] }) };
          });
        });
        if (s === null) {
          done = true;
          break;
        }
        lossSum += s.loss * s.b;
        n += s.b;
        correct += s.correct;
      }
    } finally {
      if (!done) it.return?.();
    }
  } finally {
    model.train(wasTraining);
  }
  return { loss: n > 0 ? lossSum / n : NaN, accuracy: n > 0 ? correct / n : NaN, samples: n };
}
