import { GradkitError } from '../core/errors.js';
import { Optimizer, mergeOptions, type BaseOptions, type ParamGroup, type ParamsInput } from './optimizer.js';
import { withFusedStep } from './fusion.js';
import { chain, type GradientTransform } from './transform.js';
import {
  addDecayedWeights, addL2ToGradient, decayMask, scaleByAdagrad, scaleByAdam, scaleByLearningRate, scaleByRms, trace,
  type ParamMask,
} from './transforms.js';

// The named optimizers are recipes over the transforms (optax's alias.py idea). Each chain reads
// group.lr live, so schedulers only ever set `group.lr`. SGD, Adam, AdamW and RMSprop attach their
// one-pass fused step to the chain themselves (withFusedStep); the chain stays the definition.

function maskOf(g: BaseOptions): ParamMask {
  return g.includeNoDecay ? () => true : decayMask;
}

function lrOf(g: ParamGroup<BaseOptions>): GradientTransform<any> {
  return scaleByLearningRate(() => g.lr);
}

/** Hyperparameters of the SGD optimizer: the base options plus momentum, dampening and Nesterov. */
export interface SGDOptions extends BaseOptions {
  /** Momentum factor (default 0: plain SGD). */
  momentum: number;
  /** Dampening of the gradient entering the momentum buffer (default 0). */
  dampening: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
}

/**
 * Stochastic gradient descent with optional (Nesterov) momentum and coupled weight decay,
 * exactly as PyTorch: g ← g + λp; buf ← μ·buf + (1 − τ)·g (buf = g at first); p ← p − lr·buf.
 *
 *   const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, opts: Partial<SGDOptions> = {}) {
    super(params, mergeOptions('SGD', { lr: 1e-3, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, includeNoDecay: false }, opts), (g) => {
      const mask = maskOf(g);
      const links: GradientTransform<any>[] = [addL2ToGradient(g.weightDecay, { mask })];
      const withMomentum = g.momentum !== 0 || g.nesterov;
      if (withMomentum) links.push(trace({ momentum: g.momentum, dampening: g.dampening, nesterov: g.nesterov }));
      else if (g.dampening < 0 || g.dampening > 1) throw new GradkitError('SGD', `dampening must be in [0, 1], got ${g.dampening}`);
      if (g.momentum < 0) throw new GradkitError('SGD', `momentum must be >= 0, got ${g.momentum}`);
      links.push(lrOf(g));
      return withFusedStep(chain(...links), {
        l2: { at: 0, weightDecay: g.weightDecay, mask },
        core: withMomentum ? { at: 1, kind: 'trace', momentum: g.momentum, dampening: g.dampening, nesterov: g.nesterov } : undefined,
        lr: { at: links.length - 1, value: () => g.lr },
      });
    }, 'SGD');
  }
}

/** Hyperparameters of the Adam and AdamW optimizers: the base options plus betas, eps and AMSGrad. */
export interface AdamOptions extends BaseOptions {
  /** Moment decay rates (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the root of the second moment (default 1e-8). */
  eps: number;
  /** AMSGrad variant (default false). */
  amsgrad: boolean;
}

function adamDefaults(decoupled: boolean, opts: Partial<AdamOptions>): AdamOptions {
  const defaults: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, amsgrad: false, weightDecay: decoupled ? 1e-2 : 0, includeNoDecay: false };
  return mergeOptions(decoupled ? 'AdamW' : 'Adam', defaults, opts);
}

function adamRecipe(decoupled: boolean): (g: ParamGroup<AdamOptions>) => GradientTransform<any> {
  return (g) => {
    const adam = scaleByAdam({ betas: g.betas, eps: g.eps, amsgrad: g.amsgrad });
    const mask = maskOf(g);
    const lr = { at: 2, value: () => g.lr };
    const [b1, b2] = g.betas;
    const core = (at: number) => ({ at, kind: 'adam' as const, b1, b2, eps: g.eps, amsgrad: g.amsgrad });
    return decoupled
      ? withFusedStep(chain(adam, addDecayedWeights(g.weightDecay, { mask }), lrOf(g)), { core: core(0), decoupled: { at: 1, weightDecay: g.weightDecay, mask }, lr })
      : withFusedStep(chain(addL2ToGradient(g.weightDecay, { mask }), adam, lrOf(g)), { l2: { at: 0, weightDecay: g.weightDecay, mask }, core: core(1), lr });
  };
}

