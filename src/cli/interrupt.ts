/**
 * Ctrl-C (SIGINT) and SIGTERM during training: the run stops after the current batch instead of
 * dying mid-write, so the lock is released, summary.json records the interruption and the last
 * checkpoint is intact; the exit code is the shell's convention (130 for SIGINT, 143 for
 * SIGTERM). A second signal stops at once (the lock goes at exit; a checkpoint being written
 * stays whole because writes are atomic).
 */
import { GradkitError } from '../core/errors.js';
import type { Callback } from '../train/callback.js';
import type { Trainer } from '../train/trainer.js';

export interface InterruptWatch {
  /** The signal received, or null. */
  readonly signal: string | null;
  /** Removes the handlers (the default behaviour returns). */
  dispose(): void;
}

const EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export class Interrupted extends GradkitError {
  readonly exitCode: number;
  constructor(signal: string, message: string) {
    super('gradkit', message);
    this.message = message;
    this.exitCode = EXIT_CODES[signal] ?? 1;
  }
}

/** Node: catches SIGINT and SIGTERM until disposed. */
export function watchProcessSignals(): InterruptWatch {
  let signal: string | null = null;
  const onSignal = (s: NodeJS.Signals): void => {
    if (signal !== null) process.exit(EXIT_CODES[s] ?? 1);
    signal = s;
    process.stderr.write(`gradkit: ${s} received; stopping after the current batch (send it again to stop now)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    get signal() {
      return signal;
    },
    dispose() {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}

/** Stops training after the batch during which a signal arrived. */
/** `after`: what the message says after the step, e.g. which checkpoint is intact and how to go on. */
export function interruptCallback(watch: InterruptWatch, after: string): Callback {
  let lastYield = Date.now();
  return {
    name: 'interrupt',
    order: 99, // after the checkpoint and the log of this batch
    async afterBatch(t: Trainer) {
      // The training loop never waits on I/O, so signal handlers (macrotasks) would only run after
      // fit() returns; let the event loop turn a few times a second (setImmediate costs microseconds).
      if (Date.now() - lastYield > 100) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = Date.now();
      }
      if (watch.signal === null) return;
      throw new Interrupted(watch.signal, `interrupted by ${watch.signal} in epoch ${t.epoch + 1} at step ${t.step}; ${after}`);
    },
  };
}
