/**
 * The Trainer: a fixed training loop (see events.ts) that calls callbacks in order. Everything
 * optional (metrics, early stopping, checkpoints, schedules, EMA, clipping, logging) is a
 * callback; the loop itself only runs forward → loss → backward → step and keeps the counters a
 * checkpoint needs to resume exactly.
 */
import { GradkitError } from '../core/errors.js';
import { getGlobalRng, type Random } from '../core/rng.js';
import { noGrad } from '../autograd/engine.js';
import type { AnyModule } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import { scope, scopeCollecting } from '../tensor/lifetime.js';
import type { Batch } from '../data/collate.js';
import type { DataLoaderState } from '../data/loader.js';
import type { Callback } from './callback.js';
import { CancelBatch, CancelEpoch, CancelFit, type EventName } from './events.js';
import { defaultClassificationLoss } from './loss.js';
import { MetricsCallback } from './callbacks/metrics.js';
import { NanGuard, flushNanGuards, settleNanGuards } from './callbacks/nan-guard.js';
import { canReadSync, readNow, withHostCopies } from '../tensor/host.js';
import { andThen, type Awaitable } from '../core/awaitable.js';
import { reachableTensors } from '../tensor/reachable.js';
import { closestName } from './callbacks/monitor.js';
import {
  checkModelFits, decodeCheckpoint, encodeCheckpoint, type CheckpointState, type TrainerCounters,
} from './checkpoint.js';
import type { Storage } from './storage.js';

/** What the Trainer iterates for training: a DataLoader, or anything with the same shape. */
export interface TrainData extends Iterable<Batch> {
  /** Batches per epoch. */
  readonly length: number;
  /** For exact resume (DataLoader has both). */
  state?(): DataLoaderState;
  loadState?(state: DataLoaderState): void;
}

/** What a Trainer needs: model, optimizer, data, and optionally loss, forward, epochs and callbacks. */
export interface TrainerOptions {
  model: AnyModule;
  optimizer: Optimizer<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- any optimizer subclass
  /** Training batches; the last field of each batch is the target, the others are inputs. */
  trainData: TrainData;
  /** Validation batches, evaluated after every epoch with model.eval() and no gradients. */
  validData?: Iterable<Batch>;
  /** (output, target) → scalar loss. Default: cross-entropy from logits (integer or soft targets). */
  loss?: (output: Tensor, target: Tensor) => Tensor;
  /** (model, inputs) → output. Default: model.call(...inputs). */
  forward?: (model: AnyModule, inputs: Tensor[]) => Tensor;
  /** Epochs fit() runs when not told otherwise (default 1). */
  epochs?: number;
  /** Extra callbacks; a metrics callback (loss, accuracy) and a NaN/Inf guard are added unless given. */
  callbacks?: Callback[];
  /** Set false to add no default callbacks. */
  defaultCallbacks?: boolean;
  /**
   * Generators whose state checkpoints save, by name. The global generator (dropout, by default)
   * is always saved; add any generator your model or loss draws from.
   */
  rngs?: Record<string, Random>;
}

/** What `Trainer.fit` returns: epochs and steps done, the per-epoch history, and why it stopped early. */
export interface FitResult {
  /** Epochs completed in total (including those before a resume). */
  epochs: number;
  /** Optimizer steps taken in total. */
  steps: number;
  /** One log object per completed epoch. */
  history: Record<string, number>[];
  /** Why training stopped before the last epoch (early stopping, CancelFit), or null. */
  stopReason: string | null;
}

/**
 * ```ts
 * const trainer = new Trainer({
 *   model, optimizer: new optim.AdamW(model.parameters(), { lr: 1e-3 }),
 *   trainData: new DataLoader(train, { batchSize: 64, shuffle: true, seed: 0 }),
 *   validData: new DataLoader(valid, { batchSize: 256 }),
 *   callbacks: [new EarlyStopping({ monitor: 'valLoss', patience: 3 }), new Checkpoint({ storage, dir: 'runs/a' })],
 * });
 * const result = await trainer.fit({ epochs: 10 });
 * ```
 */
