import type { DataArray, DType } from '../core/dtype.js';
import type { Shape } from '../core/shape.js';

/**
 * The kernel table every backend implements. Kernels take and return contiguous row-major
 * buffers plus the shapes they need; they never validate user input (the ops layer does) and
 * never record gradients (the gradient rule sits beside each op). Outputs are new buffers of
 * the input's float dtype unless stated.
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
export interface BatchNormTrainResult {
  /** (x − mean)·invstd·γ + β, same shape as x. */
  out: DataArray;
  mean: DataArray;
  /** 1 / √(variance + eps), saved for the backward pass. */
  invstd: DataArray;
  /** Biased batch variance (divided by the count M = N·spatial); the caller derives the unbiased one. */
  variance: DataArray;
}

/** Gradients from batchNormBackward: dx like x, dgamma and dbeta of length C. */
export interface BatchNormGrads {
  dx: DataArray;
  dgamma: DataArray;
  dbeta: DataArray;
}

/** Activations biasAct can fuse with the bias-add. */
export type FusedActivation = 'none' | 'relu';

/** The numeric kernels a backend provides: every op works on flat typed arrays plus shapes, with no autograd. */
export interface Kernels {
  /** Elementwise unary op; result has the input's dtype except logicalNot (bool). */
  unary(op: UnaryOp, x: DataArray): DataArray;
  /** Broadcasting binary op. Inputs already have the output dtype (comparisons: a common dtype). */
  binary(op: BinaryOp, a: DataArray, aShape: Shape, b: DataArray, bShape: Shape, outShape: Shape, outDtype: DType): DataArray;
  /** Broadcasting select: cond (bool) ? a : b. */
  where(cond: Uint8Array, cShape: Shape, a: DataArray, aShape: Shape, b: DataArray, bShape: Shape, outShape: Shape): DataArray;
  /** Reduces over `axes` (sorted, unique); output holds the kept axes in order. */
  reduce(op: ReduceOp, x: DataArray, shape: Shape, axes: readonly number[]): DataArray;
  /** Index of the max/min along one axis (first occurrence); int32 result without that axis. */
  argReduce(op: ArgReduceOp, x: DataArray, shape: Shape, axis: number): Int32Array;
  /** Batched GEMM: C[b] = op(A[b]) · op(B[b]), C is [batch, m, n]. */
  matmul(a: DataArray, b: DataArray, p: MatmulParams): DataArray;
  /** Materializes a permutation of axes. */
  transpose(x: DataArray, shape: Shape, perm: readonly number[]): DataArray;
  /** Materializes `x` broadcast to `outShape`. */
  broadcastTo(x: DataArray, shape: Shape, outShape: Shape): DataArray;
  /** Strided slice: out[i] = x[begin + i * step] per axis, output `outShape`. */
  slice(x: DataArray, shape: Shape, begin: readonly number[], step: readonly number[], outShape: Shape): DataArray;
  /** Inverse of slice: zeros of `shape` with `src` (of `srcShape`) written at the strided positions. */
  sliceGrad(src: DataArray, srcShape: Shape, shape: Shape, begin: readonly number[], step: readonly number[]): DataArray;
  /** Constant padding; pads[i] = [before, after] for axis i. */
  pad(x: DataArray, shape: Shape, pads: readonly (readonly [number, number])[], value: number): DataArray;
  /** Joins along `axis`; all inputs share dtype and all other dims. */
  concat(xs: readonly DataArray[], shapes: readonly Shape[], axis: number): DataArray;
  /** out = x taken at `indices` along `axis` (indices already validated and non-negative). */
  indexSelect(x: DataArray, shape: Shape, indices: Int32Array, axis: number): DataArray;
  /** Zeros of `shape` with src rows added at `indices` along `axis` (gradient of indexSelect). */
  indexAdd(src: DataArray, srcShape: Shape, indices: Int32Array, axis: number, shape: Shape): DataArray;
  /** PyTorch gather: out[..i..] = x[..index[..i..]..] along axis; index has the output shape. */
  gather(x: DataArray, shape: Shape, index: Int32Array, indexShape: Shape, axis: number): DataArray;
  /** Zeros of `shape` with src added at index positions along axis (gradient of gather). */
  scatterAdd(src: DataArray, index: Int32Array, indexShape: Shape, axis: number, shape: Shape): DataArray;
  /** Softmax along the middle axis of a [outer, size, inner] view. */
  softmax(x: DataArray, outer: number, size: number, inner: number): DataArray;
  /** Log-softmax along the middle axis of a [outer, size, inner] view. */
  logSoftmax(x: DataArray, outer: number, size: number, inner: number): DataArray;
  /** NCHW convolution, output [n, cOut, outH, outW]. */
  conv2d(x: DataArray, w: DataArray, p: Conv2dParams): DataArray;
  /** Gradient w.r.t. the input: dy [n, cOut, outH, outW] → dx [n, cIn, h, w]. */
  conv2dBackwardInput(dy: DataArray, w: DataArray, p: Conv2dParams): DataArray;
  /** Gradient w.r.t. the weight: x, dy → dw [cOut, cIn/groups, kh, kw]. */
  conv2dBackwardFilter(x: DataArray, dy: DataArray, p: Conv2dParams): DataArray;
  /** Max pooling; also returns, per output, the flat index (within its n·c plane) of the max. */
  maxPool2d(x: DataArray, p: Pool2dParams): { out: DataArray; argmax: Int32Array };
  maxPool2dBackward(dy: DataArray, argmax: Int32Array, p: Pool2dParams): DataArray;
  avgPool2d(x: DataArray, p: Pool2dParams): DataArray;
  avgPool2dBackward(dy: DataArray, p: Pool2dParams): DataArray;

