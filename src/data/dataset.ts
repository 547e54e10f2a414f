/**
 * Datasets: indexable collections of samples. A sample is a tuple of tensors (`[x, y]`).
 * `TensorDataset` also answers whole batches (`getBatch`) by copying rows of its tensors,
 * which is the fast path the DataLoader uses instead of collating sample by sample.
 */
import { checkDType, type DType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { canReadSync } from '../tensor/host.js';
import { kernels, upload, wrap } from '../ops/util.js';
import { tensor, type TensorData } from '../tensor/creation.js';
import { defaultCollate, type Batch, type Sample } from './collate.js';
import { alloc, rowSize, tensorFrom, valuesOf } from './util.js';

/** A map-style data set: a length and random access to samples (tuples of tensors), optionally whole batches at once. */
export interface Dataset {
  /** Number of samples. */
  readonly length: number;
  /** Sample `index` (0 ≤ index < length) as a tuple of tensors. */
  get(index: number): Sample;
  /** Optional fast path: the batch made of these sample indices, already stacked. */
  getBatch?(indices: ArrayLike<number>): Batch;
}

export function checkIndex(op: string, index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new GradkitError(op, `index ${index} is out of range for a dataset of ${length} samples`);
  }
}

/**
 * Copies the rows `indices` of `t` (first axis) into a new tensor: a host copy on CPU backends,
 * a gather on the device for a GPU-resident tensor (the data set then never leaves the GPU).
 */
export function gatherRows(t: Tensor, indices: ArrayLike<number>): Tensor {
  if (!canReadSync(t)) return gatherRowsOnDevice(t, indices);
  const n = t.shape[0];
  const row = rowSize(t);
  const src = valuesOf(t);
  const out = alloc(t.dtype, row * indices.length);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    if (!isRow(r, n)) throw badRow(t, r);
    // subarray + set is a memcpy for typed arrays of the same kind.
    out.set(src.subarray(r * row, (r + 1) * row) as ArrayLike<number>, i * row);
  }
  return tensorFrom(out, [indices.length, ...t.shape.slice(1)]);
}

const isRow = (r: number, n: number): boolean => Number.isInteger(r) && r >= 0 && r < n;
const badRow = (t: Tensor, r: number): GradkitError => new GradkitError('gatherRows', `row ${r} is out of range for shape ${fmtShape(t.shape)}`);

/**
 * gatherRows on a GPU: the rows are checked here on the host, where they are, so the gather
 * kernel runs directly (indexSelect would check them a second time, on the device).
 */
function gatherRowsOnDevice(t: Tensor, indices: ArrayLike<number>): Tensor {
  const n = t.shape[0];
  for (let i = 0; i < indices.length; i++) if (!isRow(indices[i], n)) throw badRow(t, indices[i]);
  const rows = upload(Int32Array.from(indices), [indices.length]);
  const out = wrap(kernels().indexSelect(t.handle, t.shape, rows.handle, 0), [indices.length, ...t.shape.slice(1)]);
  rows.dispose(); // the kernel is queued: its input may be freed now
  return out;
}

/**
 * A dataset over tensors that share their first dimension: sample i is `[x[i], y[i], …]`.
 *
 * ```ts
 * const ds = new TensorDataset(images, labels);   // images [N,1,28,28], labels [N] int32
 * const [x0, y0] = ds.get(0);                     // x0 [1,28,28], y0 a 0-d int32 tensor
 * ```
 */
export class TensorDataset implements Dataset {
  readonly tensors: readonly Tensor[];
  readonly length: number;

  constructor(...tensors: Tensor[]) {
    const op = 'TensorDataset';
    if (tensors.length === 0) throw new GradkitError(op, 'needs at least one tensor');
    for (const [i, t] of tensors.entries()) {
      if (!(t instanceof Tensor)) throw new GradkitError(op, `argument ${i} must be a Tensor, got ${typeof t}`);
      if (t.rank === 0) throw new GradkitError(op, `argument ${i} is a 0-d tensor; every tensor needs a first (sample) dimension`);
    }
    const n = tensors[0].shape[0];
    for (const [i, t] of tensors.entries()) {
      if (t.shape[0] !== n) {
        throw new GradkitError(op, `all tensors need the same first dimension: tensor 0 has shape ${fmtShape(tensors[0].shape)}, tensor ${i} has ${fmtShape(t.shape)}`);
      }
    }
    this.tensors = tensors.map((t) => t.detach());
    this.length = n;
  }

  get(index: number): Sample {
    checkIndex('TensorDataset.get', index, this.length);
    return this.tensors.map((t) => {
      const row = gatherRows(t, [index]);
      // The same buffer without the leading axis of 1; the row tensor itself is not needed.
      const sample = row.view(t.shape.slice(1));
      row.dispose();
      return sample;
    });
  }

  getBatch(indices: ArrayLike<number>): Batch {
    return this.tensors.map((t) => gatherRows(t, indices));
  }
}

/** Options of ArrayDataset: the dtype of each field built from plain arrays. */
export interface ArrayDatasetOptions {
  /**
   * dtype of each field. Default: float32 for the first field (the inputs); for later fields
   * (targets) int32 when every value is an integer (class labels), else float32.
   */
  dtypes?: readonly DType[];
}

/**
 * A dataset from plain JS arrays, one array per field, e.g. `new ArrayDataset([xs, labels])`
 * with `xs` a number[][] and `labels` a number[]. Converted to tensors once, up front.
 */
