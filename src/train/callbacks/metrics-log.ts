/**
 * A JSON-lines metrics log: one object per epoch ({ epoch, step, loss, accuracy, valLoss, … })
 * and, with everySteps, one per that many optimizer steps ({ epoch, step, batch, loss }).
 * Checkpoints record how many lines the log had; a resumed run first cuts the log back to that,
 * so lines written between the checkpoint and a crash are not duplicated.
 */
import { GradkitError } from '../../core/errors.js';
import { andThen, type Awaitable } from '../../core/awaitable.js';
import { ORDER, type Callback } from '../callback.js';
import type { Storage } from '../storage.js';
import type { Trainer } from '../trainer.js';

/** Options of MetricsLog: the storage, the JSON-lines file path and how often (in steps) to add a line. */
export interface MetricsLogOptions {
  storage: Storage;
  path: string;
  everySteps?: number;
}

/** Appends per-epoch (and optionally per-step) metrics as JSON lines to metrics.jsonl through the Storage. */
export class MetricsLog implements Callback {
  readonly name = 'metricsLog';
  readonly order = ORDER.log;
  readonly storage: Storage;
  readonly path: string;
  readonly everySteps: number | null;

  /** Writes nothing into trainer.logs. */
  logKeys(): string[] {
    return [];
  }

  constructor(opts: MetricsLogOptions) {
    if (opts?.storage === undefined || typeof opts.path !== 'string') throw new GradkitError('MetricsLog', 'expected { storage, path }');
    this.storage = opts.storage;
    this.path = opts.path;
    this.everySteps = opts.everySteps ?? null;
    if (this.everySteps !== null && (!Number.isInteger(this.everySteps) || this.everySteps < 1)) throw new GradkitError('MetricsLog', `everySteps must be a positive integer, got ${this.everySteps}`);
  }

  /** Lines written so far (over the whole run, resumes included). */
  lines = 0;
  private truncateTo: number | null = null;

  private async line(obj: Record<string, unknown>): Promise<void> {
    await this.storage.append(this.path, `${JSON.stringify(obj)}\n`);
    this.lines++;
  }

  async beforeFit(): Promise<void> {
    if (this.truncateTo === null) return;
    const keep = this.truncateTo;
    this.truncateTo = null;
    if (!(await this.storage.exists(this.path))) return;
    const text = new TextDecoder().decode(await this.storage.read(this.path));
    const all = text.split('\n');
    if (all[all.length - 1] === '') all.pop();
    const kept = all.slice(0, keep);
    await this.storage.writeAtomic(this.path, kept.length > 0 ? `${kept.join('\n')}\n` : '');
  }

  stateDict(): unknown {
    return { lines: this.lines };
  }

  loadStateDict(s: unknown): void {
    const n = (s as { lines?: unknown } | null)?.lines;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new GradkitError('MetricsLog.loadStateDict', `expected { lines: integer >= 0 }, got ${JSON.stringify(s)}`);
    this.lines = n;
    this.truncateTo = n;
  }

  // A promise only when a line is written: the Trainer runs synchronous hooks inside the step's scope.
  afterBatch(t: Trainer): Promise<void> | void {
    if (!t.training || this.everySteps === null || t.loss === null || t.step % this.everySteps !== 0) return;
    const at = { epoch: t.epoch, batch: t.batchIndex, step: t.step };
    return andThen(t.readLoss(), (loss) => this.line({ kind: 'step', ...at, loss }));
  }

  async afterEpoch(t: Trainer): Promise<void> {
    await this.line({ kind: 'epoch', ...t.logs, step: t.step });
  }
}
