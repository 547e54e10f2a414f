/**
 * Early stopping: ends training when the monitored metric has not improved by more than
 * `minDelta` for `patience` epochs. With restoreBestWeights (default true) the model ends
 * fit() holding the weights (and BatchNorm statistics) of its best epoch.
 */
import { GradkitError } from '../../core/errors.js';
import type { StateDict } from '../../nn/module.js';
import { ORDER, type Callback } from '../callback.js';
import type { Trainer } from '../trainer.js';
import { autoMode, checkMode, improved, readMonitor, type Mode } from './monitor.js';
import { keep } from '../../tensor/lifetime.js';

/** Options of EarlyStopping: the watched metric and direction, patience, minimum change and weight restoring. */
export interface EarlyStoppingOptions {
  /** Key of trainer.logs to watch (default 'valLoss'). */
  monitor?: string;
  /** 'min' or 'max' (default: 'max' for accuracy-like names, else 'min'). */
  mode?: Mode;
  /** Epochs without improvement before stopping (default 3). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Put the best epoch's weights back at the end of fit (default true). */
  restoreBestWeights?: boolean;
}

/** Stops training when a monitored metric has not improved for `patience` epochs; can restore the best weights. */
export class EarlyStopping implements Callback {
  readonly name = 'earlyStopping';
  readonly order = ORDER.earlyStopping;
  readonly monitor: string;
  readonly mode: Mode;
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBestWeights: boolean;
  best: number;
  bestEpoch = -1;
  wait = 0;
  private bestWeights: StateDict | null = null;

  /** Writes nothing into trainer.logs. */
  logKeys(): string[] {
    return [];
  }

  constructor(opts: EarlyStoppingOptions = {}) {
    const op = 'EarlyStopping';
    this.monitor = opts.monitor ?? 'valLoss';
    this.mode = checkMode(op, opts.mode ?? autoMode(this.monitor));
    this.patience = opts.patience ?? 3;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new GradkitError(op, `patience must be a non-negative integer, got ${this.patience}`);
    this.minDelta = opts.minDelta ?? 0;
    if (!(this.minDelta >= 0)) throw new GradkitError(op, `minDelta must be >= 0, got ${this.minDelta}`);
    this.restoreBestWeights = opts.restoreBestWeights ?? true;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  afterEpoch(t: Trainer): void {
    const v = readMonitor('EarlyStopping', t, this.monitor);
    if (improved(this.mode, v, this.best, this.minDelta)) {
      this.best = v;
      this.bestEpoch = t.epoch;
      this.wait = 0;
      if (this.restoreBestWeights) {
        // Copies kept past any scope; the previous best's copies are freed now, not by the collector.
        if (this.bestWeights !== null) for (const w of this.bestWeights.values()) w.dispose();
        this.bestWeights = t.model.stateDict();
        for (const w of this.bestWeights.values()) keep(w);
      }
      return;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      t.requestStop(`early stopping: ${this.monitor} has not improved for ${this.wait} epoch(s); best ${this.best} at epoch ${this.bestEpoch}`);
    }
  }

  afterFit(t: Trainer): void {
    if (this.restoreBestWeights && this.bestWeights !== null && this.bestEpoch !== t.epoch - 1) {
      t.model.loadStateDict(this.bestWeights);
    }
  }

  stateDict(): unknown {
    return { best: this.best, bestEpoch: this.bestEpoch, wait: this.wait, bestWeights: this.bestWeights };
  }

  loadStateDict(s: unknown): void {
    const o = s as { best: number; bestEpoch: number; wait: number; bestWeights: StateDict | null };
    if (o === null || typeof o !== 'object' || typeof o.best !== 'number' || !Number.isInteger(o.wait)) {
      throw new GradkitError('EarlyStopping.loadStateDict', `expected { best, bestEpoch, wait, bestWeights }, got ${typeof s}`);
    }
    if (o.bestWeights !== null && !(o.bestWeights instanceof Map)) throw new GradkitError('EarlyStopping.loadStateDict', 'bestWeights must be a state dict');
    Object.assign(this, { best: o.best, bestEpoch: o.bestEpoch, wait: o.wait, bestWeights: o.bestWeights });
  }
}
