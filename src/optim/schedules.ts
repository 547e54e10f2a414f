import { GradkitError } from '../core/errors.js';
import type { Schedule } from './transforms.js';
import { checkNumber } from './validate.js';

// Learning-rate schedules as pure functions of the 0-based step (or epoch: whatever unit the
// caller steps in). `baseLr` defaults to 1, so a schedule is also a multiplier.

function checkStep(op: string, step: number): void {
  if (!Number.isInteger(step) || step < 0) throw new GradkitError(op, `step must be an integer >= 0, got ${step}`);
}

/** baseLr · gamma^⌊step / stepSize⌋ (PyTorch StepLR). */
export function stepDecay(opts: { stepSize: number; gamma?: number; baseLr?: number }): Schedule {
  const stepSize = checkNumber('stepDecay', 'stepSize', opts.stepSize, { min: 1, integer: true });
  const gamma = checkNumber('stepDecay', 'gamma', opts.gamma ?? 0.1, { min: 0 });
  const base = checkNumber('stepDecay', 'baseLr', opts.baseLr ?? 1, { min: 0 });
  return (step) => {
    checkStep('stepDecay', step);
    return base * gamma ** Math.floor(step / stepSize);
  };
}

/** baseLr · gamma^(number of milestones ≤ step) (PyTorch MultiStepLR). */
export function multiStep(opts: { milestones: readonly number[]; gamma?: number; baseLr?: number }): Schedule {
  if (!Array.isArray(opts.milestones)) throw new GradkitError('multiStep', 'milestones must be an array of steps');
  const ms = opts.milestones.map((m, i) => checkNumber('multiStep', `milestones[${i}]`, m, { min: 0, integer: true }));
  for (let i = 1; i < ms.length; i++) {
    if (ms[i] <= ms[i - 1]) throw new GradkitError('multiStep', `milestones must be increasing, got [${ms.join(', ')}]`);
  }
  const gamma = checkNumber('multiStep', 'gamma', opts.gamma ?? 0.1, { min: 0 });
  const base = checkNumber('multiStep', 'baseLr', opts.baseLr ?? 1, { min: 0 });
  return (step) => {
    checkStep('multiStep', step);
    return base * gamma ** ms.filter((m) => m <= step).length;
  };
}

/** baseLr · gamma^step (PyTorch ExponentialLR). */
export function exponentialDecay(opts: { gamma: number; baseLr?: number }): Schedule {
  const gamma = checkNumber('exponentialDecay', 'gamma', opts.gamma, { min: 0 });
  const base = checkNumber('exponentialDecay', 'baseLr', opts.baseLr ?? 1, { min: 0 });
  return (step) => {
    checkStep('exponentialDecay', step);
    return base * gamma ** step;
  };
}

function cosineBetween(hi: number, lo: number, t: number, period: number): number {
  return lo + ((hi - lo) * (1 + Math.cos((Math.PI * t) / period))) / 2;
}

/**
 * Half a cosine from baseLr down to etaMin over tMax steps, then etaMin (PyTorch's
 * CosineAnnealingLR formula; unlike PyTorch it stays at etaMin after tMax instead of rising
 * again: use cosineWarmRestarts for periodic schedules).
 */
export function cosineAnnealing(opts: { tMax: number; etaMin?: number; baseLr?: number }): Schedule {
  const tMax = checkNumber('cosineAnnealing', 'tMax', opts.tMax, { min: 1, integer: true });
  const etaMin = checkNumber('cosineAnnealing', 'etaMin', opts.etaMin ?? 0, { min: 0 });
  const base = checkNumber('cosineAnnealing', 'baseLr', opts.baseLr ?? 1, { min: 0 });
  return (step) => {
    checkStep('cosineAnnealing', step);
    return cosineBetween(base, etaMin, Math.min(step, tMax), tMax);
  };
}

/**
 * SGDR (Loshchilov & Hutter; PyTorch CosineAnnealingWarmRestarts): cosine from baseLr to etaMin
 * over a cycle of t0 steps, restarting at baseLr; each cycle is tMult times longer than the last.
 */
export function cosineWarmRestarts(opts: { t0: number; tMult?: number; etaMin?: number; baseLr?: number }): Schedule {
  const t0 = checkNumber('cosineWarmRestarts', 't0', opts.t0, { min: 1, integer: true });
  const tMult = checkNumber('cosineWarmRestarts', 'tMult', opts.tMult ?? 1, { min: 1, integer: true });
  const etaMin = checkNumber('cosineWarmRestarts', 'etaMin', opts.etaMin ?? 0, { min: 0 });
  const base = checkNumber('cosineWarmRestarts', 'baseLr', opts.baseLr ?? 1, { min: 0 });
  return (step) => {
    checkStep('cosineWarmRestarts', step);
    let t = step;
    let period = t0;
    if (tMult === 1) t = step % t0;
    // Cycles grow geometrically, so this loop runs O(log step) times.
    else while (t >= period) {
      t -= period;
      period *= tMult;
    }
    return cosineBetween(base, etaMin, t, period);
  };
}

