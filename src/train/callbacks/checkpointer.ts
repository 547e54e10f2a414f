/**
 * Saves checkpoints while training: `last` at the end of every epoch (and every `everySteps`
 * optimizer steps, if set), `best` whenever the monitored metric improves. Every write is
 * atomic (the storage writes a temp file and renames it), so a crash mid-write leaves the
 * previous checkpoint whole. Weights holding NaN/Inf are never written.
 */
import { GradkitError } from '../../core/errors.js';
import { ORDER, type Callback } from '../callback.js';
import { joinPath, type Storage } from '../storage.js';
import type { Trainer } from '../trainer.js';
import { firstBadParameterSoon } from './non-finite.js';
import { settleNanGuards } from './nan-guard.js';
import { autoMode, checkMode, improved, readMonitor, type Mode } from './monitor.js';

/** Options of the Checkpoint callback: where checkpoints go, how often, which metric picks the best, and file names. */
export interface CheckpointOptions {
  storage: Storage;
  /** Folder for the files (created if missing). */
  dir: string;
  /** Also save `last` every this many optimizer steps (default: only at epoch ends). */
  everySteps?: number;
  /** Metric deciding `best` (default 'valLoss'); null saves no best checkpoint. */
  monitor?: string | null;
  mode?: Mode;
  /** File names (default 'last.ckpt', 'best.ckpt'). */
  lastName?: string;
  bestName?: string;
}

/** Saves the last and the best checkpoints (model, optimizer, RNG and loader state) atomically through the Storage. */
export class Checkpoint implements Callback {
  readonly name = 'checkpoint';
  readonly order = ORDER.checkpoint;
  readonly storage: Storage;
  readonly dir: string;
  readonly everySteps: number | null;
  readonly monitor: string | null;
  readonly mode: Mode;
  readonly lastPath: string;
  readonly bestPath: string;
  best: number;
  bestEpoch = -1;
  /** Checkpoints written by this callback (for logs and tests). */
  writes = 0;

  /** Writes nothing into trainer.logs. */
  logKeys(): string[] {
    return [];
  }

  constructor(opts: CheckpointOptions) {
    const op = 'Checkpoint';
    if (opts?.storage === undefined || typeof opts.storage.writeAtomic !== 'function') throw new GradkitError(op, 'storage must be a Storage (nodeStorage() on Node, memoryStorage() elsewhere)');
    if (typeof opts.dir !== 'string') throw new GradkitError(op, `dir must be a string, got ${typeof opts.dir}`);
    this.storage = opts.storage;
    this.dir = opts.dir;
    this.everySteps = opts.everySteps ?? null;
    if (this.everySteps !== null && (!Number.isInteger(this.everySteps) || this.everySteps < 1)) throw new GradkitError(op, `everySteps must be a positive integer, got ${this.everySteps}`);
    this.monitor = opts.monitor === undefined ? 'valLoss' : opts.monitor;
    this.mode = checkMode(op, opts.mode ?? autoMode(this.monitor ?? 'loss'));
    this.lastPath = joinPath(this.dir, opts.lastName ?? 'last.ckpt');
    this.bestPath = joinPath(this.dir, opts.bestName ?? 'best.ckpt');
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  async beforeFit(): Promise<void> {
    await this.storage.mkdir(this.dir);
  }

  // A promise only when a checkpoint is written: the Trainer runs synchronous hooks inside the step's scope.
  afterBatch(t: Trainer): Promise<void> | void {
    if (t.training && this.everySteps !== null && t.step > 0 && t.step % this.everySteps === 0) return this.save(t, this.lastPath);
  }

  async afterEpoch(t: Trainer): Promise<void> {
    if (this.monitor !== null) {
      const v = readMonitor('Checkpoint', t, this.monitor);
      if (improved(this.mode, v, this.best, 0)) {
        this.best = v;
        this.bestEpoch = t.epoch;
        await this.save(t, this.bestPath);
      }
    }
    await this.save(t, this.lastPath);
  }

  private async save(t: Trainer, path: string): Promise<void> {
    // A checkpoint of NaN weights would replace the last good one (and could become `best`):
    // refuse, even when no NanGuard runs, so the file on disk stays a state worth resuming.
    // A NanGuard checks the last step's weights lazily: settle that first, so its error (naming
    // the step) comes before this one.
    await settleNanGuards(t);
    const bad = await firstBadParameterSoon(t.model, 'weights');
    if (bad) throw new GradkitError('Checkpoint', `refusing to write ${path}: parameter '${bad.name}' holds ${bad.value} (element ${bad.index}); the file on disk is left as it was`);
    await t.saveCheckpoint(this.storage, path);
    this.writes++;
  }

  stateDict(): unknown {
    return { best: this.best, bestEpoch: this.bestEpoch };
  }

  loadStateDict(s: unknown): void {
    const o = s as { best: number; bestEpoch: number };
    if (o === null || typeof o !== 'object' || typeof o.best !== 'number') throw new GradkitError('Checkpoint.loadStateDict', 'expected { best, bestEpoch }');
    this.best = o.best;
    this.bestEpoch = o.bestEpoch;
  }
}
