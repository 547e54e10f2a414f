/** Normalization layers: BatchNorm1d/2d, LayerNorm, GroupNorm, InstanceNorm2d. */
import type { FloatDType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { noGrad } from '../autograd/engine.js';
import { zeros, ones, scalar } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { wideFloat } from '../ops/util.js';
import { checkSize } from './layer-options.js';
import { Module } from './module.js';
import { Parameter, parameterFrom } from './parameter.js';

/** Options shared by the normalization layers: eps, learnable scale and shift, dtype. */
export interface NormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Learnable per-channel scale γ (init 1) and shift β (init 0), tagged 'noDecay' (default true). */
  affine?: boolean;
  dtype?: FloatDType;
}

function checkEps(op: string, eps: number): number {
  if (!(Number.isFinite(eps) && eps >= 0)) throw new GradkitError(op, `eps must be a non-negative number, got ${eps}`);
  return eps;
}

function affineParams(m: Module<[Tensor], Tensor>, shape: readonly number[], affine: boolean, dtype: FloatDType | undefined): [Parameter | null, Parameter | null] {
  if (!affine) {
    m.registerParameter('weight', null);
    m.registerParameter('bias', null);
    return [null, null];
  }
  return [
    m.registerParameter('weight', parameterFrom(ones(shape, { dtype }), { tags: ['noDecay'] })),
    m.registerParameter('bias', parameterFrom(zeros(shape, { dtype }), { tags: ['noDecay'] })),
  ];
}

/** [C] → [1, C, 1, …] to broadcast over an input of the given rank. */
function channelView(p: Tensor, rank: number): Tensor {
  return ops.reshape(p, [1, p.shape[0], ...new Array<number>(rank - 2).fill(1)]);
}

/** Options of BatchNorm1d/BatchNorm2d: the normalization options plus how running statistics are kept. */
export interface BatchNormOptions extends NormOptions {
  /**
   * Weight of the new batch statistic in the running estimate:
   * running = (1 − momentum)·running + momentum·batch (default 0.1, PyTorch's convention).
   * null: cumulative average over all batches seen.
   */
  momentum?: number | null;
  /** Keep running mean/variance for eval (default true); false uses batch statistics in eval too. */
  trackRunningStats?: boolean;
}

/** Options of the functional `batchNorm`: the affine parameters, running statistics and training mode passed in explicitly. */
export interface BatchNormFunctionalOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  /** Use batch statistics and update the running ones (default true). */
  training?: boolean;
  momentum?: number | null;
  /** Number of batches already averaged, for momentum null. */
  batchesTracked?: number;
  eps?: number;
}

/**
 * Batch normalization (Ioffe & Szegedy) over axis 1 of [N, C], [N, C, L] or [N, C, H, W].
 * Training: normalize with the batch mean and biased variance and update running buffers in
 * place (the running variance uses the unbiased batch variance, as PyTorch does). Eval:
 * normalize with the running buffers.
 */
export function batchNorm(x: Tensor, opts: BatchNormFunctionalOptions = {}): Tensor {
  // One fused kernel forward and one backward (ops.batchNorm) instead of ~a dozen broadcasting
  // passes; it validates shapes and applies the same running-statistics update.
  return ops.batchNorm(x, opts.runningMean ?? null, opts.runningVar ?? null, opts.weight ?? null, opts.bias ?? null, {
    training: opts.training ?? true,
    momentum: opts.momentum,
    batchesTracked: opts.batchesTracked,
    eps: checkEps('batchNorm', opts.eps ?? 1e-5),
  });
}