export class Trainer {
  readonly model: AnyModule;
  readonly optimizer: Optimizer<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly trainData: TrainData;
  readonly validData: Iterable<Batch> | undefined;
  readonly lossFn: (output: Tensor, target: Tensor) => Tensor;
  readonly forwardFn: (model: AnyModule, inputs: Tensor[]) => Tensor;
  readonly callbacks: Callback[];
  readonly rngs: Record<string, Random>;
  epochs: number;

  // ---- counters and the current batch, read by callbacks ----
  /** Index of the current epoch (0-based); after fit, the number of completed epochs. */
  epoch = 0;
  /** Index of the current batch within the training or validation phase. */
  batchIndex = 0;
  /** Optimizer steps taken so far (over all epochs). */
  step = 0;
  /** True in the training phase, false during validation. */
  training = true;
  /** Batches per training epoch. */
  numBatches = 0;
  batch: Batch | null = null;
  inputs: Tensor[] = [];
  target: Tensor | null = null;
  output: Tensor | null = null;
  loss: Tensor | null = null;
  /**
   * The current batch's loss as a number once a callback has read it (the metrics callback does,
   * every batch); null before. Callbacks get it with `readLoss()`, so a batch's loss is read once.
   */
  lossValue: number | null = null;
  /** Metrics of the current epoch ('loss', 'accuracy', 'valLoss', …); callbacks add to it. */
  logs: Record<string, number> = {};
  /** logs of every completed epoch. */
  history: Record<string, number>[] = [];
  /** Set by requestStop() (early stopping); training ends after the current epoch. */
  stopReason: string | null = null;
  /** The event being dispatched (for error messages and for callbacks shared between events). */
  currentEvent: EventName | null = null;

  // Where training resumes: the batch of `epoch` to start at, and the loader state at that epoch's start.
  private resumeBatch = 0;
  private epochStartLoaderState: DataLoaderState | null = null;
  /** True once the current batch's work is complete, so its state is a valid resume point. */
  private atResumePoint = true;

  constructor(opts: TrainerOptions) {
    const op = 'Trainer';
    if (opts === null || typeof opts !== 'object') throw new GradkitError(op, 'expected an options object { model, optimizer, trainData, … }');
    if (opts.model === undefined || typeof opts.model.call !== 'function') throw new GradkitError(op, 'model must be an nn.Module');
    if (opts.optimizer === undefined || typeof opts.optimizer.step !== 'function') throw new GradkitError(op, 'optimizer must be an optim.Optimizer');
    const td = opts.trainData as TrainData | undefined;
    if (td === undefined || td === null || typeof (td as Partial<Iterable<Batch>>)[Symbol.iterator] !== 'function' || !Number.isInteger(td.length)) {
      throw new GradkitError(op, 'trainData must be a DataLoader (iterable of batches with a length)');
    }
    this.model = opts.model;
    this.optimizer = opts.optimizer;
    this.trainData = td;
    this.validData = opts.validData;
    this.lossFn = opts.loss ?? defaultClassificationLoss;
    this.forwardFn = opts.forward ?? ((m, xs) => m.call(...xs) as Tensor);
    this.epochs = checkEpochs(op, opts.epochs ?? 1);
    this.rngs = { ...(opts.rngs ?? {}) };
    const cbs = [...(opts.callbacks ?? [])];
    if (opts.defaultCallbacks !== false) {
      if (!cbs.some((c) => c instanceof MetricsCallback)) cbs.push(new MetricsCallback());
      if (!cbs.some((c) => c instanceof NanGuard)) cbs.push(new NanGuard());
    }
    const names = new Set<string>();
    for (const [i, c] of cbs.entries()) {
      if (c === null || typeof c !== 'object' || typeof c.name !== 'string' || c.name === '') {
        throw new GradkitError(op, `callback ${i} must be an object with a non-empty name`);
      }
      if (names.has(c.name)) throw new GradkitError(op, `two callbacks are named '${c.name}'; names must be unique (checkpoints store state by name)`);
      names.add(c.name);
    }
    // Stable sort: equal orders keep the order given.
    this.callbacks = cbs.map((c, i) => ({ c, i })).sort((a, b) => (a.c.order ?? 50) - (b.c.order ?? 50) || a.i - b.i).map((x) => x.c);
  }

