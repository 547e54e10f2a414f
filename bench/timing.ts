/**
 * The measuring loop shared by every library: warm-up (so V8 tiers the wasm and JS up and
 * libraries compile their kernels), then several timed repeats, each capped in time so that a
 * slow library (the reference backend, tfjs-cpu) cannot make the whole run take hours. The
 * reported value is the median of the repeats.
 */
import { median } from './report.js';

export interface Stepper {
  /** One step; training steps return the loss (read back to a number, which also syncs the library). */
  step(): number | void | Promise<number | void>;
  /** Work per step, in the unit's numerator after `scale`: FLOPs for SGEMM, samples for training. */
  workPerStep: number;
}

export interface Budget {
  /** Steps run before timing starts (at least one). */
  warmupSteps: number;
  /** Steps per timed repeat when time allows. */
  stepsPerRepeat: number;
  repeats: number;
  /** Wall-clock budget for warm-up plus repeats; repeats shrink (down to one step) to fit. */
  budgetMs: number;
}

export interface Measurement {
  /** Median over repeats of work/second × scale. */
  value: number;
  perRepeat: number[];
  /** Timed steps in all repeats. */
  timedSteps: number;
  /** Every loss returned, warm-up included, in order. */
  losses: number[];
  /** Set when the numbers are not a normal warm median, saying why (reported as the result's note). */
  caveat?: string;
}

export async function measure(s: Stepper, b: Budget, scale = 1): Promise<Measurement> {
  const losses: number[] = [];
  const run = async (): Promise<void> => {
    const l = await s.step();
    if (typeof l === 'number') losses.push(l);
  };
  const start = performance.now();
  // Warm-up: the first step is cold (compilation); when it alone blows the budget, that cold
  // step is the only figure we can afford, and the note says so.
  const t0 = performance.now();
  await run();
  const cold = performance.now() - t0;
  if (cold > b.budgetMs) {
    const v = (s.workPerStep / (cold / 1000)) * scale;
    return { value: v, perRepeat: [v], timedSteps: 1, losses, caveat: `single cold step (${(cold / 1000).toFixed(1)} s, over the ${(b.budgetMs / 1000).toFixed(0)} s budget; includes warm-up)` };
  }
  for (let i = 1; i < b.warmupSteps && performance.now() - start < b.budgetMs * 0.25; i++) await run();
  const perRepeat: number[] = [];
  let timedSteps = 0;
  let shortened = false;
  for (let r = 0; r < b.repeats; r++) {
    const left = b.budgetMs - (performance.now() - start);
    if (r > 0 && left <= 0) break;
    const cap = Math.max(left, 0) / (b.repeats - r);
    const r0 = performance.now();
    let steps = 0;
    while (steps < b.stepsPerRepeat) {
      await run();
      steps++;
      if (performance.now() - r0 > cap && steps < b.stepsPerRepeat) {
        shortened = true;
        break;
      }
    }
    const elapsed = (performance.now() - r0) / 1000;
    perRepeat.push(((steps * s.workPerStep) / elapsed) * scale);
    timedSteps += steps;
  }
  const m: Measurement = { value: median(perRepeat), perRepeat, timedSteps, losses };
  if (perRepeat.length < b.repeats || shortened) {
    m.caveat = `time-capped: ${perRepeat.length} of ${b.repeats} repeats, ${timedSteps} timed step${timedSteps === 1 ? '' : 's'}`;
  }
  return m;
}

/**
 * "first → last" loss summary; `decreased` compares the mean of the first and last quarter.
 * Needs four steps: Adam's first steps often overshoot, so two or three say nothing.
 */
export function lossTrend(losses: readonly number[]): { first: number; last: number; decreased: boolean } | null {
  if (losses.length < 4) return null;
  const q = Math.max(1, Math.floor(losses.length / 4));
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(losses.slice(0, q));
  const last = mean(losses.slice(-q));
  return { first, last, decreased: last < first };
}
