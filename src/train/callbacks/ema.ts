/**
 * Keeps an exponential moving average of the weights (optim.EMA), validates with the averaged
 * weights swapped in, and (by default) leaves the averages in the model at the end of fit.
 */
import { EMA, type EMAOptions, type EMAStateDict } from '../../optim/ema.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ORDER, type Callback } from '../callback.js';
import type { Trainer } from '../trainer.js';

/** Options of the EmaWeights callback: the EMA options plus whether the averages replace the weights at the end. */
export interface EmaCallbackOptions extends EMAOptions {
  /** Copy the averages into the model when fit ends (default true). */
  applyAtEnd?: boolean;
}

/** Keeps an exponential moving average of the weights, validates with it swapped in, and (by default) leaves it in the model at the end. */
export class EmaWeights implements Callback {
  readonly name = 'ema';
  readonly order = ORDER.ema;
  readonly ema: EMA;
  readonly applyAtEnd: boolean;
  private swapped = false;

  /** Writes nothing into trainer.logs. */
  logKeys(): string[] {
    return [];
  }

  constructor(params: Iterable<Tensor>, opts: EmaCallbackOptions = {}) {
    const { applyAtEnd, ...emaOpts } = opts;
    this.ema = new EMA(params, emaOpts);
    this.applyAtEnd = applyAtEnd ?? true;
  }

  afterStep(): void {
    this.ema.update();
  }

  beforeValidate(): void {
    this.ema.swapIn();
    this.swapped = true;
  }

  afterValidate(): void {
    this.swapOut();
  }

  afterCancelEpoch(): void {
    this.swapOut();
  }

  private swapOut(): void {
    if (this.swapped) this.ema.swapOut();
    this.swapped = false;
  }

  afterFit(_t: Trainer): void {
    this.swapOut();
    if (this.applyAtEnd) this.ema.copyTo(this.ema.params);
  }

  stateDict(): unknown {
    return this.ema.stateDict();
  }

  loadStateDict(s: unknown): void {
    this.ema.loadStateDict(s as EMAStateDict);
  }
}
