/**
 * Progress output. On a terminal, one line per epoch redrawn in place with a bar and the running
 * loss; elsewhere (a pipe, CI logs), only a plain summary line per epoch, so logs stay readable.
 */
import { andThen, type Awaitable } from '../../core/awaitable.js';
import { ORDER, type Callback } from '../callback.js';
import type { Trainer } from '../trainer.js';

/** Where progress goes: process.stdout fits, as does any { write }. */
export interface TextSink {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

function defaultSink(): TextSink {
  const out = (globalThis as { process?: { stdout?: TextSink } }).process?.stdout;
  return out ?? { write: (s: string) => console.log(s.replace(/\n$/, '')) };
}

/** Formats an epoch's logs: "loss 0.1234 · accuracy 97.12% · valLoss …". */
export function formatLogs(logs: Record<string, number>): string {
  return Object.entries(logs)
    .filter(([k]) => k !== 'epoch')
    .map(([k, v]) => (/acc|top\d/i.test(k) ? `${k} ${(v * 100).toFixed(2)}%` : k === 'lr' ? `lr ${v.toExponential(2)}` : k === 'seconds' ? `${v.toFixed(1)}s` : `${k} ${v.toFixed(4)}`))
    .join(' · ');
}

/** Writes one progress line per epoch (loss, metrics, learning rate, time) to a text sink. */
export class Progress implements Callback {
  readonly name = 'progress';
  readonly order = ORDER.progress;
  readonly sink: TextSink;
  private lastDraw = 0;
  private epochStart = 0;
  private runningLoss = 0;
  private seen = 0;

  /** Writes nothing into trainer.logs. */
  logKeys(): string[] {
    return [];
  }

  constructor(opts: { sink?: TextSink } = {}) {
    this.sink = opts.sink ?? defaultSink();
  }

  private get tty(): boolean {
    return this.sink.isTTY === true;
  }

  beforeEpoch(): void {
    this.epochStart = Date.now();
    this.runningLoss = 0;
    this.seen = 0;
  }

  afterBatch(t: Trainer): Awaitable<void> {
    if (!t.training || !this.tty) return;
    return andThen(t.readLoss(), (loss) => this.draw(t, loss));
  }

  private draw(t: Trainer, batchLoss: number | null): void {
    if (batchLoss !== null) {
      this.runningLoss += batchLoss;
      this.seen++;
    }
    const now = Date.now();
    if (now - this.lastDraw < 100 && t.batchIndex + 1 < t.numBatches) return;
    this.lastDraw = now;
    const width = 24;
    const done = Math.round(((t.batchIndex + 1) / Math.max(1, t.numBatches)) * width);
    const bar = `${'█'.repeat(done)}${'░'.repeat(width - done)}`;
    const loss = this.seen > 0 ? ` loss ${(this.runningLoss / this.seen).toFixed(4)}` : '';
    this.sink.write(`\r\x1b[2Kepoch ${t.epoch + 1}/${t.epochs} ${bar} ${t.batchIndex + 1}/${t.numBatches}${loss}`);
  }

  afterEpoch(t: Trainer): void {
    const secs = (Date.now() - this.epochStart) / 1000;
    const prefix = this.tty ? '\r\x1b[2K' : '';
    this.sink.write(`${prefix}epoch ${t.epoch + 1}/${t.epochs} · ${formatLogs(t.logs)} · ${secs.toFixed(1)}s\n`);
  }

  afterFit(t: Trainer): void {
    if (t.stopReason !== null) this.sink.write(`stopped: ${t.stopReason}\n`);
  }
}
