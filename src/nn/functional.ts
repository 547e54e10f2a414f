/**
 * Functional forms of the layers: stateless functions composed from the public ops, so autograd
 * works through them without gradient rules of their own, and every backend's kernels are used.
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import { getGlobalRng, type Random } from '../core/rng.js';
import { isFloat } from '../core/dtype.js';
import { record } from '../autograd/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { rand, randn } from '../tensor/creation.js';
import * as ops from '../ops/index.js';
import { checkProb } from './layer-options.js';

/**
 * x·Wᵀ for W [out, in] and x [..., in], as one kernel call that reads W transposed in place
 * (ops.matmul(x, W.T) would first materialize Wᵀ, which costs as much as the product for
 * small batches). Gradients: dx = g·W, dW = gᵀ·x, again without copies.
 */
function matmulTransposed(x: Tensor, w: Tensor): Tensor {
  return ops.linearProduct(x, w);
}

/** y = x·Wᵀ + b for W of shape [out, in] and x of shape [..., in]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkLinear(x, weight);
  const y = matmulTransposed(x, weight);
  return bias === undefined || bias === null ? y : ops.add(y, bias);
}

/** act(x·Wᵀ + b) with the bias-add and activation as one fused kernel (ops.biasAct). */
export function linearBiasAct(x: Tensor, weight: Tensor, bias: Tensor, act: ops.FusedActivation): Tensor {
  checkLinear(x, weight);
  const y = matmulTransposed(x, weight);
  return ops.biasAct(y, bias, { axis: y.rank - 1, activation: act });
}

function checkLinear(x: Tensor, weight: Tensor): void {
  if (!(x instanceof Tensor) || !(weight instanceof Tensor)) throw new GradkitError('linear', 'input and weight must be Tensors');
  if (weight.rank !== 2) throw new GradkitError('linear', `weight must be 2-D [out, in], got ${fmtShape(weight.shape)}`);
  if (x.rank < 1 || x.shape[x.rank - 1] !== weight.shape[1]) {
    throw new GradkitError('linear', `input ${fmtShape(x.shape)} does not match weight ${fmtShape(weight.shape)}: expected input [..., ${weight.shape[1]}]`);
  }
  if (!isFloat(x.dtype) || !isFloat(weight.dtype)) throw new GradkitError('linear', `input and weight must be float tensors, got ${x.dtype} and ${weight.dtype}`);
}

// ---- activations ---------------------------------------------------------------------------------

export const sigmoid = (x: Tensor): Tensor => ops.sigmoid(x);
export const tanh = (x: Tensor): Tensor => ops.tanh(x);
export const relu = (x: Tensor): Tensor => ops.relu(x);

/** max(x, 0) + slope·min(x, 0); slope default 0.01. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  if (!Number.isFinite(negativeSlope)) throw new GradkitError('leakyRelu', `negativeSlope must be finite, got ${negativeSlope}`);
  return ops.where(ops.gt(x, 0), x, ops.mul(x, negativeSlope));
}

/**
 * Channel axis view of a per-channel parameter: [C] → [1, C, 1, …] for an input of rank ≥ 2,
 * so it broadcasts over batch and spatial axes.
 */
function perChannel(op: string, x: Tensor, p: Tensor): Tensor {
  if (p.size === 1) return p.rank === 0 ? p : ops.reshape(p, []);
  if (p.rank !== 1) throw new GradkitError(op, `parameter must be 1-D [C] or a single value, got ${fmtShape(p.shape)}`);
  if (x.rank < 2 || x.shape[1] !== p.shape[0]) {
    throw new GradkitError(op, `parameter has ${p.shape[0]} channels but input ${fmtShape(x.shape)} has ${x.rank < 2 ? 'no channel axis' : `${x.shape[1]} channels (axis 1)`}`);
  }
  return ops.reshape(p, [1, p.shape[0], ...new Array<number>(x.rank - 2).fill(1)]);
}

/** Parametric ReLU: max(x, 0) + α·min(x, 0) with learnable α (one value, or one per channel on axis 1). */
export function prelu(x: Tensor, alpha: Tensor): Tensor {
  const a = perChannel('prelu', x, alpha);
  return ops.add(ops.relu(x), ops.mul(a, ops.minimum(x, 0)));
}

/** ELU: x for x > 0, α·(eˣ − 1) otherwise (α default 1). */
export function elu(x: Tensor, alpha = 1): Tensor {
  if (!Number.isFinite(alpha)) throw new GradkitError('elu', `alpha must be finite, got ${alpha}`);
  // expm1 of min(x, 0), not of x: the unused branch must not overflow to inf (inf·0 = NaN in backward).
  return ops.add(ops.relu(x), ops.mul(ops.expm1(ops.minimum(x, 0)), alpha));
}

/** SELU's constants (Klambauer et al. 2017): the fixed point of mean 0, variance 1. */
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_SCALE = 1.0507009873554805;

/** SELU: λ·ELU(x, α) with λ ≈ 1.0507, α ≈ 1.6733. Pair with lecunNormal init and AlphaDropout. */
export function selu(x: Tensor): Tensor {
  return ops.mul(elu(x, SELU_ALPHA), SELU_SCALE);
}

/** Swish: x·σ(βx); β a number (default 1, which is SiLU) or a learnable tensor. */
export function swish(x: Tensor, beta: number | Tensor = 1): Tensor {
  return ops.mul(x, ops.sigmoid(typeof beta === 'number' && beta === 1 ? x : ops.mul(x, beta)));
}

/** SiLU: x·σ(x). */
export function silu(x: Tensor): Tensor {
  return swish(x, 1);
}

export interface GeluOptions {
  /** 'none' (default): exact x·Φ(x) with erf; 'tanh': the tanh approximation of Hendrycks & Gimpel. */
  approximate?: 'none' | 'tanh';
}

