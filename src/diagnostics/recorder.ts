/**
 * TrainingRecorder: every N optimizer steps, one JSON line in <run>/record.jsonl with per-layer
 * activation histograms (forward hooks, as activationStats), per-parameter gradient histograms
 * and update/weight ratios (‖Δw‖/‖w‖, as GradientFlow). The dashboard draws them over time.
 *
 * Disk use is bounded by `maxBytes`: a line that would take the file past the cap is not written;
 * instead a last line `{ "kind": "capped", "step", "bytes" }` (step: the first one not recorded) ends the file, and
 * nothing more is recorded for the rest of the run (training itself goes on). Room for that line
 * is kept free, so the file never exceeds the cap. A resumed run counts the bytes already there;
 * steps recorded after the last checkpoint of a crashed run are recorded again (readers keep the
 * last line of a step, as the dashboard does).
 */
import { GradkitError } from '../core/errors.js';
import type { Parameter } from '../nn/parameter.js';
import type { Callback } from '../train/callback.js';
import type { Storage } from '../train/storage.js';
import type { Trainer } from '../train/trainer.js';
import { watchActivations } from './activations.js';
import { tensorStats, type Histogram } from './stats.js';
import { updateRatio } from './gradient-flow.js';

/** Options of the TrainingRecorder callback: the JSON-lines file, how often to record, the size cap and histogram bins. */
export interface TrainingRecorderOptions {
  storage: Storage;
  /** The JSON-lines file (the CLI uses <run>/record.jsonl). */
  path: string;
  /** Record every this many optimizer steps (default 50; step 0 is always recorded). */
  everySteps?: number;
  /** Stop recording before the file passes this many bytes (default 20 MiB). */
  maxBytes?: number;
  /** Histogram bins (default 30). */
  bins?: number;
}

/** The recorded statistics of one layer (activations or gradients): mean, std, dead/saturated fractions and histogram. */
export interface RecordedLayer {
  name: string;
  type?: string;
  mean: number;
  std: number;
  dead?: number | null;
  saturated?: number | null;
  histogram: Histogram;
}

/** One line of the training record: the activation and gradient statistics of every layer and the update ratios at one step. */
export interface RecordLine {
  kind: 'record';
  step: number;
  epoch: number;
  activations: RecordedLayer[];
  gradients: RecordedLayer[];
  /** ‖Δw‖/‖w‖ of this step by parameter (parameters with ‖w‖ = 0 are left out). */
  updateRatio: Record<string, number>;
}

/** Room kept for the closing `capped` line. */
const CAP_LINE_ROOM = 96;

const round = (v: number): number => (Number.isFinite(v) ? Number(v.toPrecision(4)) : v);
const compact = (h: Histogram): Histogram => ({ edges: h.edges.map(round), counts: h.counts });


/** A Trainer callback that records per-layer activation/gradient histograms and update/weight ratios to a JSON-lines file every N steps, up to a byte cap. */
export class TrainingRecorder implements Callback {
  readonly name = 'trainingRecorder';
  // Before gradient clipping (20): record the gradients backward produced.
  readonly order = 16;
  readonly everySteps: number;
  readonly maxBytes: number;
  readonly bins: number;
  /** Bytes in the file so far. */
  bytes = 0;
  /** True once the cap was reached: nothing more is recorded. */
  capped = false;
  private readonly storage: Storage;
  readonly path: string;
  private watch: ReturnType<typeof watchActivations> | null = null;
  private line: RecordLine | null = null;
  private before: Map<Parameter, Float64Array> | null = null;

  constructor(opts: TrainingRecorderOptions) {
    const op = 'TrainingRecorder';
    if (opts?.storage === undefined || typeof opts.path !== 'string') throw new GradkitError(op, 'expected { storage, path }');
    this.storage = opts.storage;
    this.path = opts.path;
    this.everySteps = opts.everySteps ?? 50;
    this.maxBytes = opts.maxBytes ?? 20 * 2 ** 20;
    this.bins = opts.bins ?? 30;
    if (!(Number.isInteger(this.everySteps) && this.everySteps > 0)) throw new GradkitError(op, `everySteps must be a positive whole number, got ${this.everySteps}`);
    if (!(Number.isInteger(this.maxBytes) && this.maxBytes > CAP_LINE_ROOM)) throw new GradkitError(op, `maxBytes must be a whole number > ${CAP_LINE_ROOM}, got ${this.maxBytes}`);
    if (!(Number.isInteger(this.bins) && this.bins > 1)) throw new GradkitError(op, `bins must be a whole number > 1, got ${this.bins}`);
  }

  private measuring(t: Trainer): boolean {
    return !this.capped && t.training && t.step % this.everySteps === 0;
  }

  async beforeFit(): Promise<void> {
    if (!(await this.storage.exists(this.path))) return;
    const bytes = await this.storage.read(this.path);
    this.bytes = bytes.length;
    this.capped = new TextDecoder().decode(bytes).includes('"kind":"capped"');
  }

  beforeBatch(t: Trainer): void {
    if (!this.measuring(t)) return;
    this.line = { kind: 'record', step: t.step, epoch: t.epoch, activations: [], gradients: [], updateRatio: {} };
    this.watch = watchActivations(t.model, { bins: this.bins });
  }

  afterForward(): void {
    if (this.watch === null || this.line === null) return;
    this.watch.remove();
    this.line.activations = this.watch.records.map((r) => ({ name: r.name, type: r.type, mean: round(r.mean), std: round(r.std), dead: r.dead, saturated: r.saturated, histogram: compact(r.histogram) }));
    this.watch = null;
  }

  afterBackward(t: Trainer): void {
    if (this.line === null) return;
    this.before = new Map();
    for (const [name, p] of t.model.namedParameters()) {
      if (!p.grad) continue;
      const s = tensorStats(p.grad.dataSync(), 1, { bins: this.bins });
      this.line.gradients.push({ name, mean: round(s.mean), std: round(s.std), histogram: compact(s.histogram) });
      this.before.set(p, Float64Array.from(p.dataSync()));
    }
  }

  afterStep(t: Trainer): void {
    if (this.line === null || this.before === null) return;
    for (const [name, p] of t.model.namedParameters()) {
      const w0 = this.before.get(p);
      if (w0 === undefined) continue;
      const ratio = updateRatio(w0, p.dataSync());
      if (ratio !== null) this.line.updateRatio[name] = round(ratio);
    }
    this.before = null;
  }

  async afterBatch(t: Trainer): Promise<void> {
    this.watch?.remove();
    this.watch = null;
    const line = this.line;
    this.line = null;
    this.before = null;
    if (line === null || !t.training) return;
    const text = `${JSON.stringify(line)}\n`;
    const size = new TextEncoder().encode(text).length;
    if (this.bytes + size > this.maxBytes - CAP_LINE_ROOM) {
      const cap = `${JSON.stringify({ kind: 'capped', step: line.step, bytes: this.bytes, maxBytes: this.maxBytes })}\n`;
      await this.storage.append(this.path, cap);
      this.bytes += cap.length;
      this.capped = true;
      return;
    }
    await this.storage.append(this.path, text);
    this.bytes += size;
  }
}
