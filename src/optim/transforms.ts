import { GradkitError } from '../core/errors.js';
import { isParameter } from '../nn/parameter.js';
import type { Tensor } from '../tensor/tensor.js';
import { readSync } from '../tensor/host.js';
import { sumSquares } from './math.js';
import { optimKernels as K } from './kernels.js';
import { onHost, zerosLikeParams, type GradientTransform, type Updates } from './transform.js';
import { checkBoolean, checkNumber } from './validate.js';

/** A step-indexed value (learning rate, ...): a pure function of the 0-based step. */
export type Schedule = (step: number) => number;

/** Which parameters a transform applies to (weight decay's noDecay rule). */
export type ParamMask = (param: Tensor, index: number) => boolean;

/** The default weight-decay mask: everything except parameters tagged 'noDecay'. */
export const decayMask: ParamMask = (p) => !(isParameter(p) && p.tags.has('noDecay'));

/** One slot tensor per parameter (kept; see zerosLikeParams). */
type Slots = Tensor[];

/**
 * scaleByLearningRate's per-step bookkeeping, shared with the fused steps (fusion.ts): this
 * step's lr, checked, and the step counted in the link's state.
 */
export function nextLr(lr: number | Schedule, state: { count: number }): number {
  const value = typeof lr === 'number' ? lr : lr(state.count);
  checkNumber('scaleByLearningRate', `lr at step ${state.count}`, value);
  state.count++;
  return value;
}

/** Scales updates by −lr (a number or a schedule of the step); the last link of an optimizer. */
export function scaleByLearningRate(lr: number | Schedule): GradientTransform<{ count: number }> {
  if (typeof lr === 'number') checkNumber('scaleByLearningRate', 'lr', lr, { min: 0 });
  return {
    name: 'scaleByLearningRate',
    init: () => ({ count: 0 }),
    update(updates, state) {
      const value = nextLr(lr, state);
      for (const u of updates) if (u !== null) K.scaleStep(u, -value);
    },
  };
}

/** Clamps every update element to [−maxValue, maxValue]. */
export function clipByValue(maxValue: number): GradientTransform<null> {
  checkNumber('clipByValue', 'maxValue', maxValue, { min: 0 });
  return {
    name: 'clipByValue',
    init: () => null,
    update(updates) {
      for (const u of updates) if (u !== null) K.clipValueStep(u, maxValue);
    },
  };
}

/** Global L2 norm of a set of update buffers (nulls skipped). */
export function globalNorm(updates: Updates): number {
  let s = 0;
  for (const u of updates) if (u !== null) s += sumSquares(u);
  return Math.sqrt(s);
}

/**
 * Rescales all updates together so their global L2 norm is at most maxNorm (coefficient
 * maxNorm / (norm + 1e-6), capped at 1, as PyTorch's clip_grad_norm_). Inside an optimizer the
 * norm is over one parameter group; clipGradNorm() clips over any list of parameters.
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransform<null> {
  checkNumber('clipByGlobalNorm', 'maxNorm', maxNorm, { min: 0 });
  return {
    name: 'clipByGlobalNorm',
    init: () => null,
    update(updates) {
      const norm = globalNorm(updates);
      if (!Number.isFinite(norm)) {
        throw new GradkitError('clipByGlobalNorm', `the global gradient norm is ${norm}: some gradient holds NaN or Inf`);
      }
      const coef = maxNorm / (norm + 1e-6);
      if (coef < 1) for (const u of updates) if (u !== null) K.scaleStep(u, coef);
    },
  };
}

/** Options of the `trace` (momentum) transform: momentum factor, dampening and Nesterov. */
export interface TraceOptions {
  /** Momentum factor μ (default 0.9). */
  momentum?: number;
  /** Dampening τ: the gradient enters the buffer scaled by (1 − τ) (default 0). */
  dampening?: number;
  /** Nesterov momentum: step along g + μ·buf (default false; needs dampening 0). */
  nesterov?: boolean;
}

/**
 * Momentum (optax's `trace`) with PyTorch SGD semantics: buf = g on a parameter's first step,
 * then buf = μ·buf + (1 − τ)·g; the update is buf, or g + μ·buf with Nesterov.
 */