  /**
   * The current batch's loss as a number, read once per batch and shared by every callback
   * (a promise of it on a backend that reads asynchronously); null when there is no loss.
   */
  readLoss(): Awaitable<number | null> {
    if (this.lossValue !== null) return this.lossValue;
    if (this.loss === null) return null;
    return andThen(readNow(this.loss), (v) => (this.lossValue = v[0]));
  }

  /** A callback by name (e.g. trainer.callback<EarlyStopping>('earlyStopping')). */
  callback<C extends Callback>(name: string): C | undefined {
    return this.callbacks.find((c) => c.name === name) as C | undefined;
  }

  /** Asks training to stop after the current epoch (what early stopping does). */
  requestStop(reason: string): void {
    this.stopReason ??= reason;
  }

  /** Runs one event on every callback, in order. */
  private async event(name: EventName): Promise<void> {
    this.currentEvent = name;
    for (const c of this.callbacks) {
      const hook = c[name];
      if (hook !== undefined) await hook.call(c, this);
    }
    this.currentEvent = null;
  }

  /**
   * Trains until `epochs` epochs have completed in total (a resumed trainer continues where its
   * checkpoint left off), or until a callback stops it.
   */
  async fit(opts: { epochs?: number } = {}): Promise<FitResult> {
    if (opts.epochs !== undefined) this.epochs = checkEpochs('Trainer.fit', opts.epochs);
    this.stopReason = null;
    this.checkMonitors();
    try {
      await this.event('beforeFit');
      while (this.epoch < this.epochs && this.stopReason === null) await this.runEpoch();
    } catch (e) {
      if (!(e instanceof CancelFit)) throw e;
      this.stopReason ??= e.message;
      await this.event('afterCancelFit');
    }
    this.training = false;
    await this.event('afterFit');
    return { epochs: this.epoch, steps: this.step, history: this.history, stopReason: this.stopReason };
  }

  /**
   * Every callback's `monitor` (early stopping, checkpoints, plateau schedules) must be a key the
   * run will log: checked before the first batch and before any file is written, instead of when
   * the first epoch ends. Skipped for names a callback with undeclared log keys might write.
   */
  private checkMonitors(): void {
    const logged = new Set<string>(['epoch']);
    let open = false;
    for (const c of this.callbacks) {
      if (c.logKeys === undefined) {
        if (c.afterBatch || c.afterTrain || c.afterValidate || c.afterEpoch) open = true;
        continue;
      }
      const keys = c.logKeys(this);
      if (keys === null) open = true;
      else for (const k of keys) logged.add(k);
    }
    for (const c of this.callbacks) {
      const monitor = (c as { monitor?: unknown }).monitor;
      if (typeof monitor !== 'string' || logged.has(monitor) || open) continue;
      const known = [...logged].filter((k) => k !== 'epoch');
      // 'valLoss' without validation data: the training twin is the likely intent.
      const twin = monitor.replace(/^val(.)/, (_, ch: string) => ch.toLowerCase());
      const hint = closestName(monitor, known) ?? (logged.has(twin) ? twin : null);
      // 'earlyStopping' → 'EarlyStopping': the class's name, without relying on constructor.name (minified builds).
      const op = `${c.name[0].toUpperCase()}${c.name.slice(1)}`;
      throw new GradkitError(op, `monitor '${monitor}' is not logged by this run${hint ? ` (did you mean '${hint}'?)` : ''}; it logs: ${known.join(', ') || '(nothing)'}${monitor.startsWith('val') && this.validData === undefined ? ' (val* metrics need validData)' : ''}`);
    }
  }