/** GELU: x·Φ(x) = ½x(1 + erf(x/√2)), or ½x(1 + tanh(√(2/π)(x + 0.044715x³))) with approximate 'tanh'. */
export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  const approx = opts.approximate ?? 'none';
  if (approx === 'none') return ops.mul(ops.mul(x, 0.5), ops.add(ops.erf(ops.mul(x, Math.SQRT1_2)), 1));
  if (approx !== 'tanh') throw new GradkitError('gelu', `approximate must be 'none' or 'tanh', got '${String(approx)}'`);
  const inner = ops.mul(ops.add(x, ops.mul(ops.mul(ops.square(x), x), 0.044715)), Math.sqrt(2 / Math.PI));
  return ops.mul(ops.mul(x, 0.5), ops.add(ops.tanh(inner), 1));
}

/** Softplus: log(1 + e^(βx))/β, linear above `threshold` (βx > threshold) for stability. Defaults β = 1, threshold 20. */
export function softplus(x: Tensor, opts: { beta?: number; threshold?: number } = {}): Tensor {
  const beta = opts.beta ?? 1;
  const threshold = opts.threshold ?? 20;
  if (!(Number.isFinite(beta) && beta > 0)) throw new GradkitError('softplus', `beta must be a positive number, got ${beta}`);
  const bx = beta === 1 ? x : ops.mul(x, beta);
  // The op itself is stable for large inputs; the threshold matches PyTorch's exact linear region.
  const soft = ops.softplus(ops.minimum(bx, threshold));
  const y = ops.where(ops.gt(bx, threshold), bx, soft);
  return beta === 1 ? y : ops.div(y, beta);
}

export const softmax = (x: Tensor, axis = -1): Tensor => ops.softmax(x, axis);
export const logSoftmax = (x: Tensor, axis = -1): Tensor => ops.logSoftmax(x, axis);

/**
 * Maxout over the last axis: [..., units·k] is viewed as [..., units, k] (k consecutive pieces
 * per unit) and the max of each group is kept, giving [..., units].
 */
export function maxout(x: Tensor, k: number): Tensor {
  if (!Number.isInteger(k) || k < 1) throw new GradkitError('maxout', `k (pieces per unit) must be a positive integer, got ${k}`);
  const last = x.shape[x.rank - 1];
  if (x.rank < 1 || last % k !== 0) throw new GradkitError('maxout', `last axis of ${fmtShape(x.shape)} must be divisible by k=${k}`);
  return ops.max(ops.reshape(x, [...x.shape.slice(0, -1), last / k, k]), -1);
}

// ---- regularization ------------------------------------------------------------------------------

export interface DropoutOptions {
  /** Drop probability (default 0.5). */
  p?: number;
  /** Only active in training (default true). */
  training?: boolean;
  rng?: Random;
}

/** A {0, 1/(1−p)} mask of `shape` in x's dtype: kept with probability 1 − p. */
export function dropoutMask(shape: readonly number[], p: number, dtype: 'float32' | 'float64', rng: Random): Tensor {
  const keep = ops.ge(rand(shape, { rng, dtype }), p);
  return ops.mul(ops.cast(keep, dtype), 1 / (1 - p));
}

/** Inverted dropout: zero each element with probability p and scale the rest by 1/(1−p), so eval needs no rescaling. */
export function dropout(x: Tensor, opts: DropoutOptions = {}): Tensor {
  const p = opts.p ?? 0.5;
  checkProb('dropout', p);
  if (!(opts.training ?? true) || p === 0) return x;
  return ops.mul(x, dropoutMask(x.shape, p, x.dtype === 'float64' ? 'float64' : 'float32', opts.rng ?? getGlobalRng()));
}

/**
 * Alpha dropout (Klambauer et al.) for SELU networks: dropped units are set to SELU's negative
 * saturation α' = −λα, then an affine map a·x + b restores mean 0 and variance 1.
 */
export function alphaDropout(x: Tensor, opts: DropoutOptions = {}): Tensor {
  const p = opts.p ?? 0.5;
  checkProb('alphaDropout', p);
  if (!(opts.training ?? true) || p === 0) return x;
  const alphaP = -SELU_SCALE * SELU_ALPHA;
  const a = 1 / Math.sqrt((1 - p) * (1 + p * alphaP * alphaP));
  const b = -a * alphaP * p;
  const dtype = x.dtype === 'float64' ? 'float64' : 'float32';
  const keep = ops.cast(ops.ge(rand(x.shape, { rng: opts.rng ?? getGlobalRng(), dtype }), p), dtype);
  // a·(x·keep + α'·(1 − keep)) + b
  const mixed = ops.add(ops.mul(x, keep), ops.mul(ops.sub(1, keep), alphaP));
  return ops.add(ops.mul(mixed, a), b);
}

/** Adds N(0, std²) noise in training; the identity in eval. */
export function gaussianNoise(x: Tensor, opts: { std: number; training?: boolean; rng?: Random }): Tensor {
  const std = opts.std;
  if (!(Number.isFinite(std) && std >= 0)) throw new GradkitError('gaussianNoise', `std must be a non-negative number, got ${std}`);
  if (!(opts.training ?? true) || std === 0) return x;
  const dtype = x.dtype === 'float64' ? 'float64' : 'float32';
  return ops.add(x, randn(x.shape, { rng: opts.rng ?? getGlobalRng(), std, dtype }));
}

// ---- the rest of the functional surface, re-exported so `nn.functional` is complete --------------
export { batchNorm, layerNorm, groupNorm } from './normalization.js';
export { adaptiveAvgPool2d, globalAvgPool2d } from './conv.js';
export { conv2d, maxPool2d, avgPool2d } from '../ops/conv.js';
