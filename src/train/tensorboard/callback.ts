/**
 * train.TensorBoard: writes a run's metrics (and optionally weight/gradient histograms) as
 * TensorBoard event files, so `tensorboard --logdir runs` shows gradkit runs next to PyTorch ones.
 * Scalars are logged against the optimizer step, so per-step and per-epoch values share an axis.
 *
 * ```ts
 * new Trainer({ …, callbacks: [new TensorBoard({ storage, dir: 'runs/a/tensorboard', histograms: true })] });
 * ```
 */
import { GradkitError } from '../../core/errors.js';
import { allOf, andThen, type Awaitable } from '../../core/awaitable.js';
import { readNow } from '../../tensor/host.js';
import { ORDER, type Callback } from '../callback.js';
import type { Storage } from '../storage.js';
import type { Trainer } from '../trainer.js';
import { EventWriter, type AppendBytes } from './writer.js';

/** Options of the TensorBoard callback: where the event file goes, step logging and parameter histograms. */
export interface TensorBoardOptions {
  storage: Storage;
  /** The folder of the event file (the CLI uses <run>/tensorboard). */
  dir: string;
  /** Also log the training loss every this many steps (default: epoch metrics only). */
  everySteps?: number;
  /** Weight and gradient histograms of every parameter at the end of each epoch (default false). */
  histograms?: boolean;
  host?: string;
  now?: () => number;
  appendBytes?: AppendBytes;
}

/** A Trainer callback writing TensorBoard event files: per-epoch (or every `everySteps`) scalars and, optionally, weight and gradient histograms. */
export class TensorBoard implements Callback {
  readonly name = 'tensorboard';
  readonly order = ORDER.log;
  readonly writer: EventWriter;
  private readonly everySteps: number | null;
  private readonly histograms: boolean;
  /** Weight histograms need the gradients of the last training batch, kept from afterBackward. */
  private lastGrads = new Map<string, ArrayLike<number>>();

  constructor(opts: TensorBoardOptions) {
    if (opts?.storage === undefined || typeof opts.dir !== 'string') throw new GradkitError('TensorBoard', 'expected { storage, dir }');
    this.everySteps = opts.everySteps ?? null;
    if (this.everySteps !== null && !(Number.isInteger(this.everySteps) && this.everySteps > 0)) throw new GradkitError('TensorBoard', `everySteps must be a positive whole number, got ${this.everySteps}`);
    this.histograms = opts.histograms ?? false;
    this.writer = new EventWriter(opts.storage, opts.dir, { host: opts.host, now: opts.now, appendBytes: opts.appendBytes });
  }

  afterBackward(t: Trainer): Awaitable<void> {
    if (!this.histograms || t.batchIndex !== t.numBatches - 1) return;
    this.lastGrads.clear();
    const grads = [...t.model.namedParameters()].filter(([, p]) => p.grad !== null);
    // Copies: the gradients change before the epoch's histograms are written (a promise on a GPU).
    return andThen(allOf(grads.map(([, p]) => andThen(readNow(p.grad!), (v) => v.slice()))), (values) => {
      grads.forEach(([name], i) => this.lastGrads.set(name, values[i]));
    });
  }

  afterBatch(t: Trainer): Awaitable<void> {
    if (!t.training || this.everySteps === null || t.loss === null || t.step % this.everySteps !== 0) return;
    const step = t.step;
    return andThen(t.readLoss(), (loss) => void this.writer.addScalar('step/loss', loss ?? NaN, step));
  }

  async afterEpoch(t: Trainer): Promise<void> {
    for (const [k, v] of Object.entries(t.logs)) if (k !== 'epoch' && typeof v === 'number' && Number.isFinite(v)) this.writer.addScalar(`epoch/${k}`, v, t.step);
    if (this.histograms) {
      const params = [...t.model.namedParameters()];
      const weights = await Promise.all(params.map(([, p]) => p.data()));
      params.forEach(([name], i) => this.writer.addHistogram(`weights/${name}`, weights[i], t.step));
      for (const [name, g] of this.lastGrads) this.writer.addHistogram(`gradients/${name}`, g, t.step);
    }
    await this.writer.flush();
  }

  async afterFit(): Promise<void> {
    await this.writer.flush();
  }
}
