import { normalizeAxis, sizeOf } from '../core/shape.js';
import { record, registerRules, type RuleTable, type Spec } from '../autograd/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { exp, mul, sub } from './elementwise.js';
import { sum } from './reduce.js';
import { checkTensor, kernels, requireFloat, wrap } from './util.js';

/** What each softmax primitive's rule saves (its output y) and its attributes (the axis as given). */
export interface SoftmaxSpecs {
  softmax: Spec<[y: Tensor], { axis: number }>;
  logSoftmax: Spec<[y: Tensor], { axis: number }>;
}

/** The softmax family's primitives. */
export type SoftmaxPrimitive = keyof SoftmaxSpecs;

function view(op: string, x: Tensor, axis: number): [number, number, number] {
  checkTensor(op, 'input', x);
  requireFloat(op, x);
  const ax = normalizeAxis(op, axis, x.rank);
  return [sizeOf(x.shape.slice(0, ax)), x.shape[ax], sizeOf(x.shape.slice(ax + 1))];
}

/** Softmax along `axis` (default last), computed with the max subtracted. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const [outer, size, inner] = view('softmax', x, axis);
  const y = wrap(kernels().softmax(x.handle, outer, size, inner), x.shape);
  return record('softmax', y, [x], [y], { axis });
}

/** log(softmax(x)) without the round-off of taking the log of small probabilities. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const [outer, size, inner] = view('logSoftmax', x, axis);
  const y = wrap(kernels().logSoftmax(x.handle, outer, size, inner), x.shape);
  return record('logSoftmax', y, [x], [y], { axis });
}

const softmaxRules: RuleTable<SoftmaxPrimitive> = {
  // dx = y ⊙ (g − Σ g⊙y)
  softmax: (g, [y], { axis }) => [mul(y, sub(g, sum(mul(g, y), axis, { keepDims: true })))],
  // dx = g − softmax ⊙ Σ g
  logSoftmax: (g, [y], { axis }) => [sub(g, mul(exp(y), sum(g, axis, { keepDims: true })))],
};
registerRules(softmaxRules);
