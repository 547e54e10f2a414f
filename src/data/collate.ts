/**
 * Collation: turning a list of samples (each a tuple of tensors) into one batch tuple. The
 * default stacks each field along a new first axis with typed-array copies, one `set` per sample.
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import { shapesEqual, sizeOf } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { alloc, tensorFrom, valuesOf } from './util.js';

/** One sample: a tuple of fields, e.g. `[image, label]`. */
export type Sample = readonly Tensor[];
/** One batch: a tuple of batched fields, e.g. `[images [B,1,28,28], labels [B]]`. */
export type Batch = Tensor[];
/** Turns a list of samples into one batch (e.g. by stacking each field). */
export type CollateFn = (samples: readonly Sample[]) => Batch;

/** Stacks field k of every sample into a tensor of shape [B, ...fieldShape] (same dtype). */
export function defaultCollate(samples: readonly Sample[]): Batch {
  const op = 'defaultCollate';
  if (samples.length === 0) throw new GradkitError(op, 'cannot collate an empty list of samples');
  const first = samples[0];
  const out: Batch = [];
  for (let f = 0; f < first.length; f++) {
    const ref = first[f];
    const size = sizeOf(ref.shape);
    const buf = alloc(ref.dtype, size * samples.length);
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      if (s.length !== first.length) {
        throw new GradkitError(op, `sample ${i} has ${s.length} fields but sample 0 has ${first.length}`);
      }
      const t = s[f];
      if (!shapesEqual(t.shape, ref.shape) || t.dtype !== ref.dtype) {
        throw new GradkitError(
          op,
          `field ${f} of sample ${i} is ${t.dtype} ${fmtShape(t.shape)} but sample 0 has ${ref.dtype} ${fmtShape(ref.shape)}; samples in a batch must match`,
        );
      }
      buf.set(valuesOf(t) as ArrayLike<number>, i * size);
    }
    out.push(tensorFrom(buf, [samples.length, ...ref.shape]));
  }
  return out;
}
