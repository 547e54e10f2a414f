import * as g from '../../src/index.js';

/** A float64 leaf that requires grad (optimizer tests work in float64 for exact arithmetic). */
export function param(values: number[], opts: { tags?: string[]; name?: string } = {}): g.Parameter {
  return new g.Parameter(g.tensor(values, { dtype: 'float64' }), { tags: opts.tags, name: opts.name });
}

/** Sets p.grad to the given values (as a loss's backward would). */
export function setGrad(p: g.Tensor, values: number[]): void {
  p.grad = g.tensor(values, { dtype: p.dtype });
}

/** Values of a tensor as a plain array. */
export function vals(t: g.Tensor): number[] {
  return Array.from(t.dataSync());
}
