/** Regularizing layers: active in training mode only; the identity (or the plain layer) in eval. */
import { GradkitError } from '../core/errors.js';
import type { Random } from '../core/rng.js';
import { getGlobalRng } from '../core/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import * as F from './functional.js';
import { checkProb } from './layer-options.js';
import type { Linear } from './linear.js';
import { Module } from './module.js';
import { functionalCall } from './functional-call.js';

/** Options of Dropout, AlphaDropout and DropConnect: the drop probability and the generator for the masks. */
export interface RandomLayerOptions {
  /** Drop probability (default 0.5). */
  p?: number;
  /** Generator for the masks (default: the global one at call time, so manualSeed applies). */
  rng?: Random;
}

/**
 * Inverted dropout (Srivastava et al.): in training each element is zeroed with probability p
 * and survivors are scaled by 1/(1−p), so the expected activation is unchanged and eval is the
 * identity. The lecture's default for fully connected layers is p = 0.5.
 *
 * ```ts
 * const head = new nn.Sequential(new nn.Linear(512, 256), new nn.ReLU(), new nn.Dropout({ p: 0.5 }), new nn.Linear(256, 10));
 * head.eval();   // dropout off for evaluation
 * ```
 */
export class Dropout extends Module {
  readonly p: number;
  constructor(readonly opts: RandomLayerOptions = {}) {
    super();
    this.p = checkProb('Dropout', opts.p ?? 0.5);
  }
  override forward(x: Tensor): Tensor {
    return F.dropout(x, { p: this.p, training: this.training, rng: this.opts.rng ?? getGlobalRng() });
  }
  override extraRepr(): string { return `p=${this.p}`; }
}

/**
 * Alpha dropout for SELU networks: keeps mean 0 and variance 1 of its input by setting dropped
 * units to SELU's saturation value and applying an affine correction (see functional.alphaDropout).
 */
export class AlphaDropout extends Module {
  readonly p: number;
  constructor(readonly opts: RandomLayerOptions = {}) {
    super();
    this.p = checkProb('AlphaDropout', opts.p ?? 0.5);
  }
  override forward(x: Tensor): Tensor {
    return F.alphaDropout(x, { p: this.p, training: this.training, rng: this.opts.rng ?? getGlobalRng() });
  }
  override extraRepr(): string { return `p=${this.p}`; }
}

/** Adds zero-mean Gaussian noise with standard deviation `std` in training; the identity in eval. */
export class GaussianNoise extends Module {
  readonly std: number;
  constructor(readonly opts: { std: number; rng?: Random }) {
    super();
    if (opts === undefined || !(Number.isFinite(opts.std) && opts.std >= 0)) {
      throw new GradkitError('GaussianNoise', `std must be a non-negative number, got ${String(opts?.std)}`);
    }
    this.std = opts.std;
  }
  override forward(x: Tensor): Tensor {
    return F.gaussianNoise(x, { std: this.std, training: this.training, rng: this.opts.rng ?? getGlobalRng() });
  }
  override extraRepr(): string { return `std=${this.std}`; }
}

/**
 * DropConnect (Wan et al. 2013) around a Linear: in training each *weight* is dropped with
 * probability p (one mask per forward call, shared by the batch) and the kept ones scaled by
 * 1/(1−p); activations are untouched. In eval the layer uses its full weight, which is the
 * expectation of the training weight (the paper's Gaussian inference is not used).
 */
export class DropConnect extends Module {
  readonly p: number;
  readonly layer: Linear;
  constructor(layer: Linear, readonly opts: RandomLayerOptions = {}) {
    super();
    this.p = checkProb('DropConnect', opts.p ?? 0.5);
    if (!new Map(layer.namedParameters({ recurse: false })).has('weight')) {
      throw new GradkitError('DropConnect', `the wrapped ${layer.constructor.name} has no 'weight' parameter (is it re-parametrized, e.g. by weightNorm?)`);
    }
    this.layer = this.registerModule('layer', layer);
  }
  override forward(x: Tensor): Tensor {
    const w = this.layer.weight;
    if (!this.training || this.p === 0) return this.layer.call(x);
    const mask = F.dropoutMask(w.shape, this.p, w.dtype === 'float64' ? 'float64' : 'float32', this.opts.rng ?? getGlobalRng());
    // Through the layer's own call (with the masked weight swapped in), so its hooks still fire.
    return functionalCall(this.layer, { weight: ops.mul(w, mask) }, x);
  }
  override extraRepr(): string { return `p=${this.p}`; }
}
