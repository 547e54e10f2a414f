/** Activation functions as modules (the functional forms live in functional.ts). */
import { GradkitError } from '../core/errors.js';
import { full } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import * as F from './functional.js';
import { Linear, type LinearOptions } from './linear.js';
import { checkSize } from './layer-options.js';
import { Module } from './module.js';
import { Parameter, parameterFrom } from './parameter.js';

/** max(x, 0), elementwise. */
export class ReLU extends Module {
  override forward(x: Tensor): Tensor { return F.relu(x); }
}

/** The logistic sigmoid 1 / (1 + e⁻ˣ), elementwise. */
export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor { return F.sigmoid(x); }
}

/** Hyperbolic tangent, elementwise. */
export class Tanh extends Module {
  override forward(x: Tensor): Tensor { return F.tanh(x); }
}

/** max(x, 0) + negativeSlope·min(x, 0); negativeSlope default 0.01. */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
    if (!Number.isFinite(negativeSlope)) throw new GradkitError('LeakyReLU', `negativeSlope must be finite, got ${negativeSlope}`);
  }
  override forward(x: Tensor): Tensor { return F.leakyRelu(x, this.negativeSlope); }
  override extraRepr(): string { return `negativeSlope=${this.negativeSlope}`; }
}

/** Options of the PReLU layer: how many learnable slopes α and their initial value. */
export interface PReLUOptions {
  /** 1 (default): one α shared by all channels; C: one α per channel (axis 1 of the input). */
  numParameters?: number;
  /** Initial α (default 0.25, as He et al.). */
  init?: number;
  dtype?: 'float32' | 'float64';
}

/** Parametric ReLU with learnable α (He et al. 2015). α is tagged 'noDecay' (decaying it toward 0 would bias toward ReLU). */
export class PReLU extends Module {
  readonly weight: Parameter;
  constructor(opts: PReLUOptions = {}) {
    super();
    const n = checkSize('PReLU', 'numParameters', opts.numParameters ?? 1);
    this.weight = this.registerParameter('weight', parameterFrom(full([n], opts.init ?? 0.25, { dtype: opts.dtype }), { tags: ['noDecay'] }));
  }
  override forward(x: Tensor): Tensor { return F.prelu(x, this.weight); }
  override extraRepr(): string { return `numParameters=${this.weight.size}`; }
}

/** x for x > 0, α(eˣ − 1) otherwise; α default 1. */
export class ELU extends Module {
  constructor(readonly alpha = 1) { super(); }
  override forward(x: Tensor): Tensor { return F.elu(x, this.alpha); }
  override extraRepr(): string { return `alpha=${this.alpha}`; }
}

/** Self-normalizing: λ·ELU(x, α), λ ≈ 1.0507, α ≈ 1.6733. Use lecun init and AlphaDropout with it. */
export class SELU extends Module {
  override forward(x: Tensor): Tensor { return F.selu(x); }
}

/** Options of the Swish layer (x·sigmoid(βx)): the value of β and whether it is learned. */
export interface SwishOptions {
  /** β (default 1). */
  beta?: number;
  /** Learn β as a parameter (default false). */
  learnable?: boolean;
  dtype?: 'float32' | 'float64';
}

/** Swish x·σ(βx) (Ramachandran et al.); β fixed or learnable. With β = 1 it is SiLU. */
export class Swish extends Module {
  readonly beta: number | Parameter;
  constructor(opts: SwishOptions = {}) {
    super();
    const b = opts.beta ?? 1;
    this.beta = opts.learnable ? this.registerParameter('beta', parameterFrom(full([1], b, { dtype: opts.dtype }), { tags: ['noDecay'] })) : b;
  }
  override forward(x: Tensor): Tensor { return F.swish(x, this.beta); }
  override extraRepr(): string { return typeof this.beta === 'number' ? `beta=${this.beta}` : 'beta=learnable'; }
}

/** x · sigmoid(x) (also called swish with β = 1), elementwise. */
export class SiLU extends Module {
  override forward(x: Tensor): Tensor { return F.silu(x); }
}

/** GELU, exact (erf) by default; `{ approximate: 'tanh' }` for the tanh approximation. */
export class GELU extends Module {
  constructor(readonly opts: F.GeluOptions = {}) { super(); }
  override forward(x: Tensor): Tensor { return F.gelu(x, this.opts); }
  override extraRepr(): string { return `approximate='${this.opts.approximate ?? 'none'}'`; }
}

/** log(1 + eˣ), a smooth ReLU, computed stably. */
export class Softplus extends Module {
  constructor(readonly opts: { beta?: number; threshold?: number } = {}) { super(); }
  override forward(x: Tensor): Tensor { return F.softplus(x, this.opts); }
  override extraRepr(): string { return `beta=${this.opts.beta ?? 1}, threshold=${this.opts.threshold ?? 20}`; }
}

/** Softmax along `axis` (default −1). */
export class Softmax extends Module {
  constructor(readonly axis = -1) { super(); }
  override forward(x: Tensor): Tensor { return F.softmax(x, this.axis); }
  override extraRepr(): string { return `axis=${this.axis}`; }
}

/** log(softmax(x)) along an axis (default the last), computed stably. */
export class LogSoftmax extends Module {
  constructor(readonly axis = -1) { super(); }
  override forward(x: Tensor): Tensor { return F.logSoftmax(x, this.axis); }
  override extraRepr(): string { return `axis=${this.axis}`; }
}

/** Options of the Maxout layer: the Linear options plus the number of linear pieces per unit. */
export interface MaxoutOptions extends LinearOptions {
  /** Linear pieces per unit (default 2). */
  k?: number;
}

/**
 * Maxout unit (Goodfellow et al. 2013): k affine pieces per output, y_j = max_i (W_ij·x + b_ij).
 * Holds one Linear(inFeatures, outFeatures·k). Default init: Xavier (a maxout unit is piecewise
 * linear with no rectification, so He's factor 2 would inflate the variance).
 */
export class Maxout extends Module {
  readonly k: number;
  readonly linear: Linear;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: MaxoutOptions = {}) {
    super();
    this.k = checkSize('Maxout', 'k', opts.k ?? 2);
    this.linear = this.registerModule('linear', new Linear(inFeatures, outFeatures * this.k, { init: 'xavier', ...opts }));
  }
  override forward(x: Tensor): Tensor { return F.maxout(this.linear.call(x), this.k); }
  override extraRepr(): string { return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, k=${this.k}`; }
}
