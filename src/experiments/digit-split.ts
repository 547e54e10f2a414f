/**
 * The transfer experiments' task split: digits 0–4 (pretraining) and 5–9 (the new task), each
 * relabelled 0–4. Shared by the few-label experiment and the lectures' transfer family; not part
 * of the public API.
 */
import { Tensor } from '../tensor/tensor.js';
import { gatherRows } from '../data/dataset.js';

/** Rows of (x, y) with their label shifted to 0–4, and the row indices of each class. */
export interface DigitSplit {
  x: Tensor;
  y: Tensor;
  byClass: number[][];
}

/** Rows of (x, y) whose label is in [lo, lo + 5), labels shifted to 0–4, at most `limit` of them. */
export function digitsBetween(x: Tensor, y: Tensor, lo: number, limit: number): DigitSplit {
  const labels = y.dataSync();
  const rows: number[] = [];
  for (let i = 0; i < labels.length && rows.length < limit; i++) if (labels[i] >= lo && labels[i] < lo + 5) rows.push(i);
  const shifted = new Int32Array(rows.length);
  const byClass: number[][] = [[], [], [], [], []];
  rows.forEach((r, i) => {
    shifted[i] = labels[r] - lo;
    byClass[shifted[i]].push(i);
  });
  return { x: gatherRows(x, rows), y: Tensor.fromArray(shifted, [rows.length]), byClass };
}
