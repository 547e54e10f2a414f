/** Small helpers the built-in converters share. */
import { onnxAttr } from '../graph.js';
import type { OnnxConverterContext } from '../registry.js';

export type Pair = number | readonly [number, number];

export const pairOf = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/**
 * ReduceMean / ReduceMax over `axes`. Opset 18 moved `axes` from an attribute to a second
 * (int64) input; the exporter supports both sides of that change.
 */
export function reduce(ctx: OnnxConverterContext, op: 'ReduceMean' | 'ReduceMax', x: string, axes: readonly number[], keepDims: boolean): string {
  const keepdims = onnxAttr.int(keepDims ? 1 : 0);
  if (ctx.opsetVersion < 18) return ctx.node(op, [x], { axes: onnxAttr.ints(axes), keepdims });
  return ctx.node(op, [x, ctx.int64s(axes)], { keepdims });
}

/** A per-channel vector [C] as dims [C, 1, …] that broadcast against an input of rank `rank` (channel axis 1). */
export function channelDims(c: number, rank: number): number[] {
  return [c, ...new Array<number>(Math.max(rank - 2, 0)).fill(1)];
}