export class ArrayDataset extends TensorDataset {
  constructor(fields: readonly TensorData[], opts: ArrayDatasetOptions = {}) {
    const op = 'ArrayDataset';
    if (!Array.isArray(fields) || fields.length === 0) throw new GradkitError(op, 'expected a non-empty array of fields, e.g. [inputs, labels]');
    if (opts.dtypes !== undefined && opts.dtypes.length !== fields.length) {
      throw new GradkitError(op, `dtypes has ${opts.dtypes.length} entries but there are ${fields.length} fields`);
    }
    const tensors = fields.map((f, i) => {
      const ts = tensor(f);
      const dtype = opts.dtypes ? checkDType(op, opts.dtypes[i]) : i > 0 && valuesOf(ts).every(Number.isInteger) ? 'int32' : 'float32';
      return tensor(f, { dtype });
    });
    super(...tensors);
  }
}

/** A field as a generator function may return it. */
export type FieldLike = Tensor | number | readonly number[] | Float32Array | Float64Array | Int32Array;

/** Options of GeneratorDataset: field dtypes and whether generated samples are cached. */
export interface GeneratorDatasetOptions {
  /** dtype of each field when the function returns plain numbers/arrays (default float32). */
  dtypes?: readonly DType[];
  /** Remember samples after the first call (for expensive, deterministic functions). */
  cache?: boolean;
}

/**
 * A dataset whose samples are computed on demand: `new GeneratorDataset(1000, (i) => [x, y])`.
 * The function must be deterministic in `i` (shuffling and resuming rely on it).
 */
export class GeneratorDataset implements Dataset {
  readonly length: number;
  private readonly fn: (index: number) => readonly FieldLike[];
  private readonly dtypes: readonly DType[] | undefined;
  private readonly cache: Map<number, Sample> | null;

  constructor(length: number, fn: (index: number) => readonly FieldLike[], opts: GeneratorDatasetOptions = {}) {
    if (!Number.isInteger(length) || length < 0) throw new GradkitError('GeneratorDataset', `length must be a non-negative integer, got ${length}`);
    if (typeof fn !== 'function') throw new GradkitError('GeneratorDataset', 'expected a function (index) => sample');
    this.length = length;
    this.fn = fn;
    this.dtypes = opts.dtypes?.map((d) => checkDType('GeneratorDataset', d));
    this.cache = opts.cache ? new Map() : null;
  }

  get(index: number): Sample {
    checkIndex('GeneratorDataset.get', index, this.length);
    const hit = this.cache?.get(index);
    if (hit) return hit;
    const raw = this.fn(index);
    if (!Array.isArray(raw) || raw.length === 0) {
      throw new GradkitError('GeneratorDataset', `the function returned ${typeof raw} for index ${index}; expected a non-empty array of fields like [x, y]`);
    }
    const sample = raw.map((f, k) => toField(f, this.dtypes?.[k] ?? 'float32', index, k));
    this.cache?.set(index, sample);
    return sample;
  }
}

function toField(f: FieldLike, dtype: DType, index: number, k: number): Tensor {
  if (f instanceof Tensor) return f;
  if (typeof f === 'number') return tensor(f, { dtype });
  if (Array.isArray(f) || ArrayBuffer.isView(f)) return tensor(f as TensorData, { dtype });
  throw new GradkitError('GeneratorDataset', `field ${k} of sample ${index} is ${typeof f}; expected a Tensor, number or array`);
}

/**
 * Runs a generator (or any iterable) of samples to the end and keeps them in memory:
 * `fromGenerator(function* () { for (…) yield [x, y]; }, { dtypes: ['float32', 'int32'] })`.
 */
export function fromGenerator(source: Iterable<readonly FieldLike[]> | (() => Iterable<readonly FieldLike[]>), opts: GeneratorDatasetOptions = {}): GeneratorDataset {
  const iterable = typeof source === 'function' ? source() : source;
  if (iterable == null || typeof (iterable as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new GradkitError('fromGenerator', 'expected an iterable of samples or a generator function');
  }
  const samples = [...iterable];
  return new GeneratorDataset(samples.length, (i) => samples[i], { ...opts, cache: true });
}

/** The samples of `dataset` at `indices` (a view; nothing is copied). */
export class Subset implements Dataset {
  readonly dataset: Dataset;
  readonly indices: Int32Array;

  constructor(dataset: Dataset, indices: ArrayLike<number>) {
    this.dataset = dataset;
    this.indices = Int32Array.from(indices);
    for (const i of this.indices) checkIndex('Subset', i, dataset.length);
  }

  get length(): number {
    return this.indices.length;
  }

  get(index: number): Sample {
    checkIndex('Subset.get', index, this.length);
    return this.dataset.get(this.indices[index]);
  }

  getBatch(indices: ArrayLike<number>): Batch {
    const mapped = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      checkIndex('Subset.getBatch', indices[i], this.length);
      mapped[i] = this.indices[indices[i]];
    }
    if (this.dataset.getBatch) return this.dataset.getBatch(mapped);
    return defaultCollateSamples(this.dataset, mapped);
  }
}

function defaultCollateSamples(ds: Dataset, indices: ArrayLike<number>): Batch {
  const samples: Sample[] = [];
  for (let i = 0; i < indices.length; i++) samples.push(ds.get(indices[i]));
  return defaultCollate(samples);
}
