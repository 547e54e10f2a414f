/**
 * A TensorBoard event-file writer in TypeScript: `events.out.tfevents.<seconds>.<host>` holding
 * TFRecord-framed Event protos, the first with file_version "brain.Event:2". Events are buffered
 * and written by flush(): appended where the storage can append bytes, else the whole file is
 * rewritten atomically (in-memory storages; files stay small at per-epoch logging).
 */
import { GradkitError } from '../../core/errors.js';
import { joinPath, type Storage } from '../storage.js';
import { frameRecord } from './record.js';
import { concatBytes } from '../../core/bytes.js';
import { loadEventType } from './schema.js';

/** Appends bytes to a file (Node: fs.appendFileSync); without it the writer rewrites the file. */
export type AppendBytes = (path: string, bytes: Uint8Array) => void | Promise<void>;

/** Options of the TensorBoard event writer: the host in the file name, the clock, and how bytes are appended. */
export interface EventWriterOptions {
  /** Host name in the file name (default 'gradkit'). */
  host?: string;
  /** Current time in ms (tests pin it). */
  now?: () => number;
  appendBytes?: AppendBytes;
}

/** A histogram in TensorBoard's form: count, sum, sum of squares, range, and bucket right edges with counts. */
export interface HistogramData {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  /** Right edges: bucket[i] counts values in (bucketLimit[i-1], bucketLimit[i]]. */
  bucketLimit: number[];
  bucket: number[];
}

/** A TensorBoard histogram of the finite values: `bins` equal-width buckets from min to max. */
export function histogramOf(values: ArrayLike<number>, bins = 30): HistogramData {
  let min = Infinity;
  let max = -Infinity;
  let num = 0;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    num++;
    sum += v;
    sumSquares += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (num === 0) return { min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, bucketLimit: [0], bucket: [0] };
  const width = (max - min) / bins;
  if (width === 0) return { min, max, num, sum, sumSquares, bucketLimit: [max], bucket: [num] };
  const bucketLimit = Array.from({ length: bins }, (_, i) => (i === bins - 1 ? max : min + (i + 1) * width));
  const bucket = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    // Buckets are closed on the right, so a value on an edge counts in the lower bucket.
    let b = Math.ceil((v - min) / width) - 1;
    b = Math.min(bins - 1, Math.max(0, b));
    bucket[b]++;
  }
  return { min, max, num, sum, sumSquares, bucketLimit, bucket };
}

/** Appends TensorBoard events (scalars, histograms, PNG images) to one `events.out.tfevents.<time>.<host>` file. */
export class EventWriter {
  readonly path: string;
  private readonly storage: Storage;
  private readonly appendBytes: AppendBytes | undefined;
  private readonly now: () => number;
  private pending: object[] = [];
  /** Everything written so far, when the file is rewritten instead of appended. */
  private written: Uint8Array[] = [];
  private created = false;

  constructor(storage: Storage, dir: string, opts: EventWriterOptions = {}) {
    this.storage = storage;
    this.now = opts.now ?? Date.now;
    this.appendBytes = opts.appendBytes;
    const host = (opts.host ?? 'gradkit').replace(/[^A-Za-z0-9._-]/g, '_');
    this.path = joinPath(dir, `events.out.tfevents.${Math.floor(this.now() / 1000)}.${host}`);
    this.pending.push({ wallTime: this.now() / 1000, fileVersion: 'brain.Event:2' });
  }

  private value(step: number, wallTime: number | undefined, value: object): void {
    if (!Number.isInteger(step) || step < 0) throw new GradkitError('tensorboard', `step must be a whole number >= 0, got ${step}`);
    this.pending.push({ wallTime: wallTime ?? this.now() / 1000, step, summary: { value: [value] } });
  }

  addScalar(tag: string, value: number, step: number, wallTime?: number): void {
    this.value(step, wallTime, { tag, simpleValue: value });
  }

  addHistogram(tag: string, values: ArrayLike<number> | HistogramData, step: number, opts: { bins?: number; wallTime?: number } = {}): void {
    const histo = 'bucket' in values ? values : histogramOf(values, opts.bins);
    this.value(step, opts.wallTime, { tag, histo });
  }

  /** A PNG image (colorspace: 1 grey, 3 RGB, 4 RGBA). */
  addImage(tag: string, png: Uint8Array, size: { width: number; height: number; colorspace: 1 | 3 | 4 }, step: number, wallTime?: number): void {
    this.value(step, wallTime, { tag, image: { height: size.height, width: size.width, colorspace: size.colorspace, encodedImageString: png } });
  }

  /** Encodes and writes the buffered events. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const Event = await loadEventType();
    const frames = this.pending.map((e) => frameRecord(new Uint8Array(Event.encode(Event.fromObject(e)).finish())));
    this.pending = [];
    const bytes = concatBytes(frames);
    if (!this.created) {
      const dir = this.path.slice(0, this.path.lastIndexOf('/'));
      if (dir !== '') await this.storage.mkdir(dir);
      // A resumed run started within the same second gets the same name: keep what is there.
      if (!this.appendBytes && (await this.storage.exists(this.path))) this.written.push(await this.storage.read(this.path));
      this.created = true;
    }
    if (this.appendBytes) {
      await this.appendBytes(this.path, bytes);
    } else {
      this.written.push(bytes);
      await this.storage.writeAtomic(this.path, concatBytes(this.written));
    }
  }
}

