/**
 * ResNet layouts of basic blocks, on top of nn.resnet: the 18- and 34-layer layouts of He et
 * al. (2, 2, 2, 2 and 3, 4, 6, 3 blocks per stage), with the width scalable for small data.
 */
import { GradkitError } from '../core/errors.js';
import { resnet, type ResNet, type ResNetOptions } from '../nn/residual.js';

/** Options of the standard-layout ResNet builders (ResNet-18/34): ResNet options with the widths derived from one base width. */
export interface ResNetLayoutOptions extends Omit<ResNetOptions, 'widths' | 'blocksPerStage'> {
  /** Channels of the first stage; later stages double it (default 64, as the paper; 16 suits MNIST/CIFAR-sized data). */
  baseWidth?: number;
}

function layout(op: string, blocks: number[], opts: ResNetLayoutOptions): ResNet {
  if (opts === null || typeof opts !== 'object') throw new GradkitError(op, 'needs options { inChannels, numClasses, ... }');
  const { baseWidth = 64, ...rest } = opts;
  if (!Number.isInteger(baseWidth) || baseWidth < 1) throw new GradkitError(op, `baseWidth must be a positive integer, got ${baseWidth}`);
  return resnet({ ...rest, widths: blocks.map((_, i) => baseWidth * 2 ** i), blocksPerStage: blocks });
}

/** ResNet-18 layout: 4 stages of [2, 2, 2, 2] basic blocks (16 conv layers + stem + fc). */
export function resnet18(opts: ResNetLayoutOptions): ResNet {
  return layout('resnet18', [2, 2, 2, 2], opts);
}

/** ResNet-34 layout: 4 stages of [3, 4, 6, 3] basic blocks. */
export function resnet34(opts: ResNetLayoutOptions): ResNet {
  return layout('resnet34', [3, 4, 6, 3], opts);
}