export function trace(opts: TraceOptions = {}): GradientTransform<{ buf: Slots; count: number[] }> {
  const momentum = checkNumber('trace', 'momentum', opts.momentum ?? 0.9, { min: 0 });
  const dampening = checkNumber('trace', 'dampening', opts.dampening ?? 0, { min: 0, max: 1 });
  const nesterov = checkBoolean('trace', 'nesterov', opts.nesterov ?? false);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new GradkitError('trace', `Nesterov momentum needs momentum > 0 and dampening 0, got momentum ${momentum}, dampening ${dampening}`);
  }
  return {
    name: 'trace',
    init: (params) => ({ buf: zerosLikeParams(params), count: params.map(() => 0) }),
    update(updates, state) {
      updates.forEach((u, i) => {
        if (u === null) return;
        onHost([state.buf[i]], ([buf]) => K.momentumStep(u, buf!, state.count[i] === 0, momentum, dampening, nesterov));
        state.count[i]++;
      });
    },
  };
}
/** Alias of trace: the heavy-ball momentum transform (v ← μv + g). */
export const momentum = trace;

/** Options of the `scaleByAdam` transform: moment decay rates, eps and AMSGrad. */
export interface AdamOptions {
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the root of the second moment (default 1e-8). */
  eps?: number;
  /** Use the running maximum of the second moment (AMSGrad; default false). */
  amsgrad?: boolean;
}

export type AdamState = { m: Slots; v: Slots; vMax: Slots | null; count: number[] };

/** Adam's preconditioner with bias correction (per-parameter step counts, as PyTorch). */
export function scaleByAdam(opts: AdamOptions = {}): GradientTransform<AdamState> {
  const [b1, b2] = checkBetas('scaleByAdam', opts.betas ?? [0.9, 0.999]);
  const eps = checkNumber('scaleByAdam', 'eps', opts.eps ?? 1e-8, { min: 0 });
  const amsgrad = checkBoolean('scaleByAdam', 'amsgrad', opts.amsgrad ?? false);
  return {
    name: 'scaleByAdam',
    init: (params) => ({
      m: zerosLikeParams(params),
      v: zerosLikeParams(params),
      vMax: amsgrad ? zerosLikeParams(params) : null,
      count: params.map(() => 0),
    }),
    update(updates, state) {
      updates.forEach((u, i) => {
        if (u === null) return;
        state.count[i]++;
        onHost([state.m[i], state.v[i], state.vMax === null ? null : state.vMax[i]], ([m, v, vMax]) =>
          K.adamStep(u, m!, v!, vMax, b1, b2, eps, state.count[i]));
      });
    },
  };
}

function checkBetas(op: string, betas: unknown): [number, number] {
  if (!Array.isArray(betas) || betas.length !== 2) throw new GradkitError(op, `betas must be a pair [beta1, beta2], got ${JSON.stringify(betas)}`);
  return [
    checkNumber(op, 'betas[0]', betas[0], { min: 0, max: 1, maxExclusive: true }),
    checkNumber(op, 'betas[1]', betas[1], { min: 0, max: 1, maxExclusive: true }),
  ];
}

/** Options of the `scaleByRms` transform (RMSprop's preconditioner): smoothing, eps, centering and momentum. */
export interface RmsOptions {
  /** Smoothing constant of the running mean of g² (default 0.99). */
  alpha?: number;
  /** Added to the root (default 1e-8). */
  eps?: number;
  /** Normalize by the running variance instead of the running second moment (default false). */
  centered?: boolean;
  /** Momentum on the normalized gradient (default 0: none). */
  momentum?: number;
}

export type RmsState = { sq: Slots; gAvg: Slots | null; buf: Slots | null };

