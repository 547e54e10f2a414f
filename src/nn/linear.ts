import { GradkitError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { relu } from '../ops/elementwise.js';
import { linear, linearBiasAct } from './functional.js';
import { checkActivation, type LayerActivation } from './fused-activation.js';
import { initBias, initWeight } from './init.js';
import { checkSize, newParam, rngOf, type WeightLayerOptions } from './layer-options.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';

/** Options of the Linear layer: bias, fused activation and the weight initialization. */
export interface LinearOptions extends WeightLayerOptions {
  /** Add a learnable bias (default true). */
  bias?: boolean;
  /**
   * An activation applied inside the layer (default 'none'): 'relu' runs the bias-add and relu
   * as one fused kernel, the same values as Linear followed by ReLU in one pass instead of two
   * each way. nn.fuse sets it on a Linear → ReLU pair.
   */
  activation?: LayerActivation;
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
  /** Applied after the bias-add, fused with it ('none': a plain affine layer). */
  activation: LayerActivation;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    this.inFeatures = checkSize('Linear', 'inFeatures', inFeatures);
    this.outFeatures = checkSize('Linear', 'outFeatures', outFeatures);
    this.activation = checkActivation('Linear', opts.activation);
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
    if (this.activation === 'none') return linear(x, this.weight, this.bias);
    // Without a bias there is nothing to fuse the activation with: apply it on its own.
    if (this.bias === null) return relu(linear(x, this.weight, null));
    return linearBiasAct(x, this.weight, this.bias, this.activation);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}${this.activation === 'none' ? '' : `, activation='${this.activation}'`}`;
  }
}