  private async runEpoch(): Promise<void> {
    const resuming = this.resumeBatch > 0;
    if (!resuming) this.logs = { epoch: this.epoch };
    try {
      await this.event('beforeEpoch');
      await this.trainPhase();
      if (this.validData !== undefined) await this.validatePhase();
    } catch (e) {
      if (!(e instanceof CancelEpoch)) throw e;
      this.abandonLoaderEpoch();
      await this.event('afterCancelEpoch');
    }
    this.resumeBatch = 0;
    this.epochStartLoaderState = null;
    this.atResumePoint = true;
    this.history.push(this.logs);
    // afterEpoch sees the finished epoch's index, but a checkpoint taken now resumes at the next one.
    this.epochDone = true;
    try {
      await this.event('afterEpoch');
    } finally {
      this.epochDone = false;
    }
    this.epoch++;
  }

  /** True during afterEpoch: the epoch is complete and a checkpoint resumes at the next one. */
  private epochDone = false;

  private async trainPhase(): Promise<void> {
    this.model.train();
    this.training = true;
    const data = this.trainData;
    this.numBatches = data.length;
    const start = this.resumeBatch;
    if (start === 0) this.epochStartLoaderState = data.state ? data.state() : null;
    await this.event('beforeTrain');
    if (start < this.numBatches) {
      let b = start;
      await this.eachBatch(data, async (next) => {
        if (!(await this.oneBatch(next, b))) return false;
        this.resumeBatch = ++b;
        return true;
      });
    } else if (data.state) {
      data.state(); // closes the epoch that the checkpoint saved as fully consumed
    }
    await this.event('afterTrain');
  }

  private async validatePhase(): Promise<void> {
    this.model.eval();
    this.training = false;
    try {
      await this.event('beforeValidate');
      let b = 0;
      await this.eachBatch(this.validData!, (next) => this.oneBatch(next, b++));
      await this.event('afterValidate');
    } finally {
      this.model.train();
      this.training = true;
    }
  }

  /**
   * Iterates `data` like for…of, but hands `body` a function that pulls the next batch, so the
   * batch is made inside the step's scope (and freed with it). Closes the iterator on an early
   * exit, as for…of does.
   */
  private async eachBatch(data: Iterable<Batch>, body: (next: () => IteratorResult<Batch>) => Promise<boolean>): Promise<void> {
    const it = data[Symbol.iterator]();
    let done = false;
    const next = (): IteratorResult<Batch> => {
      const r = it.next();
      done = r.done === true;
      return r;
    };
    try {
      while (await body(next));
    } finally {
      if (!done) it.return?.();
    }
  }

  /**
   * One batch: pulls it, then forward, loss, backward, optimizer step and the batch's events.
   * Returns false when the data is exhausted. The work runs inside `scope()`, so every tensor
   * it makes (the batch itself, activations, the graph, the loss, what callbacks compute) is
   * freed when the batch ends; what lives on is kept (`.grad`, optimizer state, running
   * statistics) or a number (logs, metrics). Hooks run synchronously inside the scope; a hook
   * that returns a promise is awaited outside it (a scope brackets synchronous work), and the
   * batch goes on in a new scope: see `suspend` for what survives the gap.
   */
  private async oneBatch(next: () => IteratorResult<Batch>, index: number): Promise<boolean> {
    const work = this.batchWork(next, index);
    const views: Tensor[] = [];
    // What escapes a scope that is suspended for an awaited hook (the graph before backward, the
    // views after it) is freed when the batch ends, as one synchronous scope would have freed it.
    const unowned = new Set<Tensor>();
    let failure: { error: unknown } | null = null;
    try {
      for (;;) {
        const resumeWith = failure;
        failure = null;
        const r = scopeCollecting(() => {
          const step = resumeWith === null ? work.next() : work.throw(resumeWith.error);
          return { step, survivors: step.done === true ? [] : this.suspend(views) };
        }, unowned);
        if (r.step.done === true) {
          if (r.step.value) {
            // Drop references so nothing of this batch is reachable from the trainer.
            this.output = null;
            this.loss = null;
            this.batch = null;
          }
          return r.step.value;
        }
        try {
          await r.step.value;
        } catch (e) {
          failure = { error: e }; // rethrown inside the batch's work, where the hook was called
        }
      }
    } finally {
      for (const v of views) v.dispose();
      for (const t of unowned) t.dispose();
    }
  }

  /** True between the training forward pass and the end of its backward: the graph must survive. */
  private graphPending = false;

