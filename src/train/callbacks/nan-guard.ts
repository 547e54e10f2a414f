/**
 * Stops training at the first non-finite loss or gradient, with a message naming the step and
 * the first parameter (in the model's registration order, i.e. the layer closest to the input)
 * whose gradient holds NaN/Inf — the place to start looking. Runs before gradient clipping,
 * which would otherwise spread one bad value over every weight.
 */
import { GradkitError } from '../../core/errors.js';
import { ORDER, type Callback } from '../callback.js';
import type { Trainer } from '../trainer.js';

/** Thrown by NanGuard; a GradkitError so callers can report it like any bad input. */
export class NonFiniteError extends GradkitError {
  readonly step: number;
  readonly parameter: string | null;
  constructor(message: string, step: number, parameter: string | null) {
    super('NanGuard', message);
    this.name = 'GradkitError';
    this.step = step;
    this.parameter = parameter;
  }
}

function firstBad(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

/** Stops training at the first non-finite loss or gradient with a NonFiniteError naming the step and the first bad parameter. */
export class NanGuard implements Callback {
  readonly name = 'nanGuard';
  readonly order = ORDER.nanGuard;

  private where(t: Trainer): string {
    // t.step counts completed steps, so the step being taken is t.step + 1 (1-based).
    return `step ${t.step + 1} (epoch ${t.epoch}, batch ${t.batchIndex})`;
  }

  afterLoss(t: Trainer): void {
    if (!t.training || t.loss === null) return;
    const v = t.loss.item();
    if (!Number.isFinite(v)) {
      const bad = this.firstBadGrad(t, true);
      throw new NonFiniteError(`the loss is ${v} at ${this.where(t)}${bad ? `; ${bad.detail}` : ''}. Lower the learning rate, clip gradients, or check the inputs`, t.step + 1, bad?.name ?? null);
    }
  }

  afterBackward(t: Trainer): void {
    const bad = this.firstBadGrad(t, false);
    if (bad) {
      throw new NonFiniteError(`non-finite gradient at ${this.where(t)}: ${bad.detail} (loss ${t.loss?.item()}). Lower the learning rate, clip gradients, or check the inputs`, t.step + 1, bad.name);
    }
  }

  private firstBadGrad(t: Trainer, weightsOnly: boolean): { name: string; detail: string } | null {
    for (const [name, p] of t.model.namedParameters()) {
      const arr = weightsOnly ? p.buffer : p.grad?.buffer;
      if (arr === undefined) continue;
      const i = firstBad(arr);
      if (i >= 0) {
        const what = weightsOnly ? 'weight' : 'gradient';
        return { name, detail: `the first ${what} to go non-finite is parameter '${name}' [${p.shape.join(', ')}] (element ${i} is ${arr[i]})` };
      }
    }
    return null;
  }
}