/** RMSprop's preconditioner (PyTorch semantics, eps outside the root). */
export function scaleByRms(opts: RmsOptions = {}): GradientTransform<RmsState> {
  const alpha = checkNumber('scaleByRms', 'alpha', opts.alpha ?? 0.99, { min: 0, max: 1 });
  const eps = checkNumber('scaleByRms', 'eps', opts.eps ?? 1e-8, { min: 0 });
  const centered = checkBoolean('scaleByRms', 'centered', opts.centered ?? false);
  const mom = checkNumber('scaleByRms', 'momentum', opts.momentum ?? 0, { min: 0 });
  return {
    name: 'scaleByRms',
    init: (params) => ({
      sq: zerosLikeParams(params),
      gAvg: centered ? zerosLikeParams(params) : null,
      buf: mom > 0 ? zerosLikeParams(params) : null,
    }),
    update(updates, state) {
      updates.forEach((u, i) => {
        if (u === null) return;
        onHost([state.sq[i], state.gAvg === null ? null : state.gAvg[i], state.buf === null ? null : state.buf[i]], ([sq, gAvg, buf]) =>
          K.rmsStep(u, sq!, gAvg, buf, alpha, eps, mom));
      });
    },
  };
}

/** Options of the `scaleByAdagrad` transform: initial accumulator, eps and learning-rate decay. */
export interface AdagradOptions {
  /** Starting value of the g² accumulator (default 0). */
  initialAccumulatorValue?: number;
  /** Added to the root (default 1e-10). */
  eps?: number;
  /** Step t is scaled by 1 / (1 + (t − 1)·lrDecay) (default 0). */
  lrDecay?: number;
}

/** Adagrad's preconditioner: g / (sqrt(Σ g²) + eps). */
export function scaleByAdagrad(opts: AdagradOptions = {}): GradientTransform<{ sum: Slots; count: number[] }> {
  const init0 = checkNumber('scaleByAdagrad', 'initialAccumulatorValue', opts.initialAccumulatorValue ?? 0, { min: 0 });
  const eps = checkNumber('scaleByAdagrad', 'eps', opts.eps ?? 1e-10, { min: 0 });
  const lrDecay = checkNumber('scaleByAdagrad', 'lrDecay', opts.lrDecay ?? 0, { min: 0 });
  return {
    name: 'scaleByAdagrad',
    init: (params) => ({ sum: zerosLikeParams(params, init0), count: params.map(() => 0) }),
    update(updates, state) {
      updates.forEach((u, i) => {
        if (u === null) return;
        state.count[i]++;
        onHost([state.sum[i]], ([sum]) => K.adagradStep(u, sum!, eps, 1 / (1 + (state.count[i] - 1) * lrDecay)));
      });
    },
  };
}

/** Options of the weight-decay transforms (`addDecayedWeights`, `addL2ToGradient`): which parameters decay. */
export interface DecayOptions {
  /** Which parameters decay (default: all but those tagged 'noDecay'). */
  mask?: ParamMask;
}

function decayTransform(name: string, weightDecay: number, opts: DecayOptions, kind: 'l2' | 'decoupled'): GradientTransform<null> {
  checkNumber(name, 'weightDecay', weightDecay, { min: 0 });
  const mask = opts.mask ?? decayMask;
  return {
    name,
    init: () => null,
    update(updates, _state, params) {
      if (weightDecay === 0) return;
      updates.forEach((u, i) => {
        if (u !== null && mask(params[i], i)) K.decayStep(u, readSync(params[i]), weightDecay);
      });
    },
  };
}

/**
 * Decoupled weight decay (AdamW): adds λ·p to the *preconditioned* update, so place it after
 * scaleByAdam and before scaleByLearningRate; the weights then shrink by lr·λ·p per step.
 */
export function addDecayedWeights(weightDecay: number, opts: DecayOptions = {}): GradientTransform<null> {
  return decayTransform('addDecayedWeights', weightDecay, opts, 'decoupled');
}

/**
 * Coupled weight decay (classic L2, PyTorch SGD/Adam `weight_decay`): adds λ·p to the raw
 * gradient, so place it first; the preconditioner then sees it like any gradient.
 */
export function addL2ToGradient(weightDecay: number, opts: DecayOptions = {}): GradientTransform<null> {
  return decayTransform('addL2ToGradient', weightDecay, opts, 'l2');
}