  /**
   * What survives the end of a scope while an async hook is awaited. Before backward the whole
   * graph is needed: the output and loss escape with it (and are then freed by the garbage
   * collector, not at the end of the batch). Afterwards only the batch, output and loss are:
   * the trainer's fields become views of them, disposed when the batch ends.
   */
  private suspend(views: Tensor[]): Tensor[] {
    if (this.graphPending) return [this.output, this.loss].filter((t): t is Tensor => t !== null);
    const view = (t: Tensor): Tensor => {
      const v = t.view(t.shape);
      views.push(v);
      return v;
    };
    const mark = views.length;
    if (this.batch !== null) {
      this.inputs = this.inputs.map(view);
      this.target = this.target === null ? null : view(this.target);
      this.batch = this.target === null ? [...this.inputs] : [...this.inputs, this.target];
    }
    if (this.output !== null) this.output = view(this.output);
    if (this.loss !== null) this.loss = view(this.loss);
    return views.slice(mark);
  }

  /** Runs one event's hooks in order; yields the promise of a hook that returns one. */
  private *hooks(name: EventName): Generator<Promise<void>, void, void> {
    this.currentEvent = name;
    for (const c of this.callbacks) {
      const hook = c[name];
      if (hook === undefined) continue;
      const r: unknown = hook.call(c, this);
      if (r !== null && typeof r === 'object' && typeof (r as Promise<void>).then === 'function') {
        yield r as Promise<void>;
        this.currentEvent = name;
      }
    }
    this.currentEvent = null;
  }

  /** The work of one batch (see oneBatch); yields where an async hook must be awaited. */
  private *batchWork(next: () => IteratorResult<Batch>, index: number): Generator<Promise<void>, boolean, void> {
    const pulled = next();
    if (pulled.done === true) return false;
    const batch = pulled.value;
    this.batchIndex = index;
    if (!Array.isArray(batch) || batch.length < 2) {
      throw new GradkitError('Trainer', `batch ${this.batchIndex} of epoch ${this.epoch} has ${Array.isArray(batch) ? batch.length : typeof batch} field(s); expected [inputs…, target]`);
    }
    this.batch = batch;
    this.lossValue = null;
    this.inputs = batch.slice(0, -1) as Tensor[];
    this.target = batch[batch.length - 1] as Tensor;
    this.atResumePoint = false;
    try {
      yield* this.hooks('beforeBatch');
      const run = (): void => {
        this.output = this.forwardFn(this.model, this.inputs);
        this.loss = this.lossFn(this.output, this.target!);
      };
      if (this.training) {
        this.graphPending = true;
        run();
      } else {
        noGrad(run);
      }
      // afterForward fires once the loss exists too, so both are computed in one no-grad block.
      yield* this.hooks('afterForward');
      if (this.loss === null || this.loss.size !== 1) {
        throw new GradkitError('Trainer', `the loss function returned shape [${this.loss?.shape.join(', ')}]; expected a scalar`);
      }
      yield* this.hooks('afterLoss');
      if (this.training) {
        this.releaseGrads();
        this.optimizer.zeroGrad();
        this.loss.backward();
        this.graphPending = false;
        yield* this.hooks('afterBackward');
        this.optimizer.step();
        this.step++;
        yield* this.hooks('afterStep');
      }
    } catch (e) {
      this.graphPending = false;
      if (!(e instanceof CancelBatch)) throw e;
      yield* this.hooks('afterCancelBatch');
    }
    this.graphPending = false;
    if (this.training) this.atResumePoint = true;
    yield* this.hooks('afterBatch');
    return true;
  }

  /**
   * Frees the previous step's gradients before zeroGrad drops them: autograd keeps `.grad` out
   * of scopes (it outlives the step that made it), so without this each step's gradients would
   * wait for the garbage collector.
   */
  private releaseGrads(): void {
    for (const g of this.optimizer.paramGroups) for (const p of g.params as Tensor[]) p.grad?.dispose();
  }

