/** Convolution and pooling layers over NCHW input. */
import { GradkitError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import type { Pair } from '../ops/conv.js';
import { checkActivation, type LayerActivation } from './fused-activation.js';
import { initBias, initWeight } from './init.js';
import { checkSize, newParam, rngOf, type WeightLayerOptions } from './layer-options.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';

/** Options of the Conv2d layer: stride, padding, dilation, groups, bias and fused activation. */
export interface Conv2dOptions extends WeightLayerOptions {
  stride?: Pair;
  /** Zero padding per side: a number, [h, w], 'valid' (0, default) or 'same' (stride 1). */
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  /** Channel groups: inChannels and outChannels must both be divisible (default 1; inChannels = depthwise). */
  groups?: number;
  /** Learnable bias per output channel (default true). */
  bias?: boolean;
  /**
   * An activation applied inside the layer (default 'none'): 'relu' runs the bias-add and relu
   * as one fused kernel, the same values as Conv2d followed by ReLU. nn.fuse sets it.
   */
  activation?: LayerActivation;
  /**
   * A max pooling that follows the activation, run on the convolution before the bias-add and
   * activation (the same values, exactly: max commutes with both), so those touch the pooled
   * tensor. nn.fuse sets it on a Conv2d → ReLU → MaxPool2d triple.
   */
  maxPool?: MaxPoolSpec | null;
}

const pairOf = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);
const fmtPair = (v: Pair): string => JSON.stringify(pairOf(v));

/**
 * 2-D convolution: weight [outChannels, inChannels/groups, kH, kW], bias [outChannels].
 * Default init: He normal with fan-in kH·kW·inChannels/groups (convs are usually followed by a
 * ReLU); `init: 'xavier'` or `'lecun'` otherwise. Bias from `biasInit` (default 0), tagged 'noDecay'.
 *
 * ```ts
 * const conv = new nn.Conv2d(3, 16, 3, { padding: 'same' });  // [N, 3, H, W] → [N, 16, H, W]
 * const down = new nn.Conv2d(16, 32, 3, { stride: 2, padding: 1 });
 * const depthwise = new nn.Conv2d(32, 32, 3, { padding: 1, groups: 32 });
 * ```
 */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: Pair;
  readonly padding: Pair | 'same' | 'valid';
  readonly dilation: Pair;
  readonly groups: number;
  weight: Tensor;
  bias: Parameter | null;
  /** Applied after the bias-add, fused with it ('none': a plain convolution). */
  activation: LayerActivation;
  /** A max pooling that follows the activation, run before the bias-add (see Conv2dOptions.maxPool). */
  maxPool: MaxPoolSpec | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: Conv2dOptions = {}) {
    super();
    this.activation = checkActivation('Conv2d', opts.activation);
    this.maxPool = opts.maxPool === undefined || opts.maxPool === null ? null : { ...opts.maxPool };
    this.inChannels = checkSize('Conv2d', 'inChannels', inChannels);
    this.outChannels = checkSize('Conv2d', 'outChannels', outChannels);
    const [kh, kw] = pairOf(kernelSize);
    checkSize('Conv2d', 'kernelSize', kh);
    checkSize('Conv2d', 'kernelSize', kw);
    this.kernelSize = [kh, kw];
    this.groups = checkSize('Conv2d', 'groups', opts.groups ?? 1);
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new GradkitError('Conv2d', `inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by groups (${this.groups})`);
    }
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    if (this.padding === 'same' && pairOf(this.stride).some((s) => s !== 1)) {
      throw new GradkitError('Conv2d', `padding 'same' needs stride 1, got ${fmtPair(this.stride)}`);
    }
    const rng = rngOf(opts);
    const w = this.registerParameter('weight', newParam([outChannels, inChannels / this.groups, kh, kw], opts.dtype));
    initWeight(w, opts.init ?? 'he', { rng, nonlinearity: opts.nonlinearity, negativeSlope: opts.negativeSlope });
    this.weight = w;
    this.bias = null;
    if (opts.bias ?? true) {
      this.bias = this.registerParameter('bias', newParam([outChannels], opts.dtype, ['noDecay']));
      initBias(this.bias, opts.biasInit ?? 0, rng);
    } else {
      this.registerParameter('bias', null);
    }
  }

  override forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels) {
      throw new GradkitError('Conv2d', `expected input [N, ${this.inChannels}, H, W], got ${fmtShape(x.shape)}`);
    }
    const conv = { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
    if (this.activation === 'none' && this.maxPool === null) return ops.conv2d(x, this.weight, this.bias, conv);
    let y = ops.conv2d(x, this.weight, null, conv);
    // conv → +b → act → maxpool equals conv → maxpool → +b → act: max commutes with adding a
    // per-channel constant and with relu (both monotonic, and float rounding never swaps two
    // values), so the bias-add and relu touch the pooled tensor, a quarter of the size for 2×2
    // windows. The one difference: where rounding x + b makes two window entries equal, the
    // plain order sends the gradient to the first of them and this one to the larger x — both
    // valid subgradients.
    if (this.maxPool !== null) y = ops.maxPool2d(y, { kernelSize: this.maxPool.kernelSize, stride: this.maxPool.stride, padding: this.maxPool.padding });
    if (this.bias !== null) return ops.biasAct(y, this.bias, { axis: 1, activation: this.activation });
    return this.activation === 'relu' ? ops.relu(y) : y;
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernelSize=${JSON.stringify(this.kernelSize)}, stride=${fmtPair(this.stride)}`;
    s += `, padding=${typeof this.padding === 'string' ? `'${this.padding}'` : fmtPair(this.padding)}`;
    if (pairOf(this.dilation).some((d) => d !== 1)) s += `, dilation=${fmtPair(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    s += `, bias=${this.bias !== null}`;
    if (this.activation !== 'none') s += `, activation='${this.activation}'`;
    if (this.maxPool !== null) s += `, maxPool=${fmtPair(this.maxPool.kernelSize)}`;
    return s;
  }
}

/** A max pooling fused into a Conv2d (the options of MaxPool2d). */
export interface MaxPoolSpec extends PoolOptions {
  kernelSize: Pair;
}

/** Options of the pooling layers (MaxPool2d, AvgPool2d): stride and padding of the window. */
export interface PoolOptions {
  /** Default: kernelSize. */
  stride?: Pair;
  padding?: Pair;
}

/** Max over kH×kW windows (stride defaults to the kernel size). */
export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: PoolOptions = {}) { super(); }
  override forward(x: Tensor): Tensor {
    return ops.maxPool2d(x, { kernelSize: this.kernelSize, stride: this.opts.stride, padding: this.opts.padding });
  }
  override extraRepr(): string {
    return `kernelSize=${fmtPair(this.kernelSize)}, stride=${fmtPair(this.opts.stride ?? this.kernelSize)}, padding=${fmtPair(this.opts.padding ?? 0)}`;
  }
}

