/**
 * Inception block (Szegedy et al. 2014, GoogLeNet): four parallel branches over the same
 * input, their outputs concatenated on channels, so the network picks per layer which
 * receptive field helps. The 1×1 convolutions before the 3×3 and 5×5 ones (and after the
 * pool) reduce channels first, which is what keeps the block cheap.
 *   branch1: 1×1                      branch2: 1×1 reduce → 3×3
 *   branch3: 1×1 reduce → 5×5         branch4: 3×3 max-pool (stride 1) → 1×1 projection
 * Every conv is followed by ReLU (and BatchNorm before it when batchNorm is set).
 */
import type { FloatDType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { getGlobalRng, type Random } from '../core/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { ReLU } from '../nn/activation.js';
import { Sequential } from '../nn/containers.js';
import { Conv2d, MaxPool2d } from '../nn/conv.js';
import { checkSize } from '../nn/layer-options.js';
import { Module, type AnyModule } from '../nn/module.js';
import { BatchNorm2d } from '../nn/normalization.js';

/** Options of the Inception block: the channels of each branch, BatchNorm, generator and dtype. */
export interface InceptionOptions {
  /** Output channels of the 1×1 branch. */
  ch1x1: number;
  /** Channels the 3×3 branch reduces to before its 3×3 conv. */
  ch3x3Reduce: number;
  ch3x3: number;
  /** Channels the 5×5 branch reduces to before its 5×5 conv. */
  ch5x5Reduce: number;
  ch5x5: number;
  /** Output channels of the 1×1 projection after the pool. */
  poolProj: number;
  /** Conv → BatchNorm → ReLU (convs without bias), as in later Inception versions (default false). */
  batchNorm?: boolean;
  rng?: Random;
  dtype?: FloatDType;
}

/** [N, inChannels, H, W] → [N, ch1x1 + ch3x3 + ch5x5 + poolProj, H, W]. */
export class InceptionBlock extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  branch1: Sequential;
  branch2: Sequential;
  branch3: Sequential;
  branch4: Sequential;

  constructor(inChannels: number, opts: InceptionOptions) {
    super();
    const op = 'InceptionBlock';
    this.inChannels = checkSize(op, 'inChannels', inChannels);
    if (opts === null || typeof opts !== 'object') throw new GradkitError(op, 'needs options { ch1x1, ch3x3Reduce, ch3x3, ch5x5Reduce, ch5x5, poolProj }');
    for (const k of ['ch1x1', 'ch3x3Reduce', 'ch3x3', 'ch5x5Reduce', 'ch5x5', 'poolProj'] as const) checkSize(op, k, opts[k]);
    const bn = opts.batchNorm ?? false;
    const common = { rng: opts.rng ?? getGlobalRng(), dtype: opts.dtype, bias: !bn };
    const unit = (cin: number, cout: number, k: number): AnyModule[] => [
      new Conv2d(cin, cout, k, { ...common, padding: (k - 1) / 2 }),
      ...(bn ? [new BatchNorm2d(cout, { dtype: opts.dtype })] : []),
      new ReLU(),
    ];
    this.branch1 = new Sequential(...unit(inChannels, opts.ch1x1, 1));
    this.branch2 = new Sequential(...unit(inChannels, opts.ch3x3Reduce, 1), ...unit(opts.ch3x3Reduce, opts.ch3x3, 3));
    this.branch3 = new Sequential(...unit(inChannels, opts.ch5x5Reduce, 1), ...unit(opts.ch5x5Reduce, opts.ch5x5, 5));
    this.branch4 = new Sequential(new MaxPool2d(3, { stride: 1, padding: 1 }), ...unit(inChannels, opts.poolProj, 1));
    this.outChannels = opts.ch1x1 + opts.ch3x3 + opts.ch5x5 + opts.poolProj;
  }

  override forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels) {
      throw new GradkitError('InceptionBlock', `expected input [N, ${this.inChannels}, H, W], got ${fmtShape(x.shape)}`);
    }
    return ops.concat([this.branch1.call(x), this.branch2.call(x), this.branch3.call(x), this.branch4.call(x)], 1);
  }

  override extraRepr(): string {
    return `${this.inChannels} → ${this.outChannels}`;
  }
}