  /** Moves the loader past a cancelled epoch, so the next epoch starts a fresh order. */
  private abandonLoaderEpoch(): void {
    const data = this.trainData;
    if (this.epochStartLoaderState && data.loadState && data.state) {
      data.loadState({ ...this.epochStartLoaderState, inEpoch: true, position: data.length });
      data.state();
    }
  }

  // ---- checkpoints -----------------------------------------------------------------------------

  /**
   * The training state to resume from; only at batch or epoch boundaries of the training phase.
   * `model` holds copies of the weights (the caller disposes them), or with `liveModel` the
   * module's own tensors (read at once, never disposed).
   */
  checkpointState(opts: { liveModel?: boolean } = {}): CheckpointState {
    // The NaN guard checks a step's weights lazily; a checkpoint must never capture bad ones.
    flushNanGuards(this);
    if (!this.atResumePoint) {
      throw new GradkitError(
        'Trainer.checkpoint',
        `cannot checkpoint during ${this.currentEvent ?? 'this phase'} (epoch ${this.epoch}, batch ${this.batchIndex}, ${this.training ? 'training' : 'validation'}); checkpoint in afterBatch of training, afterEpoch or afterFit`,
      );
    }
    const data = this.trainData;
    const counters: TrainerCounters = {
      epoch: this.epochDone ? this.epoch + 1 : this.epoch,
      batch: this.epochDone ? 0 : this.resumeBatchAfterCurrent(),
      step: this.step,
      epochs: this.epochs,
    };
    let loader: DataLoaderState | null = null;
    if (data.state) {
      if (counters.batch === 0) loader = data.state();
      else if (this.epochStartLoaderState) loader = { ...this.epochStartLoaderState, inEpoch: true, position: counters.batch };
    } else if (counters.batch !== 0) {
      throw new GradkitError('Trainer.checkpoint', 'trainData has no state(); mid-epoch checkpoints need a DataLoader (or state()/loadState())');
    }
    const rngs: Record<string, number[]> = { global: getGlobalRng().getState() };
    for (const [k, r] of Object.entries(this.rngs)) rngs[k] = r.getState();
    const callbacks: Record<string, unknown> = {};
    for (const c of this.callbacks) if (c.stateDict) callbacks[c.name] = c.stateDict();
    return {
      counters,
      model: opts.liveModel === true ? this.model.stateTensors() : this.model.stateDict(),
      optimizer: this.optimizer.stateDict(),
      rngs,
      loader,
      callbacks,
      logs: { ...this.logs },
      history: this.history.map((h) => ({ ...h })),
    };
  }

  private resumeBatchAfterCurrent(): number {
    // In afterBatch of training the current batch is done; otherwise resumeBatch is already next.
    return this.currentEvent === 'afterBatch' && this.training ? this.batchIndex + 1 : this.resumeBatch;
  }

  /** The checkpoint as bytes (model tensors + everything else; see checkpoint.ts). */
  checkpointBytes(): Uint8Array {
    const state = this.checkpointState();
    try {
      return encodeCheckpoint(state);
    } finally {
      // The model's state dict holds fresh copies, read once into the bytes: free them now.
      for (const t of state.model.values()) t.dispose();
    }
  }

  /**
   * The checkpoint as bytes on any backend: on a GPU the NaN guards settle with an awaited read,
   * then the weights, the optimizer's slots and every tensor a callback holds are downloaded in
   * one round-trip and the same synchronous encoder runs over the copies (withHostCopies).
   */
  async checkpointBytesAsync(): Promise<Uint8Array> {
    if (this.readsSync()) return this.checkpointBytes();
    await settleNanGuards(this);
    const live = this.model.stateTensors();
    const held = reachableTensors([this.optimizer, ...this.callbacks]);
    return withHostCopies([...live.values(), ...held], () => encodeCheckpoint(this.checkpointState({ liveModel: true })));
  }

  /** Writes a checkpoint atomically (temp file + rename in the storage), on any backend. */
  async saveCheckpoint(storage: Storage, path: string): Promise<void> {
    await storage.writeAtomic(path, await this.checkpointBytesAsync());
  }

