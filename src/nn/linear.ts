import { GradkitError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { FusedActivation } from '../ops/fused.js';
import { linear, linearBiasAct } from './functional.js';
import { initBias, initWeight } from './init.js';
import { checkSize, newParam, rngOf, type WeightLayerOptions } from './layer-options.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';

export interface LinearOptions extends WeightLayerOptions {
  /** Add a learnable bias (default true). */
  bias?: boolean;
}

/**
 * y = x·Wᵀ + b, with W of shape [outFeatures, inFeatures] (PyTorch's layout) and b of shape
 * [outFeatures]. Accepts any input [..., inFeatures].
 *
 * Default init: He normal (variance 2/inFeatures), right for the usual ReLU that follows; pass
 * `init: 'xavier'` before tanh/sigmoid or for the output layer, `'lecun'` in SELU networks.
 * The bias starts at `biasInit` (default 0) and is tagged 'noDecay'.
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** A Parameter, or the computed tensor of a reparametrization such as weightNorm. */
  weight: Tensor;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    this.inFeatures = checkSize('Linear', 'inFeatures', inFeatures);
    this.outFeatures = checkSize('Linear', 'outFeatures', outFeatures);
    const rng = rngOf(opts);
    const w = this.registerParameter('weight', newParam([outFeatures, inFeatures], opts.dtype));
    initWeight(w, opts.init ?? 'he', { rng, nonlinearity: opts.nonlinearity, negativeSlope: opts.negativeSlope });
    this.weight = w;
    this.bias = null;
    if (opts.bias ?? true) {
      this.bias = this.registerParameter('bias', newParam([outFeatures], opts.dtype, ['noDecay']));
      initBias(this.bias, opts.biasInit ?? 0, rng);
    } else {
      this.registerParameter('bias', null);
    }
  }

  override forward(x: Tensor): Tensor {
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new GradkitError('Linear', `expected input [..., ${this.inFeatures}], got ${fmtShape(x.shape)}`);
    }
    return linear(x, this.weight, this.bias);
  }

  /**
   * forward() followed by `act`, the bias-add and activation in one fused kernel (same values;
   * Sequential uses it for a Linear directly followed by a ReLU). Needs a bias.
   */
  biasActForward(x: Tensor, act: FusedActivation): Tensor {
    if (this.bias === null) throw new GradkitError('Linear.biasActForward', 'this layer has no bias');
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new GradkitError('Linear', `expected input [..., ${this.inFeatures}], got ${fmtShape(x.shape)}`);
    }
    return linearBiasAct(x, this.weight, this.bias, act);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
