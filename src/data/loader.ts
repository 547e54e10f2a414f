/**
 * DataLoader: batches of a dataset in a (seeded) shuffled order, with optional augmentation of
 * the inputs and a batch-level transform (mixup/cutmix), iterable with `for…of` and `for await`.
 *
 * Reproducibility and resume: the loader owns one generator. At the start of each epoch it
 * records that generator's state, draws the epoch's permutation, then one word that seeds every
 * batch's augmentation generator (batch b uses `mixSeed(word, b)`). A batch is therefore a pure
 * function of (epoch-start state, b), so `state()` = {epoch, position, epoch-start state} is all
 * a checkpoint needs, and prefetching ahead never changes what a batch contains.
 */
import { GradkitError } from '../core/errors.js';
import { Random } from '../core/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { toBackend } from '../tensor/host.js';
import { availableBackends, backendName, withBackend } from '../backend/registry.js';
import type { Augmentation } from './augment/augmentation.js';
import { defaultCollate, type Batch, type CollateFn, type Sample } from './collate.js';
import type { Dataset } from './dataset.js';
import { checkPositiveInt, mixSeed, permutation, pickRng } from './util.js';

/** Options of DataLoader: batch size, shuffling, seed, collation and augmentation. */
export interface DataLoaderOptions {
  /** Samples per batch (default 32). */
  batchSize?: number;
  /** Visit samples in a new random order each epoch (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Seed of the loader's own generator (order and augmentation). */
  seed?: number;
  /** Or a generator to derive the loader's own generator from (it is split, not shared). */
  rng?: Random;
  /** Turns a list of samples into a batch (default: stack each field). */
  collate?: CollateFn;
  /** Image augmentation applied to field 0 of each batch while `training` is true. */
  augment?: Augmentation;
  /** A transform of the whole batch while `training` (e.g. `(b, rng) => mixupBatch(b, …)`). */
  batchTransform?: (batch: Batch, rng: Random) => Batch;
  /** Whether augment/batchTransform run (default true; use `eval()` for validation). */
  training?: boolean;
  /** How many batches the async iterator prepares ahead (default 1; 0 turns it off). */
  prefetch?: number;
  /**
   * The backend each finished batch is moved to (PyTorch's `.to(device)`): gathering, collation
   * and augmentation run on the backend that was current when the loader was made (a CPU one,
   * where they are cheap) and only the finished batch is uploaded, e.g. `backend: 'webgpu'`.
   * Default: batches are built on the current backend.
   */
  backend?: string;
}

/** What a checkpoint stores to resume a loader exactly. */
export interface DataLoaderState {
  epoch: number;
  /** Batches already handed out in the current epoch. */
  position: number;
  /** Generator state at the start of the current epoch (or now, between epochs). */
  rngState: number[];
  /** Whether an epoch is in progress (its order is regenerated from rngState). */
  inEpoch: boolean;
  /** Dataset length and batch size, checked on restore. */
  length: number;
  batchSize: number;
}

/**
 * ```ts
 * const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 64, shuffle: true, seed: 1 });
 * for (const [xb, yb] of loader) { … }           // one epoch
 * for await (const [xb, yb] of loader) { … }     // one epoch, next batch prepared ahead
 * const saved = loader.state(); … other.loadState(saved);   // same continuation
 * ```
 */
