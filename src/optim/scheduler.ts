import { GradkitError } from '../core/errors.js';
import type { Schedule } from './transforms.js';

/** What a scheduler drives: anything with parameter groups holding a mutable lr (every Optimizer). */
export interface HasLrGroups {
  paramGroups: { lr: number; initialLr: number }[];
}

/** Builds a group's schedule from that group's initial lr (so groups keep their ratios). */
export type ScheduleFactory = (baseLr: number, groupIndex: number) => Schedule;

/**
 * Sets each group's lr from a pure schedule of the step: on construction to schedule(0), and
 * to schedule(n) after the n-th step() (call it once per optimizer step or per epoch).
 *
 *   const sched = new LrScheduler(opt, (lr) => cosineAnnealing({ baseLr: lr, tMax: epochs }));
 */
export class LrScheduler {
  private readonly schedules: Schedule[];
  /** How many times step() has run. */
  stepCount = 0;

  constructor(readonly optimizer: HasLrGroups, factory: ScheduleFactory) {
    if (typeof factory !== 'function') throw new GradkitError('LrScheduler', 'expected a function (baseLr, groupIndex) => schedule');
    this.schedules = optimizer.paramGroups.map((g, i) => {
      const s = factory(g.initialLr, i);
      if (typeof s !== 'function') throw new GradkitError('LrScheduler', `the factory returned ${typeof s} for group ${i}, not a schedule function`);
      return s;
    });
    this.apply();
  }

  private apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const lr = this.schedules[i](this.stepCount);
      if (!Number.isFinite(lr) || lr < 0) throw new GradkitError('LrScheduler', `the schedule of group ${i} gave lr ${lr} at step ${this.stepCount}; expected a finite number >= 0`);
      g.lr = lr;
    });
  }

  step(): void {
    this.stepCount++;
    this.apply();
  }

  getLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): { stepCount: number } {
    return { stepCount: this.stepCount };
  }

  loadStateDict(sd: { stepCount: number }): void {
    if (sd === null || typeof sd !== 'object' || !Number.isInteger(sd.stepCount) || sd.stepCount < 0) {
      throw new GradkitError('LrScheduler.loadStateDict', `expected { stepCount: integer >= 0 }, got ${JSON.stringify(sd)}`);
    }
    this.stepCount = sd.stepCount;
    this.apply();
  }
}
