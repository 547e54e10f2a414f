/**
 * Classification counts computed on the device, for metrics evaluated on every batch: no host
 * scan of the scores or labels. Callers accumulate the returned tensors (or read them once per
 * batch). A score row holding NaN or ±Infinity has no prediction and counts as wrong.
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import { noGrad } from '../autograd/engine.js';
import { getBackend } from '../backend/registry.js';
import * as ops from '../ops/index.js';
import { labelFlags, upload } from '../ops/util.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';

/** Bool [N]: row i of the scores [N, C] is all finite (x·0 is 0 for finite x, NaN for NaN/±Inf). */
export function finiteRows(scores: Tensor): Tensor {
  return noGrad(() => ops.eq(ops.sum(ops.mul(scores, 0), 1), 0));
}

/**
 * int32 [2] from Kernels.checkLabels: [labels that are not ignoreIndex, first position holding
 * something other than an integer in [0, classes) (−1 when none)]. Read it with the results it
 * guards, so a batch costs one read.
 */
export function labelCheck(labels: Tensor, classes: number, ignoreIndex: number | null = null): Tensor {
  return labelFlags(labels, classes, ignoreIndex);
}

/** int32 [N]: labels clamped into [0, C) so gathering with them is safe before the check is read. */
function safeLabels(labels: Tensor, c: number): Tensor {
  return ops.minimum(ops.maximum(ops.cast(labels, 'int32'), 0), c - 1);
}

/** Column indices 0..C−1 as int32 [1, C], uploaded once per backend and size. */
const columnCache = new WeakMap<object, Map<number, Tensor>>();
function columns(c: number): Tensor {
  const backend = getBackend();
  let sizes = columnCache.get(backend);
  if (sizes === undefined) columnCache.set(backend, (sizes = new Map()));
  const cached = sizes.get(c);
  if (cached !== undefined && !cached.isDisposed) return cached;
  const t = keep(upload(Int32Array.from({ length: c }, (_, j) => j), [1, c]));
  sizes.set(c, t);
  return t;
}

/**
 * int32 [N]: how many classes of each row of scores [N, C] outrank the target label. With
 * `ties` 'index' an equal score at a lower class index outranks too (so rank 0 is exactly
 * argmax-first = target); with 'none' only strictly greater scores count (metrics.topK's rule).
 * A non-finite row, or a label outside [0, C), ranks C (last); labelCheck tells which labels are invalid.
 */
export function targetRanks(scores: Tensor, labels: Tensor, ties: 'index' | 'none' = 'index'): Tensor {
  const [n, c] = scores.shape;
  return noGrad(() => {
    const lab = ops.reshape(safeLabels(labels, c), [n, 1]);
    const target = ops.gather(scores, 1, lab);
    let above = ops.gt(scores, target);
    if (ties === 'index') above = ops.logicalOr(above, ops.logicalAnd(ops.eq(scores, target), ops.lt(columns(c), lab)));
    const rank = ops.sum(ops.cast(above, 'int32'), 1);
    // A label outside [0, C) has no rank: last, like a non-finite row (never a silent garbage gather).
    const raw = ops.cast(labels, 'float64');
    const inRange = ops.logicalAnd(ops.ge(raw, 0), ops.lt(raw, c));
    return ops.where(ops.logicalAnd(finiteRows(scores), inRange), rank, c);
  });
}

/**
 * For class scores [N, C] and targets (int32 labels [N], or soft targets [N, C] whose argmax is
 * the label), the number of rows whose target ranks within the top k, for each k in `ks`
 * (k = 1 is accuracy: argmax, first on ties, equals the target), as int32 [ks.length] on the
 * device. Non-finite rows count as wrong. Sum these over an epoch and read once, or read one
 * per batch:
 *
 * ```ts
 * const [top1, top5] = await metrics.correctCounts(logits, labels, [1, 5]).data();
 * ```
 */
export function correctCounts(scores: Tensor, target: Tensor, ks: readonly number[] = [1]): Tensor {
  const op = 'metrics.correctCounts';
  if (!(scores instanceof Tensor) || scores.rank !== 2) throw new GradkitError(op, `scores must be a Tensor [N, C], got ${scores instanceof Tensor ? fmtShape(scores.shape) : typeof scores}`);
  const [n, c] = scores.shape;
  for (const k of ks) if (!(Number.isInteger(k) && k >= 1 && k <= c)) throw new GradkitError(op, `k must be an integer in 1..${c} (classes), got ${k}`);
  if (!(target instanceof Tensor)) throw new GradkitError(op, `target must be a Tensor, got ${typeof target}`);
  let labels: Tensor;
  if (target.rank === 2 && target.shape[0] === n && target.shape[1] === c) labels = noGrad(() => ops.argmax(target, 1));
  else if (target.rank === 1 && target.shape[0] === n && target.dtype === 'int32') labels = target;
  else throw new GradkitError(op, `target must be int32 labels [${n}] or soft targets [${n}, ${c}], got ${target.dtype} ${fmtShape(target.shape)}`);
  return noGrad(() => {
    const rank = targetRanks(scores, labels, 'index');
    return ops.stack(ks.map((k) => ops.sum(ops.cast(ops.lt(rank, k), 'int32'))));
  });
}
