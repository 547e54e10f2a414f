/**
 * Stops training at the first non-finite loss (training or validation), gradient, or weight
 * after an optimizer step, with a message naming the step and the first parameter (in the
 * model's registration order, i.e. the layer closest to the input) holding NaN/Inf — the place to
 * start looking; when every weight is finite, the first layer whose output went non-finite. Runs
 * before gradient clipping, which would otherwise spread one bad value over every weight, and
 * stops the run before a checkpoint of the bad state is written.
 */
import { GradkitError } from '../../core/errors.js';
import { getGlobalRng } from '../../core/rng.js';
import { canReadSync, readNow } from '../../tensor/host.js';
import { andThen, isPromise, type Awaitable } from '../../core/awaitable.js';
import { keep } from '../../tensor/lifetime.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ORDER, type Callback } from '../callback.js';
import type { Trainer } from '../trainer.js';
import { checkedTensors, describeParameter, firstBadParameterSoon, firstBadSoon, locateNonFinite, nonFiniteCountsSoon } from './non-finite.js';

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

/** Stops training at the first non-finite loss or gradient with a NonFiniteError naming the step and the first bad parameter. */
export class NanGuard implements Callback {
  readonly name = 'nanGuard';
  readonly order = ORDER.nanGuard;
  /** The global generator's state at the start of the batch, so a replay redraws the same dropout masks. */
  private rngState: number[] | null = null;

  /** Writes nothing into trainer.logs. */
  logKeys(): string[] {
    return [];
  }

  private where(t: Trainer, step = t.step + 1): string {
    // t.step counts completed steps, so the step being taken is t.step + 1 (1-based).
    return `step ${step} (epoch ${t.epoch}, batch ${t.batchIndex})`;
  }

  beforeBatch(): void {
    this.rngState = getGlobalRng().getState();
  }

  /**
   * Validation losses are checked here. A training loss is checked in afterBackward together
   * with every gradient (one kernel call and one small read per step instead of one per tensor);
   * that is still before the optimizer step, so a bad batch is never applied. Every check reads
   * synchronously on a CPU backend and returns a promise on a GPU one (the Trainer awaits it
   * before going on); callbacks read `t.loss` when they run, since the Trainer swaps it for a
   * view while a hook is awaited.
   */
  afterLoss(t: Trainer): Awaitable<void> {
    if (t.loss === null || t.training) return;
    return andThen(readNow(t.loss), (v) => this.checkLoss(t, v[0]));
  }

  private checkLoss(t: Trainer, v: number): Awaitable<void> {
    if (Number.isFinite(v)) return;
    return andThen(firstBadParameterSoon(t.model, 'weights'), (bad) => {
      // Weights are checked after every step, so with finite weights the activations or the data are to blame.
      const cause = bad ? `the first weight to go non-finite is ${describeParameter(bad)}` : this.replay(t);
      const what = t.training ? `the loss is ${v} at ${this.where(t)}` : `the validation loss is ${v} at epoch ${t.epoch}, validation batch ${t.batchIndex}`;
      throw new NonFiniteError(`${what}; ${cause}. Lower the learning rate, clip gradients, or check the inputs`, t.training ? t.step + 1 : t.step, bad?.name ?? null);
    });
  }

  /**
   * The one read of a training step: a single flag array for the weights left by the previous
   * step (see afterStep), this step's loss and every gradient, all before the optimizer step.
   */
  afterBackward(t: Trainer): Awaitable<void> {
    const weights = this.pending !== null ? checkedTensors(t.model, 'weights') : [];
    const grads = checkedTensors(t.model, 'gradients');
    const withLoss = t.loss !== null && t.loss.size === 1;
    const checked = [...weights.map((e) => e[1]), ...(withLoss ? [t.loss!] : []), ...grads.map((e) => e[1])];
    return andThen(nonFiniteCountsSoon(checked), (counts) => andThen(this.settle(weights, counts), () => {
      if (withLoss && counts[weights.length] > 0) return andThen(readNow(t.loss!), (v) => this.checkLoss(t, v[0]));
      return andThen(firstBadSoon(grads, counts, weights.length + (withLoss ? 1 : 0)), (bad) => {
        if (!bad) return;
        return andThen(t.loss === null ? [NaN] : readNow(t.loss), (loss) => {
          throw new NonFiniteError(`non-finite gradient at ${this.where(t)}: the first gradient to go non-finite is ${describeParameter(bad)} (loss ${loss[0]}). Lower the learning rate, clip gradients, or check the inputs`, t.step + 1, bad.name);
        });
      });
    }));
  }

