/**
 * Residual learning (He et al. 2016): a block learns a correction F(x) added to a shortcut of its
 * input, y = F(x) + shortcut(x), so gradients reach early layers through the additions.
 * Residual wraps any block; BasicBlock is ResNet's two-conv block; `resnet` builds a small network.
 */
import type { FloatDType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { getGlobalRng, type Random } from '../core/rng.js';
import { shapesEqual } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { ReLU } from './activation.js';
import { Sequential } from './containers.js';
import { Conv2d, GlobalAvgPool2d, MaxPool2d } from './conv.js';
import { constant } from './init.js';
import { checkSize } from './layer-options.js';
import { Linear } from './linear.js';
import { Module, type AnyModule } from './module.js';
import { BatchNorm2d } from './normalization.js';

/**
 * y = block(x) + shortcut(x); the shortcut is the identity unless given (e.g. a 1×1 conv that
 * matches channels and stride). Both branches must produce the same shape.
 *
 * ```ts
 * const r = new nn.Residual(new nn.Sequential(new nn.Linear(8, 8), new nn.ReLU(), new nn.Linear(8, 8)));
 * ```
 */
export class Residual extends Module {
  block: AnyModule;
  /** null: the identity. */
  shortcut: AnyModule | null;

  constructor(block: AnyModule, shortcut: AnyModule | null = null) {
    super();
    if (!(block instanceof Module)) throw new GradkitError('Residual', 'block must be a Module');
    if (shortcut !== null && !(shortcut instanceof Module)) throw new GradkitError('Residual', 'shortcut must be a Module or null (identity)');
    this.block = this.registerModule('block', block);
    this.shortcut = this.registerModule('shortcut', shortcut);
  }

  override forward(x: Tensor): Tensor {
    const y = this.block.call(x) as Tensor;
    const s = this.shortcut === null ? x : (this.shortcut.call(x) as Tensor);
    if (!shapesEqual(y.shape, s.shape)) {
      const which = this.shortcut === null ? 'identity shortcut (the input)' : 'shortcut';
      throw new GradkitError('Residual', `block output ${fmtShape(y.shape)} and ${which} ${fmtShape(s.shape)} must have the same shape; for a change of channels or stride pass a projection shortcut`);
    }
    return ops.add(y, s);
  }
}

/** Options of the ResNet basic block: stride, zero-initialized residual branch, generator and dtype. */
export interface BasicBlockOptions {
  /** Stride of the first 3×3 conv and of the projection (default 1; 2 halves the resolution). */
  stride?: number;
  /**
   * Start the block as the identity: the last BatchNorm's scale γ is 0, so the residual branch
   * outputs 0 until it learns otherwise (Goyal et al. 2017). Default false (γ = 1).
   */
  zeroInitResidual?: boolean;
  rng?: Random;
  dtype?: FloatDType;
}

/**
 * ResNet's basic block: conv3×3(stride)-BN-ReLU-conv3×3-BN, plus a shortcut, then ReLU.
 * The shortcut is the identity when shape is kept, else a projection conv1×1(stride)-BN
 * (option B of the paper). Convs have no bias (the BatchNorm that follows has one) and He init.
 * Input [N, inChannels, H, W] → [N, outChannels, ⌈H/stride⌉, ⌈W/stride⌉].
 */
export class BasicBlock extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly stride: number;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  /** conv1×1 + BN when stride ≠ 1 or channels change; null (identity) otherwise. */
  shortcut: Sequential | null;

  constructor(inChannels: number, outChannels: number, opts: BasicBlockOptions = {}) {
    super();
    this.inChannels = checkSize('BasicBlock', 'inChannels', inChannels);
    this.outChannels = checkSize('BasicBlock', 'outChannels', outChannels);
    this.stride = checkSize('BasicBlock', 'stride', opts.stride ?? 1);
    const conv = { bias: false, dtype: opts.dtype, rng: opts.rng ?? getGlobalRng() };
    this.conv1 = new Conv2d(inChannels, outChannels, 3, { ...conv, stride: this.stride, padding: 1 });
    this.bn1 = new BatchNorm2d(outChannels, { dtype: opts.dtype });
    this.conv2 = new Conv2d(outChannels, outChannels, 3, { ...conv, padding: 1 });
    this.bn2 = new BatchNorm2d(outChannels, { dtype: opts.dtype });
    if (opts.zeroInitResidual) constant(this.bn2.weight!, 0);
    const project = this.stride !== 1 || inChannels !== outChannels;
    // Plain assignment (not registerModule) keeps registration in field order: conv1 … shortcut.
    this.shortcut = project
      ? new Sequential(new Conv2d(inChannels, outChannels, 1, { ...conv, stride: this.stride }), new BatchNorm2d(outChannels, { dtype: opts.dtype }))
      : null;
  }

  override forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels) {
      throw new GradkitError('BasicBlock', `expected input [N, ${this.inChannels}, H, W], got ${fmtShape(x.shape)}`);
    }
    const h = ops.relu(this.bn1.call(this.conv1.call(x)));
    const f = this.bn2.call(this.conv2.call(h));
    return ops.relu(ops.add(f, this.shortcut === null ? x : this.shortcut.call(x)));
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, stride=${this.stride}`;
  }
}

/** Options of the ResNet model: input channels, classes, stage widths and depths, stem and initialization. */
export interface ResNetOptions {
  /** Channels of the input images (e.g. 3 for RGB). */
  inChannels: number;
  numClasses: number;
  /** Channels per stage (default [16, 32, 64], the CIFAR ResNets); each stage after the first halves the resolution. */
  widths?: readonly number[];
  /** Basic blocks per stage: one number for all or one per stage (default 2: ResNet-14 at three stages). */
  blocksPerStage?: number | readonly number[];
  /**
   * 'small' (default): conv3×3 stride 1, for small images such as CIFAR or MNIST.
   * 'imagenet': conv7×7 stride 2 then max-pool 3×3 stride 2 (resolution ÷ 4).
   */
  stem?: 'small' | 'imagenet';
  /** See BasicBlockOptions.zeroInitResidual (default false). */
  zeroInitResidual?: boolean;
  rng?: Random;
  dtype?: FloatDType;
}

/**
 * A ResNet of basic blocks: stem (conv-BN-ReLU) → stages → global average pool → linear head.
 * Children: `stem`, `stages` (stage i is `stages.i`, block j is `stages.i.j`), `pool`, `fc`.
 * Input [N, inChannels, H, W] → logits [N, numClasses].
 */
export class ResNet extends Module {
  stem: Sequential;
  stages: Sequential;
  pool: GlobalAvgPool2d;
  fc: Linear;
  readonly inChannels: number;

  constructor(opts: ResNetOptions) {
    super();
    const op = 'resnet';
    if (opts === undefined || opts === null) throw new GradkitError(op, 'needs options { inChannels, numClasses, ... }');
    this.inChannels = checkSize(op, 'inChannels', opts.inChannels);
    const numClasses = checkSize(op, 'numClasses', opts.numClasses);
    const widths = [...(opts.widths ?? [16, 32, 64])];
    if (widths.length === 0) throw new GradkitError(op, 'widths must list at least one stage');
    widths.forEach((w) => checkSize(op, 'widths[i]', w));
    const bps = opts.blocksPerStage ?? 2;
    const blocks = typeof bps === 'number' ? widths.map(() => bps) : [...bps];
    if (blocks.length !== widths.length) {
      throw new GradkitError(op, `blocksPerStage lists ${blocks.length} stages but widths lists ${widths.length} ([${widths.join(', ')}])`);
    }
    blocks.forEach((b) => checkSize(op, 'blocksPerStage', b));
    const stem = opts.stem ?? 'small';
    if (stem !== 'small' && stem !== 'imagenet') throw new GradkitError(op, `stem must be 'small' or 'imagenet', got '${String(stem)}'`);
    const rng = opts.rng ?? getGlobalRng();
    const common = { dtype: opts.dtype, rng };

    this.stem = stem === 'small'
      ? new Sequential(new Conv2d(opts.inChannels, widths[0], 3, { ...common, padding: 1, bias: false }), new BatchNorm2d(widths[0], { dtype: opts.dtype }), new ReLU())
      : new Sequential(
        new Conv2d(opts.inChannels, widths[0], 7, { ...common, stride: 2, padding: 3, bias: false }), new BatchNorm2d(widths[0], { dtype: opts.dtype }), new ReLU(),
        new MaxPool2d(3, { stride: 2, padding: 1 }),
      );
    this.stages = new Sequential();
    let cin = widths[0];
    widths.forEach((w, i) => {
      const stage = new Sequential();
      for (let j = 0; j < blocks[i]; j++) {
        // The first block of every stage after the first halves the resolution.
        stage.append(new BasicBlock(cin, w, { ...common, stride: i > 0 && j === 0 ? 2 : 1, zeroInitResidual: opts.zeroInitResidual }));
        cin = w;
      }
      this.stages.append(stage);
    });
    this.pool = new GlobalAvgPool2d({ flatten: true });
    // The head feeds a softmax/cross-entropy, not a ReLU: Xavier.
    this.fc = new Linear(cin, numClasses, { ...common, init: 'xavier' });
  }

  override forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels) {
      throw new GradkitError('ResNet', `expected images [N, ${this.inChannels}, H, W], got ${fmtShape(x.shape)}`);
    }
    return this.fc.call(this.pool.call(this.stages.call(this.stem.call(x))));
  }
}

/**
 * Builds a ResNet of basic blocks (see ResNet).
 *
 * ```ts
 * const model = nn.resnet({ inChannels: 3, numClasses: 10 });                 // CIFAR ResNet-14: 16/32/64 channels
 * const r18 = nn.resnet({ inChannels: 3, numClasses: 1000, widths: [64, 128, 256, 512], stem: 'imagenet' });
 * ```
 */
export function resnet(opts: ResNetOptions): ResNet {
  return new ResNet(opts);
}
