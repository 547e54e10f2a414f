import type { DataArray } from '../../core/dtype.js';
import { sizeOf, type Shape } from '../../core/shape.js';
import type { ArgReduceOp, ReduceOp } from '../../backend/kernels.js';
import { allocLike } from './util.js';
import { transpose } from './shape.js';

/** Moves the reduced axes last so each output element reduces one contiguous row. */
function toRows(x: DataArray, shape: Shape, axes: readonly number[]): { rows: DataArray; outer: number; inner: number } {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const identity = perm.every((p, i) => p === i);
  const rows = identity ? x : transpose(x, shape, perm);
  return { rows, outer: sizeOf(kept.map((i) => shape[i])), inner: sizeOf(axes.map((i) => shape[i])) };
}

export function reduce(op: ReduceOp, x: DataArray, shape: Shape, axes: readonly number[]): DataArray {
  const { rows, outer, inner } = toRows(x, shape, axes);
  const out = allocLike(x, outer);
  for (let o = 0; o < outer; o++) {
    const base = o * inner;
    let acc: number;
    switch (op) {
      case 'sum':
        acc = 0;
        for (let i = 0; i < inner; i++) acc += rows[base + i];
        break;
      case 'prod':
        acc = 1;
        for (let i = 0; i < inner; i++) acc *= rows[base + i];
        break;
      case 'max':
        acc = -Infinity;
        for (let i = 0; i < inner; i++) {
          const v = rows[base + i];
          if (v > acc || Number.isNaN(v)) acc = v;
          if (Number.isNaN(acc)) break;
        }
        break;
      case 'min':
        acc = Infinity;
        for (let i = 0; i < inner; i++) {
          const v = rows[base + i];
          if (v < acc || Number.isNaN(v)) acc = v;
          if (Number.isNaN(acc)) break;
        }
        break;
    }
    out[o] = acc;
  }
  return out;
}

export function argReduce(op: ArgReduceOp, x: DataArray, shape: Shape, axis: number): Int32Array {
  const { rows, outer, inner } = toRows(x, shape, [axis]);
  const out = new Int32Array(outer);
  for (let o = 0; o < outer; o++) {
    const base = o * inner;
    // A NaN wins (first one), matching max()/min() which return NaN: the index points at it.
    let best = 0;
    if (!Number.isNaN(rows[base])) {
      for (let i = 1; i < inner; i++) {
        const v = rows[base + i];
        if (Number.isNaN(v)) {
          best = i;
          break;
        }
        const b = rows[base + best];
        if (op === 'argmax' ? v > b : v < b) best = i;
      }
    }
    out[o] = best;
  }
  return out;
}
