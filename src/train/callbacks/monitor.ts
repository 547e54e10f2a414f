import { GradkitError } from '../../core/errors.js';
import type { Trainer } from '../trainer.js';

export type Mode = 'min' | 'max';

/** 'max' for accuracy-like metrics, 'min' for losses and everything else (Keras's 'auto'). */
export function autoMode(monitor: string): Mode {
  return /acc|top\d|auc|f1|precision|recall/i.test(monitor) ? 'max' : 'min';
}

export function checkMode(op: string, mode: unknown): Mode {
  if (mode !== 'min' && mode !== 'max') throw new GradkitError(op, `mode must be 'min' or 'max', got ${JSON.stringify(mode)}`);
  return mode;
}

/** The monitored value of this epoch; a clear error when the name is wrong. */
export function readMonitor(op: string, t: Trainer, monitor: string): number {
  const v = t.logs[monitor];
  if (v === undefined) {
    const known = Object.keys(t.logs).filter((k) => k !== 'epoch');
    throw new GradkitError(op, `monitor '${monitor}' is not in this epoch's logs; available: ${known.join(', ') || '(none)'}${monitor.startsWith('val') ? ' (is validData set?)' : ''}`);
  }
  return v;
}

export function improved(mode: Mode, value: number, best: number, minDelta: number): boolean {
  if (!Number.isFinite(value)) return false;
  return mode === 'min' ? value < best - minDelta : value > best + minDelta;
}
