import type { DataArray, DType } from '../core/dtype.js';
import type { Shape } from '../core/shape.js';
import type { Handle } from './handle.js';

/**
 * The kernel table every backend implements. Kernels take and return buffers (opaque handles
 * outside the backends; `B`) holding contiguous row-major values, plus the shapes they need;
 * indices, labels and masks are buffers too. Kernels never validate user input (the ops layer
 * does) and never record gradients (the gradient rule sits beside each op). Outputs are new
 * buffers of the input's float dtype unless stated; the caller owns them.
 *
 * `Kernels` (over `Handle`) is what code outside the backends sees. A CPU backend writes its
 * kernels over typed arrays (`Kernels<DataArray>`); its handles are those arrays.
 */

export type UnaryOp =
  | 'neg' | 'abs' | 'sqrt' | 'exp' | 'log' | 'log1p' | 'expm1' | 'sin' | 'cos' | 'tanh'
  | 'sigmoid' | 'relu' | 'sign' | 'square' | 'reciprocal' | 'floor' | 'ceil' | 'round'
  | 'softplus' | 'erf' | 'logicalNot';

export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'logicalAnd' | 'logicalOr';

export const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr']);

export type ReduceOp = 'sum' | 'max' | 'min' | 'prod';
export type ArgReduceOp = 'argmax' | 'argmin';

/** Sizes and layout of a batched matrix product C = A·B, as passed to the matmul kernel. */
export interface MatmulParams {
  /** Number of matrix products. */
  batch: number;
  m: number;
  k: number;
  n: number;
  /** A is stored [k, m] per batch and used transposed. */
  transA: boolean;
  /** B is stored [n, k] per batch and used transposed. */
  transB: boolean;
  /** Elements between consecutive batch matrices of A (0 broadcasts one matrix to all). */
  strideA: number;
  strideB: number;
}

/** Sizes, strides, padding and dilation of one 2-D convolution, as passed to the conv kernels. */
export interface Conv2dParams {
  /** Input [N, C, H, W]. */
  n: number;
  cIn: number;
  h: number;
  w: number;
  /** Weight [cOut, cIn / groups, kh, kw]. */
  cOut: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
  dilationH: number;
  dilationW: number;
  groups: number;
  /** Output spatial size (derived; given so kernels need not recompute it). */
  outH: number;
  outW: number;
}

/** Sizes, window, strides and padding of one 2-D max/avg pooling, as passed to the pooling kernels. */
export interface Pool2dParams {
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  outH: number;
  outW: number;
  /** avg pooling: divide by the whole window (true) or only the in-bounds part (false). */
  countIncludePad: boolean;
}

/** Result of batchNormForwardTrain; the per-channel arrays have length C and the input's dtype. */
export interface BatchNormTrainResult<B = Handle> {
  /** (x − mean)·invstd·γ + β, same shape as x. */
  out: B;
  mean: B;
  /** 1 / √(variance + eps), saved for the backward pass. */
  invstd: B;
  /** Biased batch variance (divided by the count M = N·spatial); the caller derives the unbiased one. */
  variance: B;
}

/** Gradients from batchNormBackward: dx like x, dgamma and dbeta of length C. */
export interface BatchNormGrads<B = Handle> {
  dx: B;
  dgamma: B;
  dbeta: B;
}

/** Activations biasAct can fuse with the bias-add. */
export type FusedActivation = 'none' | 'relu';

