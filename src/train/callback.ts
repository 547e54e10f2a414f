import type { EventName } from './events.js';
import type { Trainer } from './trainer.js';

/** The hook for one event: may be async (a checkpoint write, a log flush). */
export type Hook = (trainer: Trainer) => void | Promise<void>;

/**
 * A callback reacts to training events. Callbacks run in ascending `order` (default 50; ties
 * keep the order given). A callback that holds state a resumed run needs (early stopping's best
 * value, EMA averages, a scheduler) implements stateDict/loadStateDict; the state goes into
 * checkpoints under the callback's `name`, which must therefore be unique.
 *
 * ```ts
 * const printer: Callback = { name: 'printer', afterEpoch: (t) => console.log(t.epoch, t.logs) };
 * ```
 */
export type Callback = {
  readonly name: string;
  readonly order?: number;
  stateDict?(): unknown;
  loadStateDict?(state: unknown): void;
  /**
   * The keys this callback writes into `trainer.logs` ([] for none; null when they are only known
   * while training). The Trainer checks monitor names against them before the first batch. A
   * callback without it that has an afterBatch/afterTrain/afterValidate/afterEpoch hook may write
   * anything, and then an unknown monitor is only caught when it is first read.
   */
  logKeys?(trainer: Trainer): readonly string[] | null;
} & {
  [E in EventName]?: Hook;
};

/** Callback order constants: metrics first, then what reads them, checkpoints and reporting last. */
export const ORDER = {
  nanGuard: 5,
  metrics: 10,
  gradClip: 20,
  ema: 30,
  lrSchedule: 40,
  earlyStopping: 60,
  /** Before checkpoints, so a checkpoint knows how much of the log it covers. */
  log: 70,
  checkpoint: 80,
  progress: 95,
} as const;