export class DataLoader implements Iterable<Batch>, AsyncIterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly prefetch: number;
  training: boolean;
  private readonly collate: CollateFn | null;
  private readonly augment: Augmentation | undefined;
  private readonly batchTransform: ((batch: Batch, rng: Random) => Batch) | undefined;
  private readonly rng: Random;
  private readonly backend: string | undefined;
  /** Where batches are built when they are moved afterwards (the backend current at construction). */
  private readonly pipelineBackend: string | undefined;
  private _epoch = 0;
  private _position = 0;
  private order: Int32Array | null = null;
  private epochStartState: number[] = [];
  private batchSeed = 0;

  constructor(dataset: Dataset, opts: DataLoaderOptions = {}) {
    const op = 'DataLoader';
    if (dataset === null || typeof dataset !== 'object' || typeof dataset.get !== 'function' || !Number.isInteger(dataset.length)) {
      throw new GradkitError(op, 'expected a Dataset (an object with length and get(index))');
    }
    this.dataset = dataset;
    this.batchSize = checkPositiveInt(op, 'batchSize', opts.batchSize ?? 32);
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    const prefetch = opts.prefetch ?? 1;
    if (!Number.isInteger(prefetch) || prefetch < 0) throw new GradkitError(op, `prefetch must be a non-negative integer, got ${prefetch}`);
    this.prefetch = prefetch;
    this.training = opts.training ?? true;
    this.collate = opts.collate ?? null;
    this.augment = opts.augment;
    this.batchTransform = opts.batchTransform;
    if (opts.backend !== undefined && !availableBackends().includes(opts.backend)) {
      throw new GradkitError(op, `backend '${opts.backend}' is not available here; available: ${availableBackends().join(', ')} (register webgpu first with initWebGPU())`);
    }
    this.backend = opts.backend;
    this.pipelineBackend = opts.backend === undefined ? undefined : backendName();
    if (this.augment !== undefined && typeof this.augment.apply !== 'function') {
      throw new GradkitError(op, 'augment must be an Augmentation (see compose())');
    }
    // Own generator: seeded directly, or split from the one given so we can restore its state freely.
    this.rng = opts.seed !== undefined && opts.rng === undefined ? new Random(opts.seed) : pickRng(op, opts).split();
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Completed epochs (the epoch in progress has this index). */
  get epoch(): number {
    return this._epoch;
  }

  /** Batches already handed out in the current epoch. */
  get position(): number {
    return this._position;
  }

  /** Turns augmentation on (training) or off. */
  train(on = true): this {
    this.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * The position to resume from. Pure: it does not close a consumed epoch itself (that would end
   * a running for…of early); a fully consumed epoch is reported as the start of the next one.
   */
  state(): DataLoaderState {
    const consumed = this.order !== null && this._position >= this.length;
    const inEpoch = this.order !== null && !consumed;
    return {
      epoch: consumed ? this._epoch + 1 : this._epoch,
      position: inEpoch ? this._position : 0,
      rngState: inEpoch ? [...this.epochStartState] : this.rng.getState(),
      inEpoch,
      length: this.dataset.length,
      batchSize: this.batchSize,
    };
  }

  loadState(s: DataLoaderState): void {
    const op = 'DataLoader.loadState';
    if (s === null || typeof s !== 'object' || !Array.isArray(s.rngState) || !Number.isInteger(s.epoch) || !Number.isInteger(s.position)) {
      throw new GradkitError(op, 'expected a state from DataLoader.state() ({ epoch, position, rngState, inEpoch, length, batchSize })');
    }
    if (s.length !== this.dataset.length || s.batchSize !== this.batchSize) {
      throw new GradkitError(
        op,
        `the state is for ${s.length} samples in batches of ${s.batchSize}, but this loader has ${this.dataset.length} samples in batches of ${this.batchSize}`,
      );
    }
    if (s.position < 0 || s.position > this.length) throw new GradkitError(op, `position ${s.position} is outside 0..${this.length}`);
    this.rng.setState(s.rngState);
    this._epoch = s.epoch;
    this.order = null;
    this._position = 0;
    if (s.inEpoch) {
      this.beginEpoch();
      this._position = s.position;
    }
  }

  /** Sample indices of the current epoch in visiting order (starts an epoch if none is running). */
  epochOrder(): Int32Array {
    this.settle();
    if (this.order === null) this.beginEpoch();
    return this.order!.slice();
  }

  /** Sync iteration builds each batch when it is asked for (there is nothing to overlap with). */
  *[Symbol.iterator](): Iterator<Batch> {
    this.settle();
    if (this.order === null) this.beginEpoch();
    const total = this.length;
    while (this._position < total) {
      const batch = this.buildBatch(this._position);
      this._position++;
      yield batch;
    }
    this.settle();
  }

  /**
   * Async iteration prepares up to `prefetch` batches ahead on later macrotasks. JavaScript runs
   * one thing at a time, so this overlaps only with the time the training step spends waiting
   * (awaiting a GPU/worker backend, reading values back asynchronously, I/O); with a purely
   * synchronous CPU step the next batch is simply built between steps, as in sync iteration.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    this.settle();
    if (this.order === null) this.beginEpoch();
    const total = this.length;
    const queue: Promise<Batch>[] = [];
    let next = this._position;
    const fill = (): void => {
      while (queue.length < this.prefetch && next < total) {
        const b = next++;
        const p = onNextMacrotask(() => this.buildBatch(b));
        p.catch(() => undefined); // a batch dropped by `break` must not become an unhandled rejection
        queue.push(p);
      }
    };
    while (this._position < total) {
      fill();
      const batch = queue.length > 0 ? await queue.shift()! : this.buildBatch(this._position);
      this._position++;
      fill(); // start preparing the following batch before the consumer works on this one
      yield batch;
    }
    this.settle();
  }

  /** Batch `b` of the current epoch (pure: depends only on the epoch's order and seed), on `backend` when given. */
  private buildBatch(b: number): Batch {
    if (this.backend === undefined) return this.assembleBatch(b);
    const batch = withBackend(this.pipelineBackend!, () => this.assembleBatch(b));
    return batch.map((t) => moveTo(t as Tensor, this.backend!));
  }

  private assembleBatch(b: number): Batch {
    const order = this.order!;
    const indices = order.subarray(b * this.batchSize, Math.min(order.length, (b + 1) * this.batchSize));
    let batch: Batch;
    if (this.collate === null && this.dataset.getBatch) {
      batch = this.dataset.getBatch(indices);
    } else {
      const samples: Sample[] = [];
      for (const i of indices) samples.push(this.dataset.get(i));
      batch = (this.collate ?? defaultCollate)(samples);
      if (!Array.isArray(batch)) throw new GradkitError('DataLoader', `collate must return an array of tensors, got ${typeof batch}`);
    }
    if (this.training && (this.augment || this.batchTransform)) {
      const rng = new Random(mixSeed(this.batchSeed, b));
      if (this.augment) batch[0] = this.augment.apply(batch[0] as Tensor, rng);
      if (this.batchTransform) batch = this.batchTransform(batch, rng);
    }
    return batch;
  }

  private beginEpoch(): void {
    this.epochStartState = this.rng.getState();
    const n = this.dataset.length;
    if (this.shuffle) {
      this.order = permutation(n, this.rng);
    } else {
      this.order = new Int32Array(n);
      for (let i = 0; i < n; i++) this.order[i] = i;
    }
    this.batchSeed = this.rng.nextUint32();
    this._position = 0;
  }

  /** Closes a fully consumed epoch (also when the consumer broke out after its last batch). */
  private settle(): void {
    if (this.order !== null && this._position >= this.length) {
      this.order = null;
      this._position = 0;
      this._epoch++;
    }
  }
}

// setImmediate (Node) runs right after pending I/O; browsers fall back on setTimeout(0), whose
// ~1–4 ms clamp only matters when the training step never yields.
const schedule: (fn: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (fn) => (globalThis as unknown as { setImmediate: (f: () => void) => void }).setImmediate(fn)
    : (fn) => setTimeout(fn, 0);

function onNextMacrotask<T>(fn: () => T): Promise<T> {
  return new Promise((resolve, reject) => {
    schedule(() => {
      try {
        resolve(fn());
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** A batch tensor on the named backend; the host-side one is freed once uploaded. */
function moveTo(t: Tensor, backend: string): Tensor {
  const moved = toBackend(t, backend);
  if (moved !== t) t.dispose();
  return moved;
}
