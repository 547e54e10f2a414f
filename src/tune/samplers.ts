/**
 * Ways to pick points of a search space: seeded random search, a full grid, and the
 * coarse-to-fine step that shrinks the space around the best trials of a first round.
 */
import { GradkitError } from '../core/errors.js';
import { Random } from '../core/rng.js';
import type { Assignment, Distribution, SearchSpace } from './space.js';

function sampleOne(d: Distribution, rng: Random): unknown {
  switch (d.kind) {
    case 'uniform':
      return rng.uniform(d.low, d.high);
    case 'logUniform':
      // Uniform in log space: each decade gets the same number of trials (the lectures' advice for rates).
      return Math.exp(rng.uniform(Math.log(d.low), Math.log(d.high)));
    case 'intUniform':
      return rng.int(d.low, d.high + 1);
    case 'choice':
      return d.values[rng.int(0, d.values.length)];
  }
}

/** `n` independent random points; the same seed gives the same points. */
export function randomSearch(space: SearchSpace, n: number, seed: number): Assignment[] {
  if (!(Number.isInteger(n) && n > 0)) throw new GradkitError('tune.randomSearch', `the number of trials must be a positive whole number, got ${n}`);
  const rng = new Random(seed);
  const out: Assignment[] = [];
  for (let i = 0; i < n; i++) {
    const a: Assignment = {};
    for (const [path, d] of space) a[path] = sampleOne(d, rng);
    out.push(a);
  }
  return out;
}

/** The grid values of one axis: `points` evenly spaced values (in log space for logUniform), every choice. */
export function gridAxis(d: Distribution, points: number): unknown[] {
  if (d.kind === 'choice') return d.values;
  if (points === 1) return [d.kind === 'logUniform' ? Math.sqrt(d.low * d.high) : d.kind === 'intUniform' ? Math.round((d.low + d.high) / 2) : (d.low + d.high) / 2];
  const t = (i: number): number => i / (points - 1);
  if (d.kind === 'logUniform') return Array.from({ length: points }, (_, i) => Math.exp(Math.log(d.low) + t(i) * (Math.log(d.high) - Math.log(d.low))));
  const vals = Array.from({ length: points }, (_, i) => d.low + t(i) * (d.high - d.low));
  return d.kind === 'intUniform' ? [...new Set(vals.map((v) => Math.round(v)))] : vals;
}

/** Every combination, first path varying slowest; `points` values per numeric axis. */
export function gridSearch(space: SearchSpace, points: number): Assignment[] {
  if (!(Number.isInteger(points) && points > 0)) throw new GradkitError('tune.gridSearch', `gridPoints must be a positive whole number, got ${points}`);
  let out: Assignment[] = [{}];
  for (const [path, d] of space) {
    const axis = gridAxis(d, points);
    out = out.flatMap((a) => axis.map((v) => ({ ...a, [path]: v })));
  }
  return out;
}

/**
 * The coarse-to-fine step: a smaller space around the best points. Each numeric range becomes
 * the span of the best points' values, widened by `margin` of that span on each side (in log
 * space for logUniform) and clipped to the old range; a span of a single value keeps `margin`
 * times the old width around it. A choice keeps only the values the best points used.
 */
export function refineSpace(space: SearchSpace, best: Assignment[], margin = 0.25): SearchSpace {
  if (best.length === 0) throw new GradkitError('tune.refineSpace', 'needs at least one finished trial to refine around');
  const out: SearchSpace = new Map();
  for (const [path, d] of space) {
    if (d.kind === 'choice') {
      const used = d.values.filter((v) => best.some((b) => JSON.stringify(b[path]) === JSON.stringify(v)));
      out.set(path, { kind: 'choice', values: used.length > 0 ? used : d.values });
      continue;
    }
    const log = d.kind === 'logUniform';
    const f = (v: number): number => (log ? Math.log(v) : v);
    const g = (v: number): number => (log ? Math.exp(v) : v);
    const vs = best.map((b) => f(b[path] as number));
    const lo0 = f(d.low);
    const hi0 = f(d.high);
    let lo = Math.min(...vs);
    let hi = Math.max(...vs);
    const pad = hi > lo ? margin * (hi - lo) : (margin * (hi0 - lo0)) / 2;
    lo = Math.max(lo0, lo - pad);
    hi = Math.min(hi0, hi + pad);
    if (d.kind === 'intUniform') {
      const l = Math.floor(lo);
      const h = Math.ceil(hi);
      out.set(path, h > l ? { kind: 'intUniform', low: l, high: h } : { kind: 'choice', values: [l] });
    } else {
      out.set(path, { kind: d.kind, low: g(lo), high: g(hi) });
    }
  }
  return out;
}