/** Shared implementation of BatchNorm1d and BatchNorm2d (they differ only in accepted ranks). */
abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  /** Batches seen in training (drives the cumulative average when momentum is null). */
  numBatchesTracked: Tensor | null;
  protected abstract readonly ranks: readonly number[];
  protected abstract readonly layout: string;

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super();
    const name = this.constructor.name;
    this.numFeatures = checkSize(name, 'numFeatures', numFeatures);
    this.eps = checkEps(name, opts.eps ?? 1e-5);
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) {
      throw new GradkitError(name, `momentum must be in [0, 1] or null, got ${this.momentum}`);
    }
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    [this.weight, this.bias] = affineParams(this, [numFeatures], this.affine, opts.dtype);
    if (this.trackRunningStats) {
      this.runningMean = this.registerBuffer('runningMean', zeros([numFeatures], { dtype: opts.dtype }));
      this.runningVar = this.registerBuffer('runningVar', ones([numFeatures], { dtype: opts.dtype }));
      this.numBatchesTracked = this.registerBuffer('numBatchesTracked', scalar(0, { dtype: 'int32' }));
    } else {
      this.runningMean = this.registerBuffer('runningMean', null);
      this.runningVar = this.registerBuffer('runningVar', null);
      this.numBatchesTracked = this.registerBuffer('numBatchesTracked', null);
    }
  }

  override forward(x: Tensor): Tensor {
    const name = this.constructor.name;
    if (!this.ranks.includes(x.rank) || x.shape[1] !== this.numFeatures) {
      throw new GradkitError(name, `expected input ${this.layout.replace('C', String(this.numFeatures))}, got ${fmtShape(x.shape)}`);
    }
    if (!this.training) {
      // Eval: running statistics when tracked, else the batch's own (and nothing is updated).
      return batchNorm(x, {
        weight: this.weight, bias: this.bias, eps: this.eps, training: !this.trackRunningStats,
        runningMean: this.trackRunningStats ? this.runningMean : null,
        runningVar: this.trackRunningStats ? this.runningVar : null,
      });
    }
    if (this.runningMean === null || this.runningVar === null || this.numBatchesTracked === null) {
      return batchNorm(x, { weight: this.weight, bias: this.bias, eps: this.eps, momentum: this.momentum, training: true });
    }
    const tracked = this.numBatchesTracked;
    let y: Tensor;
    if (this.momentum !== null) {
      // The factor is a constant: the fused op updates the running statistics in place.
      y = batchNorm(x, {
        weight: this.weight, bias: this.bias, eps: this.eps, momentum: this.momentum, training: true,
        runningMean: this.runningMean, runningVar: this.runningVar,
      });
    } else {
      y = this.cumulativeForward(x, this.runningMean, this.runningVar, tracked);
    }
    // Counted on the device: no host read of the counter per step.
    noGrad(() => tracked.assign(ops.add(tracked, 1)));
    return y;
  }

  /**
   * momentum null: running = (1 − f)·running + f·batch with f = 1/(tracked + 1), where the count
   * lives on the device. The fused op with momentum 1 writes the batch mean and unbiased variance
   * into scratch statistics (0·0 + 1·s = s exactly); the blend then follows the op's own update
   * formula, with f and 1 − f computed in float64 (float32 on a backend without it) and rounded
   * to the dtype of the tensor each multiplies, as the op's number arguments are.
   */
  private cumulativeForward(x: Tensor, runningMean: Tensor, runningVar: Tensor, tracked: Tensor): Tensor {
    // The op computes in float64 when any of x, γ, β is float64; the scratch holds its statistics unrounded.
    const wide = [x, this.weight, this.bias].some((t) => t !== null && t.dtype === 'float64');
    const dtype: FloatDType = wide ? 'float64' : 'float32';
    const batchMean = zeros(runningMean.shape, { dtype });
    const batchVar = zeros(runningVar.shape, { dtype });
    const y = batchNorm(x, {
      weight: this.weight, bias: this.bias, eps: this.eps, momentum: 1, training: true, runningMean: batchMean, runningVar: batchVar,
    });
    noGrad(() => {
      const f64 = ops.reciprocal(ops.add(ops.cast(tracked, wideFloat(tracked)), 1));
      const blend = (running: Tensor, batch: Tensor): void => {
        const f = ops.cast(f64, batch.dtype);
        const keepF = ops.cast(ops.sub(1, f64), running.dtype);
        running.assign(ops.add(ops.mul(running, keepF), ops.mul(batch, f)));
      };
      blend(runningMean, batchMean);
      blend(runningVar, batchVar);
    });
    return y;
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/** BatchNorm over [N, C] or [N, C, L] (statistics per channel C over N and L). */
export class BatchNorm1d extends BatchNormBase {
  protected readonly ranks = [2, 3];
  protected readonly layout = '[N, C] or [N, C, L]';
}

/**
 * BatchNorm over [N, C, H, W] (statistics per channel over N, H, W). Buffers runningMean,
 * runningVar and numBatchesTracked are saved in the state dict.
 *
 * ```ts
 * const block = new nn.Sequential(new nn.Conv2d(3, 16, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(16), new nn.ReLU());
 * block.call(x);          // training: batch statistics, running ones updated
 * block.eval().call(x);   // eval: running statistics
 * ```
 */
export class BatchNorm2d extends BatchNormBase {
  protected readonly ranks = [4];
  protected readonly layout = '[N, C, H, W]';
}

/** Normalizes over the last `normalizedShape.length` axes of x (Ba et al.), with optional elementwise affine. */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], opts: { weight?: Tensor | null; bias?: Tensor | null; eps?: number } = {}): Tensor {
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.rank - k);
  if (k === 0 || x.rank < k || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new GradkitError('layerNorm', `input ${fmtShape(x.shape)} must end with the normalized shape ${fmtShape(normalizedShape)}`);
  }
  const axes = Array.from({ length: k }, (_, i) => x.rank - k + i);
  const mean = ops.mean(x, axes, { keepDims: true });
  const centered = ops.sub(x, mean);
  const variance = ops.mean(ops.square(centered), axes, { keepDims: true });
  let y = ops.div(centered, ops.sqrt(ops.add(variance, checkEps('layerNorm', opts.eps ?? 1e-5))));
  if (opts.weight) y = ops.mul(y, opts.weight);
  if (opts.bias) y = ops.add(y, opts.bias);
  return y;
}

