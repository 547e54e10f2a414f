/**
 * The default metrics: mean loss, accuracy and top-k accuracy over each epoch's training
 * batches ('loss', 'accuracy', 'top5', …) and validation batches ('valLoss', 'valAccuracy',
 * 'valTop5'), weighted by batch size, written into `trainer.logs`. Accuracy is computed for
 * classification outputs [N, C] with integer labels [N] or soft targets [N, C] (argmax).
 */
import { GradkitError } from '../../core/errors.js';
import { andThen, type Awaitable } from '../../core/awaitable.js';
import { batchStats } from '../batch-stats.js';
import { ORDER, type Callback } from '../callback.js';
import type { Trainer } from '../trainer.js';

/** Options of MetricsCallback: whether accuracy and which top-k accuracies are computed. */
export interface MetricsOptions {
  /** Compute accuracy when outputs look like class scores [N, C] (default true). */
  accuracy?: boolean;
  /** Also top-k accuracies for these k (e.g. [5]); default none. */
  topK?: number[];
}

interface Acc {
  n: number;
  lossSum: number;
  /** Samples scored for accuracy (outputs that are not [N, C] are skipped). */
  scored: number;
  correct: number;
  topCorrect: number[];
}

const fresh = (k: number): Acc => ({ n: 0, lossSum: 0, scored: 0, correct: 0, topCorrect: new Array<number>(k).fill(0) });

/** The default metrics: mean loss, accuracy and top-k accuracy over each epoch's training and validation batches, written into trainer.logs. */
export class MetricsCallback implements Callback {
  readonly name = 'metrics';
  readonly order = ORDER.metrics;
  readonly accuracy: boolean;
  readonly topK: number[];
  private train: Acc;
  private valid: Acc;

  constructor(opts: MetricsOptions = {}) {
    this.accuracy = opts.accuracy ?? true;
    this.topK = [...(opts.topK ?? [])];
    for (const k of this.topK) if (!Number.isInteger(k) || k < 1) throw new GradkitError('MetricsCallback', `topK entries must be positive integers, got ${k}`);
    this.train = fresh(this.topK.length);
    this.valid = fresh(this.topK.length);
  }

  logKeys(t: Trainer): string[] {
    const keys = ['loss', ...(this.accuracy ? ['accuracy', ...this.topK.map((k) => `top${k}`)] : [])];
    const val = t.validData === undefined ? [] : keys.map((k) => `val${k[0].toUpperCase()}${k.slice(1)}`);
    return [...keys, 'lr', ...val];
  }

  afterBatch(t: Trainer): Awaitable<void> {
    if (t.loss === null || t.target === null) return; // a cancelled batch counts for nothing
    const acc = t.training ? this.train : this.valid;
    const n = t.target.shape[0] ?? 1;
    // The loss and the accuracy counts come back in one read (computed on the backend; awaited
    // by the Trainer on a GPU backend).
    return andThen(batchStats(t.loss, t.output, t.target, { accuracy: this.accuracy, topK: this.topK }), (s) => {
      t.lossValue = s.loss; // shared with later callbacks (Trainer.readLoss): one read per batch
      acc.n += n;
      acc.lossSum += s.loss * n;
      if (!s.scored) return;
      acc.scored += n;
      acc.correct += s.correct;
      this.topK.forEach((_, q) => (acc.topCorrect[q] += s.topCorrect[q]));
    });
  }

  private write(t: Trainer, acc: Acc, prefix: string): void {
    const key = (name: string): string => (prefix === '' ? name : `${prefix}${name[0].toUpperCase()}${name.slice(1)}`);
    if (acc.n > 0) t.logs[key('loss')] = acc.lossSum / acc.n;
    if (acc.scored > 0) {
      t.logs[key('accuracy')] = acc.correct / acc.scored;
      this.topK.forEach((k, q) => (t.logs[key(`top${k}`)] = acc.topCorrect[q] / acc.scored));
    }
  }

  afterTrain(t: Trainer): void {
    this.write(t, this.train, '');
    t.logs.lr = t.optimizer.getLr()[0];
    this.train = fresh(this.topK.length);
  }

  afterValidate(t: Trainer): void {
    this.write(t, this.valid, 'val');
    this.valid = fresh(this.topK.length);
  }

  afterCancelEpoch(): void {
    this.train = fresh(this.topK.length);
    this.valid = fresh(this.topK.length);
  }

  /** Only the training accumulators: checkpoints are never taken mid-validation. */
  stateDict(): unknown {
    return { ...this.train, topCorrect: [...this.train.topCorrect] };
  }

  loadStateDict(s: unknown): void {
    const a = s as Acc;
    if (a === null || typeof a !== 'object' || !Array.isArray(a.topCorrect) || a.topCorrect.length !== this.topK.length) {
      throw new GradkitError('MetricsCallback.loadStateDict', `expected accumulators for top-k [${this.topK.join(', ')}], got ${JSON.stringify(s)}`);
    }
    this.train = { n: a.n, lossSum: a.lossSum, scored: a.scored, correct: a.correct, topCorrect: [...a.topCorrect] };
  }
}
