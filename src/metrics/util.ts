import { GradkitError, fmtShape } from '../core/errors.js';
import { readSync } from '../tensor/host.js';
import { Tensor } from '../tensor/tensor.js';

/** Scores/probabilities as rows: a Tensor [N, C] or number[][]. */
export type Matrix = Tensor | readonly (readonly number[])[];
/** Labels: an int Tensor [N] or number[]. */
export type Labels = Tensor | readonly number[] | ArrayLike<number>;

export function asRows(op: string, what: string, m: Matrix): { data: ArrayLike<number>; n: number; c: number } {
  if (m instanceof Tensor) {
    if (m.rank !== 2) throw new GradkitError(op, `${what} must be [N, C], got ${fmtShape(m.shape)}`);
    return { data: readSync(m), n: m.shape[0], c: m.shape[1] }; // read-only: callers never write into data
  }
  if (!Array.isArray(m)) throw new GradkitError(op, `${what} must be a Tensor [N, C] or an array of rows`);
  const n = m.length;
  const c = n === 0 ? 0 : m[0].length;
  const data = new Float64Array(n * c);
  m.forEach((row, i) => {
    if (row.length !== c) throw new GradkitError(op, `${what} row ${i} has ${row.length} values, row 0 has ${c}`);
    data.set(row, i * c);
  });
  return { data, n, c };
}

export function asLabels(op: string, what: string, y: Labels, n?: number, classes?: number): number[] {
  let arr: number[];
  if (y instanceof Tensor) {
    if (y.rank !== 1) throw new GradkitError(op, `${what} must be 1-D [N], got ${fmtShape(y.shape)}`);
    arr = Array.from(readSync(y));
  } else {
    arr = Array.from(y);
  }
  if (n !== undefined && arr.length !== n) throw new GradkitError(op, `${what} has ${arr.length} entries, expected ${n} (one per sample)`);
  arr.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || (classes !== undefined && v >= classes)) {
      throw new GradkitError(op, `${what}[${i}] = ${v} is not a class index${classes !== undefined ? ` in 0..${classes - 1}` : ''}`);
    }
  });
  return arr;
}

/**
 * Whether row i of an [N, C] score matrix is all finite. A row holding NaN has no prediction:
 * every comparison with NaN is false, so an argmax or rank over it would land on class 0 (or the
 * target) and count as correct.
 */
export function rowFinite(data: ArrayLike<number>, i: number, c: number): boolean {
  // x·0 is 0 for finite x and NaN for NaN/±Inf: one branch-free pass.
  let z = 0;
  for (let j = i * c, end = j + c; j < end; j++) z += data[j] * 0;
  return z === 0;
}

/** Index of the largest value of each row (first on ties); -1 for a row with a non-finite score. */
export function argmaxRows(data: ArrayLike<number>, n: number, c: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if (!rowFinite(data, i, c)) {
      out[i] = -1;
      continue;
    }
    let b = 0;
    for (let j = 1; j < c; j++) if (data[i * c + j] > data[i * c + b]) b = j;
    out[i] = b;
  }
  return out;
}