/** LayerNorm: statistics per sample over the trailing `normalizedShape` axes; same in train and eval. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  weight: Parameter | null;
  bias: Parameter | null;
  constructor(normalizedShape: number | readonly number[], opts: NormOptions & { elementwiseAffine?: boolean } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    for (const d of this.normalizedShape) checkSize('LayerNorm', 'normalizedShape', d);
    this.eps = checkEps('LayerNorm', opts.eps ?? 1e-5);
    [this.weight, this.bias] = affineParams(this, this.normalizedShape, opts.elementwiseAffine ?? opts.affine ?? true, opts.dtype);
  }
  override forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
  override extraRepr(): string {
    return `${fmtShape(this.normalizedShape)}, eps=${this.eps}, elementwiseAffine=${this.weight !== null}`;
  }
}

/**
 * Group normalization (Wu & He): the C channels of [N, C, ...] are split into `numGroups`
 * groups and each sample's group is normalized over its channels and spatial positions.
 */
export function groupNorm(x: Tensor, numGroups: number, opts: { weight?: Tensor | null; bias?: Tensor | null; eps?: number } = {}): Tensor {
  if (x.rank < 2) throw new GradkitError('groupNorm', `input must be at least 2-D [N, C, ...], got ${fmtShape(x.shape)}`);
  const [n, c] = x.shape;
  if (!Number.isInteger(numGroups) || numGroups < 1 || c % numGroups !== 0) {
    throw new GradkitError('groupNorm', `channels (${c}) must be divisible by numGroups (${numGroups}); input ${fmtShape(x.shape)}`);
  }
  const grouped = ops.reshape(x, [n, numGroups, x.size / (n * numGroups)]);
  const mean = ops.mean(grouped, 2, { keepDims: true });
  const centered = ops.sub(grouped, mean);
  const variance = ops.mean(ops.square(centered), 2, { keepDims: true });
  let y = ops.reshape(ops.div(centered, ops.sqrt(ops.add(variance, checkEps('groupNorm', opts.eps ?? 1e-5)))), x.shape);
  if (opts.weight) y = ops.mul(y, channelView(opts.weight, x.rank));
  if (opts.bias) y = ops.add(y, channelView(opts.bias, x.rank));
  return y;
}

/** GroupNorm(numGroups, numChannels): batch-independent, same in train and eval; per-channel affine. */
export class GroupNorm extends Module {
  readonly eps: number;
  weight: Parameter | null;
  bias: Parameter | null;
  constructor(readonly numGroups: number, readonly numChannels: number, opts: NormOptions = {}) {
    super();
    checkSize('GroupNorm', 'numGroups', numGroups);
    checkSize('GroupNorm', 'numChannels', numChannels);
    if (numChannels % numGroups !== 0) {
      throw new GradkitError('GroupNorm', `numChannels (${numChannels}) must be divisible by numGroups (${numGroups})`);
    }
    this.eps = checkEps('GroupNorm', opts.eps ?? 1e-5);
    [this.weight, this.bias] = affineParams(this, [numChannels], opts.affine ?? true, opts.dtype);
  }
  override forward(x: Tensor): Tensor {
    if (x.rank < 2 || x.shape[1] !== this.numChannels) {
      throw new GradkitError('GroupNorm', `expected input [N, ${this.numChannels}, ...], got ${fmtShape(x.shape)}`);
    }
    return groupNorm(x, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.weight !== null}`;
  }
}

/**
 * Instance normalization (Ulyanov et al.): each sample's channel is normalized over H×W, in
 * train and eval alike (no running statistics). Affine is off by default, as in PyTorch.
 */
export class InstanceNorm2d extends Module {
  readonly eps: number;
  weight: Parameter | null;
  bias: Parameter | null;
  constructor(readonly numFeatures: number, opts: NormOptions = {}) {
    super();
    checkSize('InstanceNorm2d', 'numFeatures', numFeatures);
    this.eps = checkEps('InstanceNorm2d', opts.eps ?? 1e-5);
    [this.weight, this.bias] = affineParams(this, [numFeatures], opts.affine ?? false, opts.dtype);
  }
  override forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.numFeatures) {
      throw new GradkitError('InstanceNorm2d', `expected input [N, ${this.numFeatures}, H, W], got ${fmtShape(x.shape)}`);
    }
    if (x.shape[2] * x.shape[3] <= 1) {
      throw new GradkitError('InstanceNorm2d', `needs more than one spatial value per channel, got ${fmtShape(x.shape)}`);
    }
    // One group per channel is exactly instance normalization.
    return groupNorm(x, this.numFeatures, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, affine=${this.weight !== null}`;
  }
}