/** The numeric kernels a backend provides: every op works on flat typed arrays plus shapes, with no autograd. */
export interface Kernels<B = Handle> {
  /** A new buffer holding x's values converted to `dtype` (a copy even when the dtype is the same). */
  cast(x: B, dtype: DType): B;
  /** Overwrites dst with src's values (same length; converted to dst's dtype). In place. */
  copyInto(dst: B, src: B): void;
  /** Elementwise unary op; result has the input's dtype except logicalNot (bool). */
  unary(op: UnaryOp, x: B): B;
  /** Broadcasting binary op. Inputs already have the output dtype (comparisons: a common dtype). */
  binary(op: BinaryOp, a: B, aShape: Shape, b: B, bShape: Shape, outShape: Shape, outDtype: DType): B;
  /** Broadcasting select: cond (bool) ? a : b. */
  where(cond: B, cShape: Shape, a: B, aShape: Shape, b: B, bShape: Shape, outShape: Shape): B;
  /** Reduces over `axes` (sorted, unique); output holds the kept axes in order. */
  reduce(op: ReduceOp, x: B, shape: Shape, axes: readonly number[]): B;
  /** Index of the max/min along one axis (first occurrence); int32 result without that axis. */
  argReduce(op: ArgReduceOp, x: B, shape: Shape, axis: number): B;
  /** Batched GEMM: C[b] = op(A[b]) · op(B[b]), C is [batch, m, n]. */
  matmul(a: B, b: B, p: MatmulParams): B;
  /** Materializes a permutation of axes. */
  transpose(x: B, shape: Shape, perm: readonly number[]): B;
  /** Materializes `x` broadcast to `outShape`. */
  broadcastTo(x: B, shape: Shape, outShape: Shape): B;
  /** Strided slice: out[i] = x[begin + i * step] per axis, output `outShape`. */
  slice(x: B, shape: Shape, begin: readonly number[], step: readonly number[], outShape: Shape): B;
  /** Inverse of slice: zeros of `shape` with `src` (of `srcShape`) written at the strided positions. */
  sliceGrad(src: B, srcShape: Shape, shape: Shape, begin: readonly number[], step: readonly number[]): B;
  /** Constant padding; pads[i] = [before, after] for axis i. */
  pad(x: B, shape: Shape, pads: readonly (readonly [number, number])[], value: number): B;
  /** Joins along `axis`; all inputs share dtype and all other dims. */
  concat(xs: readonly B[], shapes: readonly Shape[], axis: number): B;
  /** out = x taken at `indices` along `axis` (indices already validated and non-negative). */
  indexSelect(x: B, shape: Shape, indices: B, axis: number): B;
  /** Zeros of `shape` with src rows added at `indices` along `axis` (gradient of indexSelect). */
  indexAdd(src: B, srcShape: Shape, indices: B, axis: number, shape: Shape): B;
  /** PyTorch gather: out[..i..] = x[..index[..i..]..] along axis; index has the output shape. */
  gather(x: B, shape: Shape, index: B, indexShape: Shape, axis: number): B;
  /** Zeros of `shape` with src added at index positions along axis (gradient of gather). */
  scatterAdd(src: B, index: B, indexShape: Shape, axis: number, shape: Shape): B;
  /** Softmax along the middle axis of a [outer, size, inner] view. */
  softmax(x: B, outer: number, size: number, inner: number): B;
  /** Log-softmax along the middle axis of a [outer, size, inner] view. */
  logSoftmax(x: B, outer: number, size: number, inner: number): B;
  /** NCHW convolution, output [n, cOut, outH, outW]. */
  conv2d(x: B, w: B, p: Conv2dParams): B;
  /** Gradient w.r.t. the input: dy [n, cOut, outH, outW] → dx [n, cIn, h, w]. */
  conv2dBackwardInput(dy: B, w: B, p: Conv2dParams): B;
  /** Gradient w.r.t. the weight: x, dy → dw [cOut, cIn/groups, kh, kw]. */
  conv2dBackwardFilter(x: B, dy: B, p: Conv2dParams): B;
  /** Max pooling; also returns, per output, the flat index (within its n·c plane) of the max. */
  maxPool2d(x: B, p: Pool2dParams): { out: B; argmax: B };
  maxPool2dBackward(dy: B, argmax: B, p: Pool2dParams): B;
  avgPool2d(x: B, p: Pool2dParams): B;
  avgPool2dBackward(dy: B, p: Pool2dParams): B;

