import { isFloat } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { broadcastShapes, sizeOf } from '../core/shape.js';
import { record, registerRules, type RuleTable, type Spec } from '../autograd/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastTo, reshape } from './shape.js';
import { cast } from './elementwise.js';
import { castTo, checkTensor, kernels, sumToShape, wrap } from './util.js';

/**
 * Core batched product on 3-D operands [batch, m, k] × [batch, k, n] (batch may be 1 on either
 * side and is then broadcast without copying). Transposed operands are read in place.
 */
function batchedProduct(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const batch = Math.max(a.shape[0], b.shape[0]);
  const m = transA ? a.shape[2] : a.shape[1];
  const k = transA ? a.shape[1] : a.shape[2];
  const n = transB ? b.shape[1] : b.shape[2];
  const out = kernels().matmul(a.handle, b.handle, {
    batch, m, k, n, transA, transB,
    strideA: a.shape[0] === 1 ? 0 : m * k,
    strideB: b.shape[0] === 1 ? 0 : k * n,
  });
  return wrap(out, [batch, m, n]);
}

/**
 * Matrix product with NumPy semantics: 1-D operands are promoted to a row/column vector and the
 * added axis removed after; leading (batch) axes broadcast.
 */
export function matmul(aIn: Tensor, bIn: Tensor): Tensor {
  checkTensor('matmul', 'a', aIn);
  checkTensor('matmul', 'b', bIn);
  if (aIn.rank === 0 || bIn.rank === 0) throw new GradkitError('matmul', `operands must be at least 1-D, got ${fmtShape(aIn.shape)} and ${fmtShape(bIn.shape)}`);
  if (!isFloat(aIn.dtype) || !isFloat(bIn.dtype)) throw new GradkitError('matmul', `operands must be float tensors, got ${aIn.dtype} and ${bIn.dtype}`);
  const dtype = aIn.dtype === 'float64' || bIn.dtype === 'float64' ? 'float64' : 'float32';
  // cast (not castTo): a float32 operand promoted to float64 must stay in the graph.
  const a = cast(aIn.rank === 1 ? reshape(aIn, [1, aIn.shape[0]]) : aIn, dtype);
  const b = cast(bIn.rank === 1 ? reshape(bIn, [bIn.shape[0], 1]) : bIn, dtype);
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2) {
    throw new GradkitError('matmul', `inner dimensions do not match: ${fmtShape(aIn.shape)} @ ${fmtShape(bIn.shape)} (${k} vs ${k2})`);
  }
  const batchShape = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = sizeOf(batchShape);
  // Only materialize a broadcast when one side has a batch that is neither full nor 1.
  const as3 = (t: Tensor, r: number, c: number): Tensor => {
    const own = sizeOf(t.shape.slice(0, -2));
    const full = own === batch || own === 1 ? t : broadcastTo(t, [...batchShape, r, c]);
    return reshape(full, [own === 1 ? 1 : batch, r, c]);
  };
  const a3 = as3(a, m, k);
  const b3 = as3(b, k, n);
  const y3 = batchedProduct(a3.detach(), b3.detach(), false, false);
  let outShape = [...batchShape, m, n];
  if (aIn.rank === 1) outShape = outShape.filter((_, i) => i !== outShape.length - 2);
  if (bIn.rank === 1) outShape = outShape.slice(0, -1);
  const y = y3.view(outShape);
  return record('matmul', y, [a3, b3], [a3, b3], { batch, m, n });
}

/**
 * x·Wᵀ for W of shape [out, in] and x of shape [..., in] (a Linear layer's product, PyTorch's
 * F.linear without bias), as one kernel call that reads W transposed in place: matmul(x, W.T)
 * would first materialize Wᵀ, which costs as much as the product for small batches. Gradients
 * dx = g·W and dW = gᵀ·x are single calls too.
 */
export function linearProduct(x: Tensor, weight: Tensor): Tensor {
  checkTensor('linear', 'input', x);
  checkTensor('linear', 'weight', weight);
  if (weight.rank !== 2) throw new GradkitError('linear', `weight must be 2-D [out, in], got ${fmtShape(weight.shape)}`);
  if (x.rank < 1 || x.shape[x.rank - 1] !== weight.shape[1]) {
    throw new GradkitError('linear', `input ${fmtShape(x.shape)} does not match weight ${fmtShape(weight.shape)}: expected input [..., ${weight.shape[1]}]`);
  }
  if (!isFloat(x.dtype) || !isFloat(weight.dtype)) throw new GradkitError('linear', `input and weight must be float tensors, got ${x.dtype} and ${weight.dtype}`);
  const dtype = x.dtype === 'float64' || weight.dtype === 'float64' ? 'float64' : 'float32';
  const xc = castTo(x, dtype);
  const wc = castTo(weight, dtype);
  const [outF, inF] = weight.shape;
  const m = x.size / inF;
  const y = wrap(
    kernels().matmul(xc.handle, wc.handle, { batch: 1, m, k: inF, n: outF, transA: false, transB: true, strideA: 0, strideB: 0 }),
    [...x.shape.slice(0, -1), outF],
  );
  return record('linear', y, [x, weight], [xc, wc], { m });
}

/** What each matmul primitive's rule saves (the operands as multiplied) and its attributes. */
export interface MatmulSpecs {
  /** a, b: the operands as 3-D [batch or 1, m, k] and [batch or 1, k, n]. */
  matmul: Spec<[a: Tensor, b: Tensor], { batch: number; m: number; n: number }>;
  /** x, w: input and weight in the product's dtype; m: rows of x flattened to 2-D. */
  linear: Spec<[x: Tensor, w: Tensor], { m: number }>;
}

/** The matmul family's primitives. */
export type MatmulPrimitive = keyof MatmulSpecs;

const matmulRules: RuleTable<MatmulPrimitive> = {
  matmul: (g, [a3, b3], { batch, m, n }, needs) => {
    const g3 = reshape(g, [batch, m, n]);
    // dA = dC · Bᵀ, dB = Aᵀ · dC; a batch of 1 that was broadcast sums its batch gradient.
    const ga = needs[0] ? sumToShape(batchedProduct(g3, b3, false, true), a3.shape) : null;
    const gb = needs[1] ? sumToShape(batchedProduct(a3, g3, true, false), b3.shape) : null;
    return [ga, gb];
  },
  linear: (g, [xc, wc], { m }, needs) => {
    const [outF, inF] = wc.shape;
    const k = kernels();
    return [
      needs[0] ? wrap(k.matmul(g.handle, wc.handle, { batch: 1, m, k: outF, n: inF, transA: false, transB: false, strideA: 0, strideB: 0 }), xc.shape) : null,
      needs[1] ? wrap(k.matmul(g.handle, xc.handle, { batch: 1, m: outF, k: m, n: inF, transA: true, transB: false, strideA: 0, strideB: 0 }), wc.shape) : null,
    ];
  },
};
registerRules(matmulRules);

/** Batched matmul of 3-D tensors [B, m, k] × [B, k, n] → [B, m, n] (PyTorch's bmm); matmul with a rank check. */
export function bmmOp(a: Tensor, b: Tensor): Tensor {
  checkTensor('bmm', 'a', a);
  checkTensor('bmm', 'b', b);
  if (a.rank !== 3 || b.rank !== 3) throw new GradkitError('bmm', `expects 3-D tensors, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  return matmul(a, b);
}

/** PyTorch's name for bmmOp. */
export const bmm = bmmOp;