  // Fused kernels for training hot paths: one or two passes where the composed ops take many.
  /**
   * Gradient of relu: dy·(x > 0 ? 1 : 0), and NaN where x is NaN (relu passes NaN
   * through, so its gradient does too: a diverged value stays visible instead of becoming 0).
   */
  reluBackward(x: DataArray, dy: DataArray): DataArray;
  /**
   * Training-mode batch normalization of x [N, C, ...spatial] with per-channel batch statistics
   * over N and the spatial axes. gamma/beta (length C) may be null (scale 1, shift 0).
   */
  batchNormForwardTrain(x: DataArray, shape: Shape, gamma: DataArray | null, beta: DataArray | null, eps: number): BatchNormTrainResult;
  /** Per-channel affine map y = x·scale[c] + shift[c] over x [N, C, ...] (eval-mode batch norm). */
  batchNormForwardEval(x: DataArray, shape: Shape, scale: DataArray, shift: DataArray): DataArray;
  /**
   * Gradients of batch normalization given the saved per-channel mean and invstd. With
   * `batchStats` true the statistics came from x itself (training), so dx includes their
   * dependence on x: dx = γ·invstd·(dy − Σdy/M − x̂·Σ(dy·x̂)/M); otherwise they were constants
   * (running statistics) and dx = γ·invstd·dy. Always dgamma = Σ dy·x̂ and dbeta = Σ dy.
   */
  batchNormBackward(x: DataArray, dy: DataArray, shape: Shape, mean: DataArray, invstd: DataArray, gamma: DataArray | null, batchStats: boolean): BatchNormGrads;
  /**
   * Per-row cross-entropy of logits [rows, classes] against int32 labels (validated: in range or
   * equal to ignoreIndex), with label smoothing ε: loss = logΣe^z − (1−ε)·z[label] − ε·mean(z).
   * Rows whose label is ignoreIndex get loss 0. Also returns softmax(z), saved for the backward.
   */
  softmaxCrossEntropy(logits: DataArray, rows: number, classes: number, labels: Int32Array, smoothing: number, ignoreIndex: number | null): { loss: DataArray; probs: DataArray };
  /**
   * y = act(x + bias) with bias (length shape[axis]) broadcast along `axis`: the bias-add and
   * activation of a Linear/Conv layer in one pass. relu follows the relu kernel (NaN passes).
   */
  biasAct(x: DataArray, shape: Shape, bias: DataArray, axis: number, act: FusedActivation): DataArray;
  /**
   * Gradients of biasAct from its output y: dx = dy·act'(y) (for relu, as reluBackward on y,
   * since y > 0 exactly where x + bias > 0) and dbias = dx summed over every axis but `axis`.
   */
  biasActBackward(y: DataArray, dy: DataArray, shape: Shape, axis: number, act: FusedActivation): { dx: DataArray; dbias: DataArray };
  /** dlogits = dloss[row]·(probs − (1−ε)·onehot(label) − ε/classes); 0 for ignored rows. */
  softmaxCrossEntropyBackward(probs: DataArray, labels: Int32Array, dloss: DataArray, rows: number, classes: number, smoothing: number, ignoreIndex: number | null): DataArray;
  /**
   * Optional fast path for the optimizer's one-pass float32 Adam/AdamW step (the contract and the
   * reference are optim's adamFusedStep in src/optim/fused-kernels.ts; results must match it bit
   * for bit). Updates w (when `apply`), m, v and vMax in place; returns false to decline, and the
   * optimizer then runs its own loop.
   */
  adamFusedStep?(
    w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, vMax: Float32Array | null,
    b1: number, b2: number, eps: number, t: number, l2: number, decay: number, s: number, apply: boolean,
  ): boolean;
  /**
   * Optional fast path for the optimizer's one-pass float32 RMSprop step (reference: optim's
   * rmsFusedStep in src/optim/fused-kernels.ts; bit for bit). Updates w (when `apply`), sq, gAvg
   * and buf in place; returns false to decline.
   */
  rmsFusedStep?(
    w: Float32Array, g: Float32Array, sq: Float32Array, gAvg: Float32Array | null, buf: Float32Array | null,
    alpha: number, eps: number, momentum: number, l2: number, s: number, apply: boolean,
  ): boolean;
}

export type KernelName = keyof Kernels;