  /** False on a backend that only reads asynchronously (a GPU), judged by the model's weights. */
  private readsSync(): boolean {
    const first = this.model.parameters()[0] as Tensor | undefined;
    return canReadSync(first);
  }

  /** Reads a checkpoint written by saveCheckpoint and restores everything (see loadCheckpointState). */
  async loadCheckpoint(storage: Storage, path: string): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = await storage.read(path);
    } catch (e) {
      throw new GradkitError('Trainer.loadCheckpoint', `cannot read ${path}: ${(e as Error).message}`);
    }
    const state = decodeCheckpoint(bytes, path);
    if (this.readsSync()) this.loadCheckpointState(state);
    // On a GPU the rollback snapshot reads the optimizer's and callbacks' state: download it first.
    else await withHostCopies(reachableTensors([this.model, this.optimizer, ...this.callbacks]), () => this.loadCheckpointState(state));
  }

  /**
   * Restores model, optimizer, RNGs, data order, callbacks and counters. Everything is checked
   * first and the old state is put back if any part fails, so a checkpoint from another
   * architecture leaves this trainer exactly as it was.
   */
  loadCheckpointState(s: CheckpointState): void {
    const op = 'Trainer.loadCheckpoint';
    checkModelFits(op, this.model, s.model);
    const names = this.callbacks.filter((c) => c.loadStateDict).map((c) => c.name);
    const missing = names.filter((n) => !(n in s.callbacks));
    if (missing.length > 0) throw new GradkitError(op, `the checkpoint has no state for callback(s) ${missing.join(', ')}; it was saved by a run with other callbacks`);
    if (s.loader !== null && this.trainData.loadState === undefined) throw new GradkitError(op, 'the checkpoint holds a data loader state but trainData has no loadState()');
    for (const k of Object.keys(this.rngs)) if (!(k in s.rngs)) throw new GradkitError(op, `the checkpoint has no state for generator '${k}'`);
    // Snapshot for rollback: a failure halfway must leave nothing half-loaded.
    const restore = this.checkpointSnapshot();
    try {
      this.model.loadStateDict(s.model);
      this.optimizer.loadStateDict(s.optimizer);
      getGlobalRng().setState(s.rngs.global);
      for (const [k, r] of Object.entries(this.rngs)) r.setState(s.rngs[k]);
      if (s.loader !== null) this.trainData.loadState!(s.loader);
      for (const c of this.callbacks) if (c.loadStateDict) c.loadStateDict(s.callbacks[c.name]);
    } catch (e) {
      restore();
      if (e instanceof GradkitError) throw new GradkitError(op, `the checkpoint does not fit this run, nothing was changed: ${e.message}`);
      throw e;
    }
    this.epoch = s.counters.epoch;
    this.step = s.counters.step;
    this.resumeBatch = s.counters.batch;
    this.epochStartLoaderState = s.loader && s.counters.batch > 0 ? { ...s.loader, position: 0 } : null;
    this.logs = { ...s.logs };
    this.history = s.history.map((h) => ({ ...h }));
    this.atResumePoint = true;
  }

  private checkpointSnapshot(): () => void {
    const model = this.model.stateDict();
    const opt = this.optimizer.stateDict();
    const g = getGlobalRng().getState();
    const rngs = Object.entries(this.rngs).map(([k, r]) => [k, r.getState()] as const);
    const loader = this.trainData.state && this.resumeBatch === 0 && this.atResumePoint ? this.trainData.state() : null;
    const cbs = this.callbacks.filter((c) => c.stateDict && c.loadStateDict).map((c) => [c, c.stateDict!()] as const);
    return () => {
      this.model.loadStateDict(model);
      this.optimizer.loadStateDict(opt);
      getGlobalRng().setState(g);
      for (const [k, st] of rngs) this.rngs[k].setState(st);
      if (loader && this.trainData.loadState) this.trainData.loadState(loader);
      for (const [c, st] of cbs) c.loadStateDict!(st);
    };
  }
}

function checkEpochs(op: string, epochs: number): number {
  if (!Number.isInteger(epochs) || epochs < 0) throw new GradkitError(op, `epochs must be a non-negative integer, got ${String(epochs)}`);
  return epochs;
}