/**
 * Adam with bias correction; `weightDecay` is coupled L2 added to the gradient (as PyTorch's
 * Adam). For decoupled decay use AdamW.
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p − lr·(m/(1−β₁ᵗ)) / (sqrt(v/(1−β₂ᵗ)) + ε)
 */
export class Adam extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(params, adamDefaults(false, opts), adamRecipe(false), 'Adam');
  }
}

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter): p ← p − lr·(adam(g) + λp), default
 * λ = 0.01 as PyTorch. Parameters tagged 'noDecay' are not decayed unless includeNoDecay.
 *
 *   const opt = new AdamW(model.parameters(), { lr: 3e-4, weightDecay: 0.05 });
 */
export class AdamW extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(params, adamDefaults(true, opts), adamRecipe(true), 'AdamW');
  }
}

/** Hyperparameters of the RMSprop optimizer: the base options plus smoothing, eps, centering and momentum. */
export interface RMSpropOptions extends BaseOptions {
  /** Smoothing constant (default 0.99). */
  alpha: number;
  /** Added to the root (default 1e-8). */
  eps: number;
  /** Divide by the running standard deviation instead of the RMS (default false). */
  centered: boolean;
  /** Momentum on the normalized step (default 0). */
  momentum: number;
}

/**
 * RMSprop as PyTorch (lr 0.01, alpha 0.99, eps 1e-8), with coupled weight decay:
 *   g ← g + λp; s ← αs + (1−α)g²; [centered: ḡ ← αḡ + (1−α)g, s̃ = s − ḡ²];
 *   d = g / (sqrt(s̃) + ε); [momentum: buf ← μ·buf + d, d = buf]; p ← p − lr·d
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsInput<RMSpropOptions>, opts: Partial<RMSpropOptions> = {}) {
    super(params, mergeOptions('RMSprop', { lr: 1e-2, alpha: 0.99, eps: 1e-8, centered: false, momentum: 0, weightDecay: 0, includeNoDecay: false }, opts), (g) => {
      const mask = maskOf(g);
      // scaleByRms validates the options; the fused step reuses its state (sq, gAvg, buf) as is.
      const rms = scaleByRms({ alpha: g.alpha, eps: g.eps, centered: g.centered, momentum: g.momentum });
      return withFusedStep(chain(addL2ToGradient(g.weightDecay, { mask }), rms, lrOf(g)), {
        l2: { at: 0, weightDecay: g.weightDecay, mask },
        core: { at: 1, kind: 'rms', alpha: g.alpha, eps: g.eps, momentum: g.momentum },
        lr: { at: 2, value: () => g.lr },
      });
    }, 'RMSprop');
  }
}

/** Hyperparameters of the Adagrad optimizer: the base options plus learning-rate decay, initial accumulator and eps. */
export interface AdagradOptions extends BaseOptions {
  /** The t-th step uses lr / (1 + (t − 1)·lrDecay) (default 0). */
  lrDecay: number;
  /** Starting value of the accumulator (default 0). */
  initialAccumulatorValue: number;
  /** Added to the root (default 1e-10). */
  eps: number;
}

/** Adagrad as PyTorch (lr 0.01, eps 1e-10), with coupled weight decay. */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: ParamsInput<AdagradOptions>, opts: Partial<AdagradOptions> = {}) {
    super(params, mergeOptions('Adagrad', { lr: 1e-2, lrDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, weightDecay: 0, includeNoDecay: false }, opts), (g) => {
      const mask = maskOf(g);
      // scaleByAdagrad validates the options and seeds the sums with initialAccumulatorValue; the
      // fused step reuses its state (sum, count) as is.
      const adagrad = scaleByAdagrad({ lrDecay: g.lrDecay, initialAccumulatorValue: g.initialAccumulatorValue, eps: g.eps });
      return withFusedStep(chain(addL2ToGradient(g.weightDecay, { mask }), adagrad, lrOf(g)), {
        l2: { at: 0, weightDecay: g.weightDecay, mask },
        core: { at: 1, kind: 'adagrad', eps: g.eps, lrDecay: g.lrDecay },
        lr: { at: 2, value: () => g.lr },
      });
    }, 'Adagrad');
  }
}
