import { GradkitError } from '../core/errors.js';
import type { HasLrGroups } from './scheduler.js';
import { checkNumber } from './validate.js';

/** Options of ReduceLrOnPlateau: which direction is better, the reduction factor, patience, threshold, cooldown and minimum rate. */
export interface ReduceLrOnPlateauOptions {
  /** 'min' (default: a loss) or 'max' (an accuracy): which direction is better. */
  mode?: 'min' | 'max';
  /** Multiply the lr by this on a plateau (default 0.1). */
  factor?: number;
  /** Bad epochs tolerated before reducing (default 10). */
  patience?: number;
  /** Least change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): relative to the best value; 'abs': absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again (default 0). */
  cooldown?: number;
  /** Lower bound on the lr, one for all groups or one per group (default 0). */
  minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/** The saved state of ReduceLrOnPlateau (best value, bad-epoch and cooldown counters), for checkpoints. */
export interface ReduceLrOnPlateauState {
  best: number | null;
  numBadEpochs: number;
  cooldownCounter: number;
  epoch: number;
}

/**
 * Lowers the learning rate when a monitored metric stops improving (PyTorch ReduceLROnPlateau):
 * call step(valLoss) once per epoch.
 */
export class ReduceLrOnPlateau {
  private readonly mode: 'min' | 'max';
  private readonly factor: number;
  private readonly patience: number;
  private readonly threshold: number;
  private readonly thresholdMode: 'rel' | 'abs';
  private readonly cooldown: number;
  private readonly minLrs: number[];
  private readonly eps: number;
  best: number | null = null;
  numBadEpochs = 0;
  cooldownCounter = 0;
  epoch = 0;

  constructor(readonly optimizer: HasLrGroups, opts: ReduceLrOnPlateauOptions = {}) {
    const op = 'ReduceLrOnPlateau';
    this.mode = opts.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max') throw new GradkitError(op, `mode must be 'min' or 'max', got ${String(this.mode)}`);
    this.factor = checkNumber(op, 'factor', opts.factor ?? 0.1, { min: 0, max: 1, maxExclusive: true });
    this.patience = checkNumber(op, 'patience', opts.patience ?? 10, { min: 0, integer: true });
    this.threshold = checkNumber(op, 'threshold', opts.threshold ?? 1e-4, { min: 0 });
    this.thresholdMode = opts.thresholdMode ?? 'rel';
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') throw new GradkitError(op, `thresholdMode must be 'rel' or 'abs', got ${String(this.thresholdMode)}`);
    this.cooldown = checkNumber(op, 'cooldown', opts.cooldown ?? 0, { min: 0, integer: true });
    this.eps = checkNumber(op, 'eps', opts.eps ?? 1e-8, { min: 0 });
    const n = optimizer.paramGroups.length;
    const minLr = opts.minLr ?? 0;
    if (Array.isArray(minLr)) {
      if (minLr.length !== n) throw new GradkitError(op, `minLr has ${minLr.length} entries but the optimizer has ${n} parameter groups`);
      this.minLrs = minLr.map((m, i) => checkNumber(op, `minLr[${i}]`, m, { min: 0 }));
    } else {
      this.minLrs = new Array<number>(n).fill(checkNumber(op, 'minLr', minLr, { min: 0 }));
    }
  }

  private isBetter(x: number): boolean {
    if (this.best === null) return true;
    const b = this.best;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? x < b * (1 - this.threshold) : x < b - this.threshold;
    return this.thresholdMode === 'rel' ? x > b * (1 + this.threshold) : x > b + this.threshold;
  }

  /** Records this epoch's metric; reduces the lr after more than `patience` epochs without improvement. */
  step(metric: number): void {
    if (typeof metric !== 'number' || !Number.isFinite(metric)) {
      throw new GradkitError('ReduceLrOnPlateau', `the monitored metric at epoch ${this.epoch} is ${String(metric)}; expected a finite number (did the loss diverge?)`);
    }
    this.epoch++;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const next = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - next > this.eps) g.lr = next;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  getLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): ReduceLrOnPlateauState {
    return { best: this.best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter, epoch: this.epoch };
  }

  loadStateDict(sd: ReduceLrOnPlateauState): void {
    const op = 'ReduceLrOnPlateau.loadStateDict';
    if (sd === null || typeof sd !== 'object') throw new GradkitError(op, 'expected an object from stateDict()');
    if (sd.best !== null) checkNumber(op, 'best', sd.best);
    checkNumber(op, 'numBadEpochs', sd.numBadEpochs, { min: 0, integer: true });
    checkNumber(op, 'cooldownCounter', sd.cooldownCounter, { min: 0, integer: true });
    checkNumber(op, 'epoch', sd.epoch, { min: 0, integer: true });
    Object.assign(this, { best: sd.best, numBadEpochs: sd.numBadEpochs, cooldownCounter: sd.cooldownCounter, epoch: sd.epoch });
  }
}
