/**
 * VGG-style network (Simonyan & Zisserman 2014): blocks of 3×3 convolutions (padding 1, so
 * they keep the resolution), each block closed by a 2×2 max-pool that halves it while the
 * next block doubles the channels; then a classifier of fully connected layers.
 */
import type { FloatDType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { getGlobalRng, type Random } from '../core/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { ReLU } from '../nn/activation.js';
import { Flatten } from '../nn/basic.js';
import { Sequential } from '../nn/containers.js';
import { Conv2d, MaxPool2d } from '../nn/conv.js';
import { checkProb, checkSize } from '../nn/layer-options.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { BatchNorm2d } from '../nn/normalization.js';
import { Dropout } from '../nn/regularization.js';

/** Options of the VGG-style network builder: input channels, classes, block widths and depths, input size and classifier. */
export interface VggOptions {
  inChannels: number;
  numClasses: number;
  /** Channels of each block (default [16, 32, 64]: doubling as the resolution halves). */
  widths?: readonly number[];
  /** 3×3 convs per block: one number for all blocks or one per block (default 2). */
  convsPerBlock?: number | readonly number[];
  /** Input height and width (a number for square inputs); fixes the classifier's input size. */
  inputSize: number | readonly [number, number];
  /** Conv → BatchNorm → ReLU instead of Conv → ReLU (default false; the convs then have no bias). */
  batchNorm?: boolean;
  /** Hidden fully connected layers of the classifier (default [128]; VGG-16 has [4096, 4096]). */
  hidden?: readonly number[];
  /** Dropout before each hidden FC layer's successor (default 0.5, as VGG). */
  dropout?: number;
  rng?: Random;
  dtype?: FloatDType;
}

/**
 * Children: `features` (block i is `features.i`: its convs, norms and ReLUs, then the pool),
 * `flatten`, `classifier`. Input [N, inChannels, H, W] → logits [N, numClasses].
 */
export class VGG extends Module {
  features: Sequential;
  flatten: Flatten;
  classifier: Sequential;
  readonly inChannels: number;
  readonly inputSize: [number, number];

  constructor(opts: VggOptions) {
    super();
    const op = 'vgg';
    if (opts === null || typeof opts !== 'object') throw new GradkitError(op, 'needs options { inChannels, numClasses, inputSize, ... }');
    this.inChannels = checkSize(op, 'inChannels', opts.inChannels);
    const numClasses = checkSize(op, 'numClasses', opts.numClasses);
    const widths = [...(opts.widths ?? [16, 32, 64])];
    if (widths.length === 0) throw new GradkitError(op, 'widths must list at least one block');
    widths.forEach((w) => checkSize(op, 'widths[i]', w));
    const cpb = opts.convsPerBlock ?? 2;
    const convs = typeof cpb === 'number' ? widths.map(() => cpb) : [...cpb];
    if (convs.length !== widths.length) throw new GradkitError(op, `convsPerBlock lists ${convs.length} blocks but widths lists ${widths.length}`);
    convs.forEach((c) => checkSize(op, 'convsPerBlock', c));
    if (opts.inputSize === undefined) throw new GradkitError(op, 'inputSize (H and W of the input images) is required to size the classifier');
    const [h, w] = typeof opts.inputSize === 'number' ? [opts.inputSize, opts.inputSize] : [opts.inputSize[0], opts.inputSize[1]];
    checkSize(op, 'inputSize', h);
    checkSize(op, 'inputSize', w);
    this.inputSize = [h, w];
    const outH = Math.floor(h / 2 ** widths.length);
    const outW = Math.floor(w / 2 ** widths.length);
    if (outH < 1 || outW < 1) {
      throw new GradkitError(op, `${widths.length} blocks halve ${h}×${w} inputs to nothing; use at most ${Math.floor(Math.log2(Math.min(h, w)))} blocks or larger inputs`);
    }
    const hidden = [...(opts.hidden ?? [128])];
    hidden.forEach((u) => checkSize(op, 'hidden[i]', u));
    const p = checkProb(op, opts.dropout ?? 0.5);
    const bn = opts.batchNorm ?? false;
    const common = { rng: opts.rng ?? getGlobalRng(), dtype: opts.dtype };

    this.features = new Sequential();
    let cin = this.inChannels;
    widths.forEach((width, b) => {
      const block = new Sequential();
      for (let i = 0; i < convs[b]; i++) {
        block.append(new Conv2d(cin, width, 3, { ...common, padding: 1, bias: !bn }));
        if (bn) block.append(new BatchNorm2d(width, { dtype: opts.dtype }));
        block.append(new ReLU());
        cin = width;
      }
      block.append(new MaxPool2d(2));
      this.features.append(block);
    });
    this.flatten = new Flatten();
    this.classifier = new Sequential();
    let fin = cin * outH * outW;
    for (const units of hidden) {
      this.classifier.append(new Linear(fin, units, common));
      this.classifier.append(new ReLU());
      if (p > 0) this.classifier.append(new Dropout({ p }));
      fin = units;
    }
    // The last layer feeds a softmax, not a ReLU: Xavier.
    this.classifier.append(new Linear(fin, numClasses, { ...common, init: 'xavier' }));
  }

  override forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels || x.shape[2] !== this.inputSize[0] || x.shape[3] !== this.inputSize[1]) {
      throw new GradkitError('VGG', `expected images [N, ${this.inChannels}, ${this.inputSize[0]}, ${this.inputSize[1]}], got ${fmtShape(x.shape)}`);
    }
    return this.classifier.call(this.flatten.call(this.features.call(x)));
  }
}

/**
 * ```ts
 * const net = zoo.vgg({ inChannels: 1, numClasses: 10, inputSize: 28, widths: [16, 32], batchNorm: true });
 * ```
 */
export function vgg(opts: VggOptions): VGG {
  return new VGG(opts);
}
