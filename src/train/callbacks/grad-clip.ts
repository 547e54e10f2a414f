/** Gradient clipping after backward: by global L2 norm (logged as 'gradNorm') and/or by value. */
import { GradkitError } from '../../core/errors.js';
import { clipGradNorm, clipGradValue } from '../../optim/clip.js';
import { ORDER, type Callback } from '../callback.js';
import type { Trainer } from '../trainer.js';

/** Options of the GradClip callback: clip by global norm, by value, or both. */
export interface GradClipOptions {
  /** Rescale all gradients together so their global L2 norm is at most this. */
  maxNorm?: number;
  /** Clamp every gradient element to [−maxValue, maxValue]. */
  maxValue?: number;
}

/** Clips gradients (by global norm or by value) after backward, before each optimizer step. */
export class GradClip implements Callback {
  readonly name = 'gradClip';
  readonly order = ORDER.gradClip;
  readonly maxNorm: number | undefined;
  readonly maxValue: number | undefined;
  /** Global norm before clipping, at the last step. */
  lastNorm = NaN;

  /** Writes nothing into trainer.logs. */
  logKeys(): string[] {
    return [];
  }

  constructor(opts: GradClipOptions) {
    if (opts?.maxNorm === undefined && opts?.maxValue === undefined) throw new GradkitError('GradClip', 'give maxNorm, maxValue or both');
    this.maxNorm = opts.maxNorm;
    this.maxValue = opts.maxValue;
  }

  afterBackward(t: Trainer): void {
    const params = t.optimizer.paramGroups.flatMap((g) => g.params);
    if (this.maxValue !== undefined) clipGradValue(params, this.maxValue);
    if (this.maxNorm !== undefined) this.lastNorm = clipGradNorm(params, this.maxNorm);
  }
}
