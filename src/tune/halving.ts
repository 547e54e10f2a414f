/**
 * Successive halving: train every trial for a small budget, keep the best 1/η, give the
 * survivors η times the budget, and so on up to the full budget. Bad configurations are cut
 * after a few epochs instead of costing a whole run each.
 */
import { GradkitError } from '../core/errors.js';

/** One rung of successive halving: how many trials train in it and how many epochs they reach. */
export interface Rung {
  /** Total epochs a trial has trained for at the end of this rung. */
  epochs: number;
  /** Trials trained in this rung. */
  trials: number;
}

/** Survivors of a rung of n trials: the best ⌊n/η⌋, at least one. */
export function survivors(n: number, eta: number): number {
  return Math.max(1, Math.floor(n / eta));
}

/** The rungs for n trials: epochs minEpochs, minEpochs·η, …, capped at (and ending with) maxEpochs. */
export function halvingRungs(n: number, minEpochs: number, maxEpochs: number, eta: number): Rung[] {
  const op = 'tune.halvingRungs';
  if (!(Number.isInteger(n) && n > 0)) throw new GradkitError(op, `trials must be a positive whole number, got ${n}`);
  if (!(Number.isInteger(minEpochs) && minEpochs > 0)) throw new GradkitError(op, `minEpochs must be a positive whole number, got ${minEpochs}`);
  if (!(Number.isInteger(maxEpochs) && maxEpochs >= minEpochs)) throw new GradkitError(op, `epochs (${maxEpochs}) must be a whole number >= minEpochs (${minEpochs})`);
  if (!(eta >= 2)) throw new GradkitError(op, `eta must be >= 2 (keep the best 1/eta each rung), got ${eta}`);
  const rungs: Rung[] = [];
  let e = minEpochs;
  let count = n;
  while (e < maxEpochs) {
    rungs.push({ epochs: e, trials: count });
    count = survivors(count, eta);
    e = Math.min(maxEpochs, Math.round(e * eta));
  }
  rungs.push({ epochs: maxEpochs, trials: count });
  return rungs;
}
