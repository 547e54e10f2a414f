import { GradkitError, fmtShape } from '../core/errors.js';
import { normalizeAxis } from '../core/shape.js';
import { record } from '../autograd/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { castTo, checkTensor, kernels, wrap } from './util.js';

/** Validates integer indices against a dimension, wrapping negatives; names the first bad one. */
function checkIndices(op: string, indices: Tensor, dim: number): Int32Array {
  if (indices.dtype !== 'int32') throw new GradkitError(op, `indices must be int32, got ${indices.dtype}`);
  const src = indices.buffer as Int32Array;
  let out = src;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v < -dim || v >= dim) {
      throw new GradkitError(op, `index ${v} at position ${i} is out of range for a dimension of size ${dim}`);
    }
    if (v < 0) {
      if (out === src) out = src.slice();
      out[i] = v + dim;
    }
  }
  return out;
}

/** Rows (or slices along `axis`) picked by a 1-D int32 index tensor: x.indexSelect(0, idx). */
export function indexSelect(x: Tensor, axis: number, indices: Tensor): Tensor {
  checkTensor('indexSelect', 'input', x);
  checkTensor('indexSelect', 'indices', indices);
  const ax = normalizeAxis('indexSelect', axis, x.rank);
  if (indices.rank !== 1) throw new GradkitError('indexSelect', `indices must be 1-D, got shape ${fmtShape(indices.shape)}`);
  const idx = checkIndices('indexSelect', indices, x.shape[ax]);
  const outShape = [...x.shape];
  outShape[ax] = idx.length;
  const y = wrap(kernels().indexSelect(x.buffer, x.shape, idx, ax), outShape);
  return record('indexSelect', y, [x], (g) => [wrap(kernels().indexAdd(g.buffer, g.shape, idx, ax, x.shape), x.shape)]);
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
  const y = wrap(kernels().gather(x.buffer, x.shape, idx, index.shape, ax), index.shape);
  return record('gather', y, [x], (g) => [wrap(kernels().scatterAdd(g.buffer, idx, index.shape, ax, x.shape), x.shape)]);
}

/** One-hot float32 encoding: int32 labels of shape S → S + [numClasses]. */
export function oneHot(labels: Tensor, numClasses: number): Tensor {
  checkTensor('oneHot', 'labels', labels);
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new GradkitError('oneHot', `numClasses must be a positive integer, got ${numClasses}`);
  const lab = labels.dtype === 'int32' ? labels : castTo(labels, 'int32');
  if (labels.dtype !== 'int32') {
    const src = labels.buffer;
    for (let i = 0; i < src.length; i++) {
      if (!Number.isInteger(src[i])) throw new GradkitError('oneHot', `label ${src[i]} at position ${i} is not an integer`);
    }
  }
  const l = lab.buffer as Int32Array;
  const out = new Float32Array(l.length * numClasses);
  for (let i = 0; i < l.length; i++) {
    if (l[i] < 0 || l[i] >= numClasses) throw new GradkitError('oneHot', `label ${l[i]} at position ${i} is outside [0, ${numClasses})`);
    out[i * numClasses + l[i]] = 1;
  }
  return wrap(out, [...labels.shape, numClasses]);
}
