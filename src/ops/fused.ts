/**
 * Fused ops for training hot paths: one kernel call forward and one backward where the
 * composed version would run many broadcasting elementwise passes (issue 3 follow-up).
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import type { FusedActivation } from '../backend/kernels.js';
import { noGrad, record, registerRules, type RuleTable, type Spec } from '../autograd/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, cast, mul, neg, reciprocal, sqrt } from './elementwise.js';
import { castTo, checkLabelsOnDevice, checkTensor, kernels, requireFloat, wrap } from './util.js';

/** Options of the fused batch-normalization op: training mode, momentum, batches already averaged, and eps. */
export interface BatchNormOpOptions {
  /**
   * Normalize with batch statistics and update the running ones (default true, like
   * nn.batchNorm). False normalizes with runningMean/runningVar, or with batch statistics
   * (and no update) when none are given.
   */
  training?: boolean;
  /**
   * Weight of the new batch statistic: running = (1 − momentum)·running + momentum·batch
   * (default 0.1). null: cumulative average, using `batchesTracked`.
   */
  momentum?: number | null;
  /** Batches already averaged into the running statistics (for momentum null; default 0). */
  batchesTracked?: number;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

const OP = 'batchNorm';

function checkChannelParam(name: string, t: Tensor | null, x: Tensor): Tensor | null {
  if (t === null || t === undefined) return null;
  checkTensor(OP, name, t);
  const c = x.shape[1];
  if (t.rank !== 1 || t.shape[0] !== c) {
    throw new GradkitError(OP, `${name} must have shape [${c}] for input ${fmtShape(x.shape)}, got ${fmtShape(t.shape)}`);
  }
  requireFloat(OP, t);
  return t;
}

function checkOptions(opts: BatchNormOpOptions): { training: boolean; momentum: number | null; batchesTracked: number; eps: number } {
  const eps = opts.eps ?? 1e-5;
  if (!(Number.isFinite(eps) && eps >= 0)) throw new GradkitError(OP, `eps must be a non-negative number, got ${eps}`);
  const momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
  if (momentum !== null && !(momentum >= 0 && momentum <= 1)) {
    throw new GradkitError(OP, `momentum must be in [0, 1] or null, got ${momentum}`);
  }
  const batchesTracked = opts.batchesTracked ?? 0;
  if (!Number.isInteger(batchesTracked) || batchesTracked < 0) {
    throw new GradkitError(OP, `batchesTracked must be a non-negative integer, got ${batchesTracked}`);
  }
  return { training: opts.training ?? true, momentum, batchesTracked, eps };
}

/**
 * Batch normalization over axis 1 of x [N, C, ...spatial] (PyTorch's F.batch_norm), as fused
 * kernels: one forward call and one backward call regardless of rank.
 *
 * Training: y = (x − μ_B)/√(σ²_B + eps)·γ + β with the batch mean and biased variance per
 * channel; runningMean/runningVar (if given) are updated in place with
 * running = (1 − f)·running + f·batch, f = momentum (or 1/(batchesTracked + 1) when momentum is
 * null), using the unbiased batch variance. Eval (training false, running stats given): the
 * running statistics are constants. Differentiable w.r.t. x, weight (γ) and bias (β).
 *
 * ```ts
 * const y = batchNorm(x, runningMean, runningVar, gamma, beta, { training: true, momentum: 0.1 });
 * ```
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  opts: BatchNormOpOptions = {},
): Tensor {
  checkTensor(OP, 'input', x);
  requireFloat(OP, x);
  if (x.rank < 2) throw new GradkitError(OP, `input must be at least 2-D [N, C, ...], got ${fmtShape(x.shape)}`);
  const rm = checkChannelParam('runningMean', runningMean, x);
  const rv = checkChannelParam('runningVar', runningVar, x);
  if ((rm === null) !== (rv === null)) {
    throw new GradkitError(OP, `runningMean and runningVar must be given together (got ${rm === null ? 'only runningVar' : 'only runningMean'})`);
  }
  const w = checkChannelParam('weight', weight, x);
  const b = checkChannelParam('bias', bias, x);
  // Mixed float dtypes promote as the composed ops would (gradCheck runs x in float64 while a
  // module's parameters may be float32); `cast` passes gradients back to the original dtype.
  if (x.dtype === 'float64' || w?.dtype === 'float64' || b?.dtype === 'float64') {
    if (x.dtype !== 'float64' || (w && w.dtype !== 'float64') || (b && b.dtype !== 'float64')) {
      return batchNorm(cast(x, 'float64'), rm, rv, w && cast(w, 'float64'), b && cast(b, 'float64'), opts);
    }
  }
  const gamma = w;
  const beta = b;
  const { training, momentum, batchesTracked, eps } = checkOptions(opts);
  const c = x.shape[1];
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];

  if (!training && rm !== null && rv !== null) {
    // Per-channel factors on the small [C] tensors, in the input's dtype, exactly as the
    // composed version: scale = γ/√(σ² + eps), shift = β − μ·scale.
    const { invstd, mean, scale, shift } = noGrad(() => {
      const mean = castTo(rm, x.dtype);
      const invstd = reciprocal(sqrt(add(castTo(rv, x.dtype), eps)));
      const scale = gamma ? mul(invstd, gamma) : invstd;
      const negMs = neg(mul(mean, scale));
      return { invstd, mean, scale, shift: beta ? add(negMs, beta) : negMs };
    });
    const y = wrap(kernels().batchNormForwardEval(x.handle, x.shape, scale.handle, shift.handle), x.shape);
    return record(OP, y, inputs, gamma ? [x, mean, invstd, gamma] : [x, mean, invstd], { batchStats: false, hasBeta: beta !== null });
  }

  const m = x.size / c;
  if (m <= 1) {
    throw new GradkitError(OP, `in training, batch statistics need more than 1 value per channel; input ${fmtShape(x.shape)} has ${m} (batch size 1 without spatial axes). Use eval() or a larger batch`);
  }
  const r = kernels().batchNormForwardTrain(x.handle, x.shape, gamma?.handle ?? null, beta?.handle ?? null, eps);
  // Every buffer the kernel returned becomes a tensor, so scopes free it.
  const batchMean = wrap(r.mean, [c]);
  const invstd = wrap(r.invstd, [c]);
  const batchVar = wrap(r.variance, [c]);
  if (training && rm !== null && rv !== null) {
    const f = momentum === null ? 1 / (batchesTracked + 1) : momentum;
    noGrad(() => {
      const bv = mul(batchVar, m / (m - 1));
      rm.assign(add(mul(rm, 1 - f), mul(batchMean, f)));
      rv.assign(add(mul(rv, 1 - f), mul(bv, f)));
    });
  }
  const y = wrap(r.out, x.shape);
  return record(OP, y, inputs, gamma ? [x, batchMean, invstd, gamma] : [x, batchMean, invstd], { batchStats: true, hasBeta: beta !== null });
}

function backward(x: Tensor, g: Tensor, mean: Tensor, invstd: Tensor, gamma: Tensor | null, batchStats: boolean): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const c = x.shape[1];
  const r = kernels().batchNormBackward(x.handle, castTo(g, x.dtype).handle, x.shape, mean.handle, invstd.handle, gamma?.handle ?? null, batchStats);
  return { dx: wrap(r.dx, x.shape), dgamma: wrap(r.dgamma, [c]), dbeta: wrap(r.dbeta, [c]) };
}

/** Options of the fused softmax + cross-entropy op: label smoothing and an ignored label. */
export interface SoftmaxCrossEntropyOptions {
  /** Label smoothing ε in [0, 1): the target is (1 − ε)·onehot + ε/C (default 0). */
  labelSmoothing?: number;
  /** Rows with this label get loss 0 and no gradient (default: none; PyTorch uses −100). */
  ignoreIndex?: number;
}

/**
 * Per-row cross-entropy of logits [N, C] against int32 class labels [N]: −log softmax(z)[label]
 * (with label smoothing, −Σ target·log softmax(z)). One kernel pass forward, which also keeps
 * softmax(z), and one pass backward: dz = dloss·(softmax(z) − target). Returns the unreduced
 * loss [N]; average or weight it with ordinary ops (ignored rows are 0).
 *
 * ```ts
 * const loss = softmaxCrossEntropy(logits, labels).mean();
 * ```
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, opts: SoftmaxCrossEntropyOptions = {}): Tensor {
  const op = 'softmaxCrossEntropy';
  checkTensor(op, 'logits', logits);
  checkTensor(op, 'labels', labels);
  requireFloat(op, logits);
  if (logits.rank !== 2 || logits.shape[1] < 1) throw new GradkitError(op, `logits must be 2-D [N, C] with C ≥ 1, got ${fmtShape(logits.shape)}`);
  const [n, c] = logits.shape;
  if (labels.dtype !== 'int32') throw new GradkitError(op, `labels must be int32 class indices, got ${labels.dtype}`);
  if (labels.rank !== 1 || labels.shape[0] !== n) {
    throw new GradkitError(op, `labels must have shape [${n}] for logits ${fmtShape(logits.shape)}, got ${fmtShape(labels.shape)}`);
  }
  const smoothing = opts.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing < 1)) throw new GradkitError(op, `labelSmoothing must be in [0, 1), got ${smoothing}`);
  const ignore = opts.ignoreIndex ?? null;
  if (ignore !== null && !Number.isInteger(ignore)) throw new GradkitError(op, `ignoreIndex must be an integer, got ${ignore}`);
  // Checked by a kernel on every backend: at once on a CPU, at the next read on a GPU.
  checkLabelsOnDevice(op, labels, c, ignore, (l, row) => `label ${l} at row ${row} is out of range for ${c} classes (expected 0..${c - 1}${ignore !== null ? ` or ignoreIndex ${ignore}` : ''})`);
  // A copy: the backward pass must see the labels of this call even if the tensor is later assigned.
  const lab = wrap(kernels().cast(labels.handle, 'int32'), labels.shape);
  const r = kernels().softmaxCrossEntropy(logits.handle, n, c, lab.handle, smoothing, ignore);
  const loss = wrap(r.loss, [n]);
  const probs = wrap(r.probs, logits.shape);
  return record(op, loss, [logits], [probs, lab], { smoothing, ignore });
}

/**
 * act(x + bias), bias broadcast along `axis` (default 1: features of [N, F], channels of
 * [N, C, H, W]): a layer's bias-add and activation in one pass forward and one backward.
 *
 * ```ts
 * const h = biasAct(matmul(x, w), b, { activation: 'relu' });   // relu(x·w + b)
 * ```
 */
export function biasAct(x: Tensor, bias: Tensor, opts: { axis?: number; activation?: FusedActivation } = {}): Tensor {
  const op = 'biasAct';
  checkTensor(op, 'input', x);
  checkTensor(op, 'bias', bias);
  requireFloat(op, x);
  requireFloat(op, bias);
  const act = opts.activation ?? 'none';
  if (act !== 'none' && act !== 'relu') throw new GradkitError(op, `activation must be 'none' or 'relu', got '${String(act)}'`);
  const rawAxis = opts.axis ?? 1;
  if (!Number.isInteger(rawAxis) || rawAxis < -x.rank || rawAxis >= x.rank) {
    throw new GradkitError(op, `axis ${rawAxis} is out of range for input ${fmtShape(x.shape)} (expected ${-x.rank}..${x.rank - 1})`);
  }
  const axis = rawAxis < 0 ? rawAxis + x.rank : rawAxis;
  if (bias.rank !== 1 || bias.shape[0] !== x.shape[axis]) {
    throw new GradkitError(op, `bias must have shape [${x.shape[axis]}] (axis ${axis} of input ${fmtShape(x.shape)}), got ${fmtShape(bias.shape)}`);
  }
  if (x.dtype !== bias.dtype) {
    // Promote as add would; cast passes gradients back in each input's own dtype.
    return biasAct(cast(x, 'float64'), cast(bias, 'float64'), opts);
  }
  const y = wrap(kernels().biasAct(x.handle, x.shape, bias.handle, axis, act), x.shape);
  return record(op, y, [x, bias], [y], { axis, act });
}
export type { FusedActivation } from '../backend/kernels.js';

/** What each fused primitive's rule saves and its attributes. */
export interface FusedSpecs {
  /**
   * x, the per-channel mean and invstd used, and γ when given; batchStats: the statistics came
   * from x (training); hasBeta: β was given (it is the last recorded input).
   */
  batchNorm: Spec<[x: Tensor, mean: Tensor, invstd: Tensor] | [x: Tensor, mean: Tensor, invstd: Tensor, gamma: Tensor], { batchStats: boolean; hasBeta: boolean }>;
  /** probs: softmax of the logits; labels: a copy of the int32 labels. */
  softmaxCrossEntropy: Spec<[probs: Tensor, labels: Tensor], { smoothing: number; ignore: number | null }>;
  /** y: the output act(x + bias). */
  biasAct: Spec<[y: Tensor], { axis: number; act: FusedActivation }>;
}

/** The fused family's primitives. */
export type FusedPrimitive = keyof FusedSpecs;

const fusedRules: RuleTable<FusedPrimitive> = {
  batchNorm: (g, saved, { batchStats, hasBeta }) => {
    const [x, mean, invstd] = saved;
    const gamma = saved.length === 4 ? saved[3] : null;
    const r = backward(x, g, mean, invstd, gamma, batchStats);
    return [r.dx, ...(gamma ? [r.dgamma] : []), ...(hasBeta ? [r.dbeta] : [])];
  },
  softmaxCrossEntropy: (g, [probs, labels], { smoothing, ignore }) => {
    const [n, c] = probs.shape;
    return [wrap(kernels().softmaxCrossEntropyBackward(probs.handle, labels.handle, castTo(g, probs.dtype).handle, n, c, smoothing, ignore), probs.shape)];
  },
  biasAct: (g, [y], { axis, act }) => {
    const r = kernels().biasActBackward(y.handle, castTo(g, y.dtype).handle, y.shape, axis, act);
    return [wrap(r.dx, y.shape), wrap(r.dbias, [y.shape[axis]])];
  },
};
registerRules(fusedRules);
