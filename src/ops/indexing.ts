import { GradkitError, fmtShape } from '../core/errors.js';
import { normalizeAxis } from '../core/shape.js';
import { record, registerRules, type RuleTable, type Spec } from '../autograd/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { canReadSync, readSync } from '../tensor/host.js';
import { add, lt, where } from './elementwise.js';
import { castTo, checkLabelsOnDevice, checkNoneSet, checkTensor, kernels, upload, wrap } from './util.js';

/** Attributes of the indexing primitives: the axis and the input's shape. */
export interface IndexingAttrs {
  axis: number;
  shape: readonly number[];
}

/** What each indexing primitive's rule saves (the validated, non-negative indices) and its attributes. */
export interface IndexingSpecs {
  indexSelect: Spec<[indices: Tensor], IndexingAttrs>;
  gather: Spec<[index: Tensor], IndexingAttrs>;
}

/** The indexing family's primitives. */
export type IndexingPrimitive = keyof IndexingSpecs;

/**
 * Validates integer indices against a dimension, naming the first bad one, and returns them with
 * negatives wrapped (the same tensor when there are none). Indices come from the host (datasets,
 * user code), so reading them here costs no device round-trip on the CPU backends.
 */
function checkIndices(op: string, indices: Tensor, dim: number): Tensor {
  if (indices.dtype !== 'int32') throw new GradkitError(op, `indices must be int32, got ${indices.dtype}`);
  if (!canReadSync(indices)) return checkIndicesOnDevice(op, indices, dim);
  const src = readSync(indices);
  let out: Int32Array | null = null;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v < -dim || v >= dim) {
      throw new GradkitError(op, `index ${v} at position ${i} is out of range for a dimension of size ${dim}`);
    }
    if (v < 0) {
      // Never write into readSync's array: wrap into a copy.
      if (out === null) out = Int32Array.from(src);
      out[i] = v + dim;
    }
  }
  return out === null ? indices : upload(out, indices.shape);
}

/**
 * checkIndices for indices on a GPU: negatives wrapped on the device and the range checked by
 * the label-check kernel, the error deferred to the next asynchronous read (checkOnDevice).
 */
function checkIndicesOnDevice(op: string, indices: Tensor, dim: number): Tensor {
  // Below −dim stays negative after the wrap, so the range check [0, dim) catches both ends.
  const wrapped = where(lt(indices, 0), add(indices, dim), indices);
  checkLabelsOnDevice(op, wrapped, dim, null, (i, at) => `index ${i} at position ${at} is out of range for a dimension of size ${dim}`, indices);
  return wrapped;
}

/** Rows (or slices along `axis`) picked by a 1-D int32 index tensor: x.indexSelect(0, idx). */
export function indexSelect(x: Tensor, axis: number, indices: Tensor): Tensor {
  checkTensor('indexSelect', 'input', x);
  checkTensor('indexSelect', 'indices', indices);
  const ax = normalizeAxis('indexSelect', axis, x.rank);
  if (indices.rank !== 1) throw new GradkitError('indexSelect', `indices must be 1-D, got shape ${fmtShape(indices.shape)}`);
  const idx = checkIndices('indexSelect', indices, x.shape[ax]);
  const outShape = [...x.shape];
  outShape[ax] = idx.size;
  const y = wrap(kernels().indexSelect(x.handle, x.shape, idx.handle, ax), outShape);
  return record('indexSelect', y, [x], [idx], { axis: ax, shape: x.shape });
}

/**
 * PyTorch's gather: out[i][j] = x[index[i][j]][j] for axis 0 (and likewise for other axes).
 * `index` has the rank of x; along other axes it may be smaller than x.
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  checkTensor('gather', 'input', x);
  checkTensor('gather', 'index', index);
  const ax = normalizeAxis('gather', axis, x.rank);
  if (index.rank !== x.rank) {
    throw new GradkitError('gather', `index must have the same rank as the input: got ${fmtShape(index.shape)} for input ${fmtShape(x.shape)}`);
  }
  for (let d = 0; d < x.rank; d++) {
    if (d !== ax && index.shape[d] > x.shape[d]) {
      throw new GradkitError('gather', `index shape ${fmtShape(index.shape)} exceeds input shape ${fmtShape(x.shape)} at axis ${d}`);
    }
  }
  const idx = checkIndices('gather', index, x.shape[ax]);
  // The kernel assumes index dims equal x dims off-axis; narrower indices are handled by the
  // strides it computes from x's shape, which is what PyTorch does too.
  const y = wrap(kernels().gather(x.handle, x.shape, idx.handle, index.shape, ax), index.shape);
  return record('gather', y, [x], [idx], { axis: ax, shape: x.shape });
}

/**
 * One-hot float32 encoding: int32 labels of shape S → S + [numClasses]. The labels are checked
 * on the backend (integers, inside [0, numClasses); at once on a CPU, at the next read on a GPU);
 * the encoding itself is a broadcast comparison against [0, numClasses), cast to float32 (exactly
 * 1 and 0).
 */
export function oneHot(labels: Tensor, numClasses: number): Tensor {
  checkTensor('oneHot', 'labels', labels);
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new GradkitError('oneHot', `numClasses must be a positive integer, got ${numClasses}`);
  const lab = castTo(labels, 'int32');
  if (labels.dtype !== 'int32') {
    // A label the int32 cast changed (a fraction, NaN, ±Infinity) is not an integer.
    const changed = wrap(kernels().binary('ne', castTo(lab, labels.dtype).handle, labels.shape, labels.handle, labels.shape, labels.shape, 'bool'), labels.shape);
    checkNoneSet('oneHot', changed, [labels], ([src]) => {
      const i = src.findIndex((v) => !Number.isInteger(v));
      return `label ${src[i]} at position ${i} is not an integer`;
    });
  }
  checkLabelsOnDevice('oneHot', lab, numClasses, null, (v, i) => `label ${v} at position ${i} is outside [0, ${numClasses})`);
  const classes = new Int32Array(numClasses);
  for (let c = 0; c < numClasses; c++) classes[c] = c;
  const outShape = [...labels.shape, numClasses];
  const k = kernels();
  const hit = wrap(k.binary('eq', lab.handle, [...labels.shape, 1], upload(classes).handle, [numClasses], outShape, 'bool'), outShape);
  return wrap(k.cast(hit.handle, 'float32'), outShape);
}

const indexingRules: RuleTable<IndexingPrimitive> = {
  indexSelect: (g, [idx], { axis, shape }) => [wrap(kernels().indexAdd(g.handle, g.shape, idx.handle, axis, shape), shape)],
  gather: (g, [idx], { axis, shape }) => [wrap(kernels().scatterAdd(g.handle, idx.handle, idx.shape, axis, shape), shape)],
};
registerRules(indexingRules);