  /** The step whose resulting weights are not checked yet: where it was, and its loss (for the message). */
  private pending: { where: string; step: number; loss: Tensor | null } | null = null;

  /**
   * Finite gradients can still overflow the weights (a huge learning rate). Instead of a read
   * now, the weights are checked with the next step's flags (before they are used for another
   * step), and before anything persists or ends with them: a checkpoint (`flush`, called by the
   * Trainer and the Checkpoint callback), the end of the training phase, the epoch and the run.
   * The error names this step either way.
   */
  afterStep(t: Trainer): void {
    this.drop();
    // A view of the loss (one value) outlives the step's scope only for the error message.
    this.pending = { where: this.where(t, t.step), step: t.step, loss: t.loss === null ? null : keep(t.loss.detach()) };
  }

  /** Checks the weights of the last step now, if they are not checked yet (one read). */
  flush(t: Trainer): Awaitable<void> {
    if (this.pending === null) return;
    const weights = checkedTensors(t.model, 'weights');
    return andThen(nonFiniteCountsSoon(weights.map((e) => e[1])), (counts) => this.settle(weights, counts));
  }

  afterTrain(t: Trainer): Awaitable<void> {
    return this.flush(t);
  }

  afterEpoch(t: Trainer): Awaitable<void> {
    return this.flush(t);
  }

  afterFit(t: Trainer): Awaitable<void> {
    return this.flush(t);
  }

  /** Throws for the pending step when one of `weights` (counts from index 0) is non-finite; clears it. */
  private settle(weights: readonly [string, Tensor, readonly number[]][], counts: ArrayLike<number>): Awaitable<void> {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    return andThen(firstBadSoon(weights, counts), (bad) => {
      if (!bad) {
        p.loss?.dispose();
        return;
      }
      return andThen(p.loss === null ? [undefined] : readNow(p.loss), (loss) => {
        p.loss?.dispose();
        throw new NonFiniteError(`non-finite weight after ${p.where}: ${describeParameter(bad)} (loss ${loss[0]}). Lower the learning rate or clip gradients`, p.step, bad.name);
      });
    });
  }

  private drop(): void {
    this.pending?.loss?.dispose();
    this.pending = null;
  }

  private replay(t: Trainer): string {
    if (t.target === null) return 'no batch to replay';
    // The replay reads every layer's output synchronously; a GPU backend cannot.
    if (!canReadSync(t.target)) return 'every weight is finite, so an activation or the data went non-finite (the replay that names the layer reads synchronously: rerun this batch on the wasm backend to find it)';
    return locateNonFinite({ model: t.model, forward: t.forwardFn, loss: t.lossFn, inputs: t.inputs, target: t.target, training: t.training, rngState: this.rngState });
  }
}

/** flushNanGuards on any backend: awaits each guard's read (a GPU cannot read synchronously). */
export async function settleNanGuards(t: Trainer): Promise<void> {
  for (const c of t.callbacks) if (c instanceof NanGuard) await c.flush(t);
}

/** Checks the weights of the last step with every NanGuard of `t` now (before a checkpoint captures them). */
export function flushNanGuards(t: Trainer): void {
  for (const c of t.callbacks) {
    if (!(c instanceof NanGuard)) continue;
    const r = c.flush(t);
    if (isPromise(r)) {
      r.catch(() => undefined); // the error below says what to do instead
      throw new GradkitError('Trainer.checkpoint', `the ${t.model.parameters()[0]?.backend.name ?? 'current'} backend reads asynchronously: use await trainer.saveCheckpoint() or checkpointBytesAsync()`);
    }
  }
}
