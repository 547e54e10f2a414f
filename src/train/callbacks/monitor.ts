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

/**
 * The known name a misspelt one most likely meant: one that starts with it ('valAcc' →
 * 'valAccuracy'), else the nearest by edit distance within a third of its length; null if none.
 */
export function closestName(name: string, known: readonly string[]): string | null {
  const lower = name.toLowerCase();
  const prefixed = known.filter((k) => k.toLowerCase().startsWith(lower) || lower.startsWith(k.toLowerCase()));
  if (prefixed.length > 0) return prefixed.sort((a, b) => Math.abs(a.length - name.length) - Math.abs(b.length - name.length))[0];
  let best: string | null = null;
  let bestD = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

export function improved(mode: Mode, value: number, best: number, minDelta: number): boolean {
  if (!Number.isFinite(value)) return false;
  return mode === 'min' ? value < best - minDelta : value > best + minDelta;
}