/** Mean over kH×kW windows; `countIncludePad` (default true) divides by the full window at the borders. */
export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: PoolOptions & { countIncludePad?: boolean } = {}) { super(); }
  override forward(x: Tensor): Tensor {
    return ops.avgPool2d(x, { kernelSize: this.kernelSize, ...this.opts });
  }
  override extraRepr(): string {
    return `kernelSize=${fmtPair(this.kernelSize)}, stride=${fmtPair(this.opts.stride ?? this.kernelSize)}, padding=${fmtPair(this.opts.padding ?? 0)}`;
  }
}

/** Global average pooling: [N, C, H, W] → [N, C, 1, 1] (or [N, C] with `flatten`). */
export function globalAvgPool2d(x: Tensor, opts: { flatten?: boolean } = {}): Tensor {
  if (x.rank !== 4) throw new GradkitError('globalAvgPool2d', `input must be 4-D [N, C, H, W], got ${fmtShape(x.shape)}`);
  return ops.mean(x, [2, 3], { keepDims: !opts.flatten });
}

/**
 * Average pooling to a fixed output size: bin i along an axis of length L covers
 * [⌊iL/out⌋, ⌈(i+1)L/out⌉), PyTorch's rule. When out divides L this is a plain avgPool2d.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  if (x.rank !== 4) throw new GradkitError('adaptiveAvgPool2d', `input must be 4-D [N, C, H, W], got ${fmtShape(x.shape)}`);
  const [oh, ow] = pairOf(outputSize);
  checkSize('adaptiveAvgPool2d', 'outputSize', oh);
  checkSize('adaptiveAvgPool2d', 'outputSize', ow);
  const [, , h, w] = x.shape;
  if (oh === 1 && ow === 1) return globalAvgPool2d(x);
  if (h % oh === 0 && w % ow === 0) return ops.avgPool2d(x, { kernelSize: [h / oh, w / ow] });
  // Uneven bins: one mean per output cell (the output is small; the work is in the ops).
  const rows: Tensor[] = [];
  for (let i = 0; i < oh; i++) {
    const h0 = Math.floor((i * h) / oh);
    const h1 = Math.ceil(((i + 1) * h) / oh);
    const cells: Tensor[] = [];
    for (let j = 0; j < ow; j++) {
      const w0 = Math.floor((j * w) / ow);
      const w1 = Math.ceil(((j + 1) * w) / ow);
      cells.push(ops.mean(ops.slice(x, [0, 0, h0, w0], [undefined, undefined, h1, w1]), [2, 3], { keepDims: true }));
    }
    rows.push(ops.concat(cells, 3));
  }
  return ops.concat(rows, 2);
}

/** Average pooling to a fixed output size [outH, outW], whatever the input size. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) { super(); }
  override forward(x: Tensor): Tensor { return adaptiveAvgPool2d(x, this.outputSize); }
  override extraRepr(): string { return `outputSize=${fmtPair(this.outputSize)}`; }
}

/** Global average pooling as a layer: [N, C, H, W] → [N, C] (flatten, default) or [N, C, 1, 1]. */
export class GlobalAvgPool2d extends Module {
  readonly flatten: boolean;
  constructor(opts: { flatten?: boolean } = {}) {
    super();
    this.flatten = opts.flatten ?? true;
  }
  override forward(x: Tensor): Tensor { return globalAvgPool2d(x, { flatten: this.flatten }); }
  override extraRepr(): string { return this.flatten ? '' : 'flatten=false'; }
}
