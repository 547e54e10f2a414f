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
import { batchStats, type BatchStats } from './batch-stats.js';
import { andThen, isPromise, type Awaitable } from '../core/awaitable.js';
import { GradkitError } from '../core/errors.js';
import { defaultClassificationLoss } from './loss.js';

/** What `evaluate` returns: mean loss and accuracy over the data, and the sample count. */
export interface EvaluateResult {
  loss: number;
  accuracy: number;
  samples: number;
}

type BatchResult = { b: number } & BatchStats;

/**
 * The batches of an evaluation, each pulled, run and scored inside its own scope, so the batch,
 * its activations and the statistics' intermediates are freed at once; one read per batch (the
 * loss and the count of rows whose argmax is the label; NaN/Inf rows count as wrong), a promise
 * of it on a GPU backend. Puts the model's training flag back when done or abandoned.
 */
function* scoredBatches(model: AnyModule, data: Iterable<Batch>, lossFn: (output: Tensor, target: Tensor) => Tensor): Generator<Awaitable<BatchResult>, void, void> {
  const wasTraining = model.training;
  model.eval();
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
          const b = target.shape[0];
          // Wrapped: a scope brackets synchronous work and refuses a promise (GPU backends).
          return { stats: andThen(batchStats(lossFn(out, target), out, target, { accuracy: true, topK: [] }), (st): BatchResult => ({ b, ...st })) };
        });
      });
      if (s === null) {
        done = true;
        return;
      }
      yield s.stats;
    }
  } finally {
    if (!done) it.return?.();
    model.train(wasTraining);
  }
}

class Totals {
  n = 0;
  lossSum = 0;
  correct = 0;
  add(s: BatchResult): void {
    this.lossSum += s.loss * s.b;
    this.n += s.b;
    this.correct += s.correct;
  }
  result(): EvaluateResult {
    const n = this.n;
    return { loss: n > 0 ? this.lossSum / n : NaN, accuracy: n > 0 ? this.correct / n : NaN, samples: n };
  }
}

/**
 * Runs the model in eval mode without gradients over the batches; returns the mean loss,
 * accuracy and sample count. Reads synchronously: on a GPU backend use `evaluateAsync`.
 */
export function evaluate(model: AnyModule, data: Iterable<Batch>, opts: { loss?: (output: Tensor, target: Tensor) => Tensor } = {}): EvaluateResult {
  const totals = new Totals();
  for (const s of scoredBatches(model, data, opts.loss ?? defaultClassificationLoss)) {
    if (isPromise(s)) {
      s.catch(() => undefined);
      throw new GradkitError('evaluate', `the ${model.parameters()[0]?.backend.name ?? 'current'} backend reads asynchronously; use await evaluateAsync(model, data)`);
    }
    totals.add(s);
  }
  return totals.result();
}

/** `evaluate` on any backend, GPU included: the same numbers, awaited batch by batch. */
export async function evaluateAsync(model: AnyModule, data: Iterable<Batch>, opts: { loss?: (output: Tensor, target: Tensor) => Tensor } = {}): Promise<EvaluateResult> {
  const totals = new Totals();
  for (const s of scoredBatches(model, data, opts.loss ?? defaultClassificationLoss)) totals.add(await s);
  return totals.result();
}