/**
 * Linear warmup: from startFactor·target up to target over warmupSteps, then `then` shifted by
 * the warmup (then(step − warmupSteps)). `target` is then(0), or baseLr without `then`.
 *   linearWarmup({ warmupSteps: 500, then: cosineAnnealing({ baseLr: 3e-4, tMax: 9500 }) })
 */
export function linearWarmup(opts: { warmupSteps: number; startFactor?: number; then?: Schedule; baseLr?: number }): Schedule {
  const warm = checkNumber('linearWarmup', 'warmupSteps', opts.warmupSteps, { min: 0, integer: true });
  const startFactor = checkNumber('linearWarmup', 'startFactor', opts.startFactor ?? 0, { min: 0, max: 1 });
  const base = checkNumber('linearWarmup', 'baseLr', opts.baseLr ?? 1, { min: 0 });
  if (opts.then !== undefined && typeof opts.then !== 'function') throw new GradkitError('linearWarmup', 'then must be a schedule (a function of the step)');
  const then = opts.then ?? (() => base);
  return (step) => {
    checkStep('linearWarmup', step);
    if (step >= warm) return then(step - warm);
    return then(0) * (startFactor + ((1 - startFactor) * step) / warm);
  };
}

/** Options of the one-cycle learning-rate schedule: peak rate, length, phase split and annealing shape. */
export interface OneCycleOptions {
  maxLr: number;
  totalSteps: number;
  /** Fraction of the steps spent rising (default 0.3). */
  pctStart?: number;
  /** Start at maxLr / divFactor (default 25). */
  divFactor?: number;
  /** End at start / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** 'cos' (default) or 'linear' interpolation within each phase. */
  annealStrategy?: 'cos' | 'linear';
  /** Fast.ai's third phase: up, back down to the start, then annihilate (default false). */
  threePhase?: boolean;
}

/**
 * The 1cycle policy (Smith & Topin; PyTorch OneCycleLR): rise from maxLr/divFactor to maxLr,
 * then anneal to a tiny final value, over totalSteps. Steps past totalSteps are an error.
 */
export function oneCycle(opts: OneCycleOptions): Schedule {
  const maxLr = checkNumber('oneCycle', 'maxLr', opts.maxLr, { min: 0 });
  const total = checkNumber('oneCycle', 'totalSteps', opts.totalSteps, { min: 2, integer: true });
  const pct = checkNumber('oneCycle', 'pctStart', opts.pctStart ?? 0.3, { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  const div = checkNumber('oneCycle', 'divFactor', opts.divFactor ?? 25, { min: 0, minExclusive: true });
  const finalDiv = checkNumber('oneCycle', 'finalDivFactor', opts.finalDivFactor ?? 1e4, { min: 0, minExclusive: true });
  const strategy = opts.annealStrategy ?? 'cos';
  if (strategy !== 'cos' && strategy !== 'linear') throw new GradkitError('oneCycle', `annealStrategy must be 'cos' or 'linear', got ${String(strategy)}`);
  const initial = maxLr / div;
  const minLr = initial / finalDiv;
  const phases: { end: number; from: number; to: number }[] = opts.threePhase
    ? [
        { end: pct * total - 1, from: initial, to: maxLr },
        { end: 2 * pct * total - 2, from: maxLr, to: initial },
        { end: total - 1, from: initial, to: minLr },
      ]
    : [
        { end: pct * total - 1, from: initial, to: maxLr },
        { end: total - 1, from: maxLr, to: minLr },
      ];
  const anneal = (from: number, to: number, t: number): number =>
    strategy === 'cos' ? to + ((from - to) / 2) * (1 + Math.cos(Math.PI * t)) : from + (to - from) * t;
  return (step) => {
    checkStep('oneCycle', step);
    if (step > total) throw new GradkitError('oneCycle', `step ${step} is past totalSteps ${total}`);
    let start = 0;
    for (let i = 0; i < phases.length; i++) {
      const ph = phases[i];
      if (step <= ph.end || i === phases.length - 1) {
        return anneal(ph.from, ph.to, Math.min(1, (step - start) / (ph.end - start)));
      }
      start = ph.end;
    }
    return minLr;
  };
}