  // Fused kernels for training hot paths: one or two passes where the composed ops take many.
  /**
   * Gradient of relu: dy·(x > 0 ? 1 : 0), and NaN where x is NaN (relu passes NaN
   * through, so its gradient does too: a diverged value stays visible instead of becoming 0).
   */
  reluBackward(x: B, dy: B): B;
  /**
   * Training-mode batch normalization of x [N, C, ...spatial] with per-channel batch statistics
   * over N and the spatial axes. gamma/beta (length C) may be null (scale 1, shift 0).
   */
  batchNormForwardTrain(x: B, shape: Shape, gamma: B | null, beta: B | null, eps: number): BatchNormTrainResult<B>;
  /** Per-channel affine map y = x·scale[c] + shift[c] over x [N, C, ...] (eval-mode batch norm). */
  batchNormForwardEval(x: B, shape: Shape, scale: B, shift: B): B;
  /**
   * Gradients of batch normalization given the saved per-channel mean and invstd. With
   * `batchStats` true the statistics came from x itself (training), so dx includes their
   * dependence on x: dx = γ·invstd·(dy − Σdy/M − x̂·Σ(dy·x̂)/M); otherwise they were constants
   * (running statistics) and dx = γ·invstd·dy. Always dgamma = Σ dy·x̂ and dbeta = Σ dy.
   */
  batchNormBackward(x: B, dy: B, shape: Shape, mean: B, invstd: B, gamma: B | null, batchStats: boolean): BatchNormGrads<B>;
  /**
   * Per-row cross-entropy of logits [rows, classes] against int32 labels (validated: in range or
   * equal to ignoreIndex), with label smoothing ε: loss = logΣe^z − (1−ε)·z[label] − ε·mean(z).
   * Rows whose label is ignoreIndex get loss 0. Also returns softmax(z), saved for the backward.
   */
  softmaxCrossEntropy(logits: B, rows: number, classes: number, labels: B, smoothing: number, ignoreIndex: number | null): { loss: B; probs: B };
  /**
   * y = act(x + bias) with bias (length shape[axis]) broadcast along `axis`: the bias-add and
   * activation of a Linear/Conv layer in one pass. relu follows the relu kernel (NaN passes).
   */
  biasAct(x: B, shape: Shape, bias: B, axis: number, act: FusedActivation): B;
  /**
   * Gradients of biasAct from its output y: dx = dy·act'(y) (for relu, as reluBackward on y,
   * since y > 0 exactly where x + bias > 0) and dbias = dx summed over every axis but `axis`.
   */
  biasActBackward(y: B, dy: B, shape: Shape, axis: number, act: FusedActivation): { dx: B; dbias: B };
  /** dlogits = dloss[row]·(probs − (1−ε)·onehot(label) − ε/classes); 0 for ignored rows. */
  softmaxCrossEntropyBackward(probs: B, labels: B, dloss: B, rows: number, classes: number, smoothing: number, ignoreIndex: number | null): B;
  /**
   * Checks class labels in one pass so that losses and metrics read two numbers instead of
   * scanning the labels on the host. Returns int32 [2]: [how many labels differ from
   * ignoreIndex, position of the first label that is neither an integer in [0, classes) nor
   * ignoreIndex (−1 when there is none)]. Labels may have any dtype (a float label must be a
   * whole number); `classes` may be Infinity (no upper bound).
   */
  checkLabels(labels: B, classes: number, ignoreIndex: number | null): B;
  // Optimizer steps: one pass per parameter on device state, in place (w, its slots), for
  // float32 and float64. Every buffer of one call has the parameter's dtype and size; g is not
  // changed. `s` is −lr; `apply` false advances the slots and leaves w bit for bit unchanged
  // (a group at lr 0). float32 values are rounded to float32 exactly where a float32 array
  // would store them in the composed optimizer chain (src/optim/transforms.ts), so a backend's
  // step equals the reference's bit for bit (src/backends/reference/optim.ts is the contract).
  /**
   * Adam/AdamW at step t (1-based): g' = g + l2·w (coupled decay, 0 = none); m ← b1·m + (1−b1)·g';
   * v ← b2·v + (1−b2)·g'²; vMax ← max(vMax, v) when given (AMSGrad, which then uses vMax);
   * u = m/(1−b1ᵗ) / (√v/√(1−b2ᵗ) + eps) + decay·w (decoupled, 0 = none); w += s·u.
   */
  adamUpdate(
    w: B, g: B, m: B, v: B, vMax: B | null,
    b1: number, b2: number, eps: number, t: number, l2: number, decay: number, s: number, apply: boolean,
  ): void;
  /**
   * SGD as PyTorch: g' = g + l2·w; with `buf` (momentum): buf ← g' on the parameter's `first`
   * step, else momentum·buf + (1 − dampening)·g', and u = nesterov ? g' + momentum·buf : buf;
   * without: u = g'. Then w += s·u.
   */
  sgdUpdate(
    w: B, g: B, buf: B | null, first: boolean,
    momentum: number, dampening: number, nesterov: boolean, l2: number, s: number, apply: boolean,
  ): void;
  /**
   * RMSprop as PyTorch: g' = g + l2·w; sq ← α·sq + (1−α)·g'²; centered (gAvg given):
   * gAvg ← α·gAvg + (1−α)·g', mean = max(0, sq − gAvg²); d = g' / (√mean + eps);
   * with `buf` (momentum > 0): buf ← momentum·buf + d, u = buf; else u = d. Then w += s·u.
   */
  rmspropUpdate(
    w: B, g: B, sq: B, gAvg: B | null, buf: B | null,
    alpha: number, eps: number, momentum: number, l2: number, s: number, apply: boolean,
  ): void;
  /**
   * Adagrad as PyTorch: g' = g + l2·w; sum ← sum + g'²; u = (factor·g') / (√sum + eps), where
   * factor = 1/(1 + (t − 1)·lrDecay) at the parameter's step t (computed by the caller). Then
   * w += s·u.
   */
  adagradUpdate(
    w: B, g: B, sum: B,
    eps: number, factor: number, l2: number, s: number, apply: boolean,
  ): void;
  /**
   * How many NaN/±Inf values each buffer holds, as one int32 buffer [xs.length] (int and bool
   * buffers count 0). The NaN guard checks every gradient with one call and one read of this
   * small buffer instead of downloading and scanning each gradient on the host.
   */
  nonFiniteCount(xs: readonly B[]): B;
}

export type KernelName = keyof Kernels;
