/** Learning-rate scheduling as callbacks: a step/epoch schedule, or reduce-on-plateau from a metric. */
import { GradkitError } from '../../core/errors.js';
import type { LrScheduler } from '../../optim/scheduler.js';
import type { ReduceLrOnPlateau, ReduceLrOnPlateauState } from '../../optim/plateau.js';
import { ORDER, type Callback } from '../callback.js';
import type { Trainer } from '../trainer.js';
import { readMonitor } from './monitor.js';

/** Options of the LrSchedule callback: the scheduler and whether it advances per step or per epoch. */
export interface LrScheduleOptions {
  scheduler: LrScheduler;
  /** Advance the schedule after every optimizer step (default) or after every epoch. */
  interval?: 'step' | 'epoch';
}

/** Steps an LrScheduler after every optimizer step or every epoch (its `interval`). */
export class LrSchedule implements Callback {
  readonly name = 'lrSchedule';
  readonly order = ORDER.lrSchedule;
  readonly scheduler: LrScheduler;
  readonly interval: 'step' | 'epoch';

  /** Writes nothing into trainer.logs. */
  logKeys(): string[] {
    return [];
  }

  constructor(opts: LrScheduleOptions) {
    if (opts?.scheduler === undefined || typeof opts.scheduler.step !== 'function') throw new GradkitError('LrSchedule', 'scheduler must be an optim.LrScheduler');
    this.scheduler = opts.scheduler;
    this.interval = opts.interval ?? 'step';
    if (this.interval !== 'step' && this.interval !== 'epoch') throw new GradkitError('LrSchedule', `interval must be 'step' or 'epoch', got ${JSON.stringify(this.interval)}`);
  }

  afterStep(): void {
    if (this.interval === 'step') this.scheduler.step();
  }

  afterEpoch(): void {
    if (this.interval === 'epoch') this.scheduler.step();
  }

  stateDict(): unknown {
    return this.scheduler.stateDict();
  }

  loadStateDict(s: unknown): void {
    this.scheduler.loadStateDict(s as { stepCount: number });
  }
}

/** Options of the PlateauSchedule callback: the ReduceLrOnPlateau scheduler and the metric it watches. */
export interface PlateauScheduleOptions {
  scheduler: ReduceLrOnPlateau;
  /** Metric to watch (default 'valLoss'); the scheduler's mode says which direction is better. */
  monitor?: string;
}

/** Lowers the learning rate when a monitored metric (default valLoss) stops improving. */
export class PlateauSchedule implements Callback {
  readonly name = 'plateauSchedule';
  readonly order = ORDER.lrSchedule;
  readonly scheduler: ReduceLrOnPlateau;
  readonly monitor: string;

  /** Writes nothing into trainer.logs. */
  logKeys(): string[] {
    return [];
  }

  constructor(opts: PlateauScheduleOptions) {
    if (opts?.scheduler === undefined || typeof opts.scheduler.step !== 'function') throw new GradkitError('PlateauSchedule', 'scheduler must be an optim.ReduceLrOnPlateau');
    this.scheduler = opts.scheduler;
    this.monitor = opts.monitor ?? 'valLoss';
  }

  afterEpoch(t: Trainer): void {
    this.scheduler.step(readMonitor('PlateauSchedule', t, this.monitor));
  }

  stateDict(): unknown {
    return this.scheduler.stateDict();
  }

  loadStateDict(s: unknown): void {
    this.scheduler.loadStateDict(s as ReduceLrOnPlateauState);
  }
}
