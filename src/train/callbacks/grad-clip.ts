/** Gradient clipping after backward: by global L2 norm (logged as 'gradNorm') and/or by value. */
import { GradkitError } from '../../core/errors.js';
import { clipGradNormSoon, clipGradValue } from '../../optim/clip.js';
import { andThen, type Awaitable } from '../../core/awaitable.js';
import type { Tensor } from '../../tensor/tensor.js';
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

  afterBackward(t: Trainer): Awaitable<void> {
    const params = t.optimizer.paramGroups.flatMap((g) => g.params);
    // Clipping replaces each .grad; the Trainer owns the gradients it made (it frees them every
    // step), so the replaced ones are freed here rather than left to the garbage collector.
    const freeReplaced = (before: (Tensor | null)[]): void => before.forEach((g, i) => {
      if (g !== null && g !== params[i].grad) g.dispose();
    });
    let before = params.map((p) => p.grad);
    if (this.maxValue !== undefined) {
      clipGradValue(params, this.maxValue);
      freeReplaced(before);
      before = params.map((p) => p.grad);
    }
    // The gradients are clipped at once; the norm is read (awaited on a GPU) for the log.
    const norm = this.maxNorm === undefined ? null : clipGradNormSoon(params, this.maxNorm);
    freeReplaced(before);
    if (norm !== null) return andThen(norm, (n) => void (this.lastNorm = n));
  }
}
