/**
 * Per-batch classification statistics computed with tensor ops on the model's backend, so the
 * metrics callback and `evaluate` read one small array per batch (the loss and the counts)
 * instead of downloading the logits and labels and ranking them on the host.
 */
import { noGrad } from '../autograd/engine.js';
import * as ops from '../ops/index.js';
import { readNow } from '../tensor/host.js';
import { andThen, type Awaitable } from '../core/awaitable.js';
import { scope } from '../tensor/lifetime.js';
import { Tensor } from '../tensor/tensor.js';

/** What one batch contributes: its loss value and, when scored, the correct and top-k counts. */
export interface BatchStats {
  loss: number;
  /** False when the output/target do not look like class scores [N, C] with labels. */
  scored: boolean;
  correct: number;
  /** Samples whose target ranks below each k of topK. */
  topCorrect: number[];
}

/**
 * The integer class of each row of the target: the labels themselves ([N] int32), or the argmax
 * of soft targets [N, C] (the first maximum, as the host loop did). Null when neither fits.
 */
function labelsOf(target: Tensor, n: number, c: number): Tensor | null {
  if (target.dtype === 'int32' && target.rank === 1 && target.shape[0] === n) return target;
  if (target.rank === 2 && target.shape[0] === n && target.shape[1] === c) return ops.argmax(target, 1);
  return null;
}

/**
 * Rank of the target class among the scores of each row (0 = the top score; ties with a lower
 * class index count against it), and whether the row is all finite: a row holding NaN/±Inf never
 * counts as correct (comparisons with NaN are all false, which would rank the target first).
 * Returns the counts of rows with rank 0 and rank < k for each k, as int32 0-d tensors.
 */
function rankCounts(out: Tensor, labels: Tensor, topK: readonly number[]): Tensor[] {
  const [n, c] = out.shape;
  // A label outside 0..C-1 (a custom loss with other integer targets) scores as wrong; it is
  // clamped only so that the gather stays in range.
  const valid = ops.logicalAnd(ops.ge(labels, 0), ops.lt(labels, c));
  const col = ops.reshape(ops.minimum(ops.maximum(labels, 0), c - 1), [n, 1]);
  const own = ops.gather(out, 1, col);
  const classes = new Int32Array(c);
  for (let j = 0; j < c; j++) classes[j] = j;
  const before = ops.lt(Tensor.fromArray(classes, [1, c]), col);
  const above = ops.logicalOr(ops.gt(out, own), ops.logicalAnd(ops.eq(out, own), before));
  const rank = ops.sum(ops.cast(above, 'int32'), 1);
  // x·0 is 0 for finite x and NaN for NaN/±Inf.
  const finite = ops.logicalAnd(ops.eq(ops.sum(ops.cast(ops.ne(ops.mul(out, 0), 0), 'int32'), 1), 0), valid);
  const count = (k: number): Tensor => ops.sum(ops.cast(ops.logicalAnd(finite, ops.lt(rank, k)), 'int32'));
  return [count(1), ...topK.map(count)];
}

/**
 * The loss value and accuracy counts of one batch, read back as one small array (a promise of
 * them on a GPU backend). The loss is
 * packed without rounding, so the number is the one `loss.item()` gives.
 */
export function batchStats(loss: Tensor, output: Tensor | null, target: Tensor, opts: { accuracy: boolean; topK: readonly number[] }): Awaitable<BatchStats> {
  // Its own scope: the intermediates are freed as soon as the numbers are read (on a GPU, as soon
  // as the read is issued). A scope brackets synchronous work, so the promise leaves it wrapped.
  const r = scope(() => noGrad(() => {
    // Packed in the loss's own float type (float32 unless it is float64): exact for the loss, and
    // for counts up to 2^24 per batch; a GPU backend has no float64.
    const pack = loss.dtype === 'float64' ? 'float64' : 'float32';
    const parts: Tensor[] = [ops.reshape(ops.cast(loss, pack), [1])];
    let scored = false;
    const n = target.shape[0] ?? 1;
    if (opts.accuracy && output !== null && output.rank === 2 && output.shape[0] === n) {
      const labels = labelsOf(target, n, output.shape[1]);
      if (labels !== null) {
        scored = true;
        for (const t of rankCounts(output, labels, opts.topK)) parts.push(ops.reshape(ops.cast(t, pack), [1]));
      }
    }
    const packed = parts.length === 1 ? parts[0] : ops.concat(parts, 0);
    return { scored, values: andThen(readNow(packed), (v) => Array.from(v)) };
  }));
  const scored = r.scored;
  return andThen(r.values, (v) => ({ loss: v[0], scored, correct: scored ? v[1] : 0, topCorrect: opts.topK.map((_, q) => (scored ? v[2 + q] : 0)) }));
}
