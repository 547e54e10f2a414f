/**
 * Evaluates a classifier on a dataset: mean loss and accuracy, in eval mode, without gradients.
 * The model's training flag is put back afterwards. Samples whose logits hold NaN or ±Infinity
 * count as wrong.
 */
import { noGrad } from '../autograd/engine.js';
import type { Batch } from '../data/collate.js';
import type { AnyModule } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { rowFinite } from '../metrics/util.js';
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
    for (const batch of data) {
      const target = batch[batch.length - 1] as Tensor;
      const out = noGrad(() => model.call(...(batch.slice(0, -1) as Tensor[])) as Tensor);
      const b = target.shape[0];
      lossSum += noGrad(() => lossFn(out, target)).item() * b;
      n += b;
      const c = out.shape[1];
      const scores = out.buffer;
      for (let i = 0; i < b; i++) {
        if (!rowFinite(scores, i, c)) continue; // NaN/Inf logits have no prediction: wrong
        let best = 0;
        for (let j = 1; j < c; j++) if (scores[i * c + j] > scores[i * c + best]) best = j;
        let label = target.buffer[i];
        if (target.rank === 2) {
          label = 0;
          for (let j = 1; j < c; j++) if (target.buffer[i * c + j] > target.buffer[i * c + label]) label = j;
        }
        if (best === label) correct++;
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return { loss: n > 0 ? lossSum / n : NaN, accuracy: n > 0 ? correct / n : NaN, samples: n };
}
