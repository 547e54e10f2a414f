/**
 * Verdict rules: a lecture's claim is judged from the numbers of repeated seeded runs, by a rule
 * written here, never by hand. Every rule needs at least MIN_SEEDS values per arm; with fewer the
 * answer is 'inconclusive'. Differences are judged against twice their standard error (about a
 * 95% interval), plus a minimum effect the claim must show to count as a real effect.
 */
export type Verdict = 'held' | 'not held' | 'inconclusive';

export const MIN_SEEDS = 3;

/** Mean, sample standard deviation and the values over seeds. */
export interface Stat {
  mean: number;
  std: number;
  values: number[];
}

/** Mean and sample standard deviation; a non-finite value (a diverged run) makes the mean non-finite. */
export function summarize(values: readonly number[]): Stat {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, values: [] };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, values: [...values] };
}

export interface CompareOptions {
  better: 'higher' | 'lower';
  /** Smallest difference (in the metric's units) that counts as an effect (default 0). */
  minEffect?: number;
}

export interface Judgement {
  verdict: Verdict;
  /** One line: the rule applied to these numbers. */
  why: string;
}

const fmt = (v: number): string => (Math.abs(v) >= 1e6 ? v.toExponential(2) : Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(3));

/**
 * Claim: arm `a` beats arm `b` on a metric. With d the mean difference in the claimed direction
 * and se its standard error: held when d > 2·se and d > minEffect; not held when even d + 2·se
 * stays at or below minEffect (no effect of the claimed size is plausible); otherwise inconclusive.
 */
export function compareArms(a: readonly number[], b: readonly number[], opts: CompareOptions): Judgement {
  const minEffect = opts.minEffect ?? 0;
  if (a.length < MIN_SEEDS || b.length < MIN_SEEDS) {
    return { verdict: 'inconclusive', why: `needs ≥${MIN_SEEDS} seeds per arm, got ${a.length} and ${b.length}` };
  }
  // A diverged run (NaN/Infinity) has no number to average. When one arm diverged on every seed
  // and the other on none, the finite arm is better; any other mix of divergence is inconclusive.
  const badA = a.filter((v) => !Number.isFinite(v)).length;
  const badB = b.filter((v) => !Number.isFinite(v)).length;
  if (badA > 0 || badB > 0) {
    const why = `diverged in ${badA}/${a.length} vs ${badB}/${b.length} seeds`;
    if (badA === 0 && badB === b.length) return { verdict: 'held', why };
    if (badB === 0 && badA === a.length) return { verdict: 'not held', why };
    return { verdict: 'inconclusive', why };
  }
  const sa = summarize(a);
  const sb = summarize(b);
  const sign = opts.better === 'higher' ? 1 : -1;
  const d = sign * (sa.mean - sb.mean);
  const se = Math.sqrt(sa.std ** 2 / a.length + sb.std ** 2 / b.length);
  const rule = `d = ${fmt(d)} (${opts.better} is better), 2·se = ${fmt(2 * se)}, min effect ${fmt(minEffect)}`;
  if (d > 2 * se && d > minEffect) return { verdict: 'held', why: rule };
  if (d + 2 * se <= minEffect) return { verdict: 'not held', why: rule };
  return { verdict: 'inconclusive', why: rule };
}

export interface ThresholdOptions {
  /** The claim: the metric's mean lies above (or below) this value. */
  above?: number;
  below?: number;
}

/** Claim: a metric lies above/below a threshold. held when the whole mean ± 2·se interval is on the claimed side, not held when it is all on the other side. */
export function compareThreshold(values: readonly number[], opts: ThresholdOptions): Judgement {
  if (values.length < MIN_SEEDS) return { verdict: 'inconclusive', why: `needs ≥${MIN_SEEDS} seeds, got ${values.length}` };
  if ((opts.above === undefined) === (opts.below === undefined)) throw new Error('compareThreshold: give exactly one of above/below');
  const better = opts.above !== undefined ? 'higher' : 'lower';
  const bad = values.filter((v) => !Number.isFinite(v)).length;
  if (bad > 0) return { verdict: 'inconclusive', why: `diverged in ${bad}/${values.length} seeds` };
  const s = summarize(values);
  const se = s.std / Math.sqrt(values.length);
  const lo = s.mean - 2 * se;
  const hi = s.mean + 2 * se;
  const t = (opts.above ?? opts.below) as number;
  const rule = `mean ${fmt(s.mean)} ± 2·se ${fmt(2 * se)} vs ${better === 'higher' ? 'above' : 'below'} ${fmt(t)}`;
  const claimed = better === 'higher' ? lo > t : hi < t;
  const opposite = better === 'higher' ? hi <= t : lo >= t;
  return { verdict: claimed ? 'held' : opposite ? 'not held' : 'inconclusive', why: rule };
}

/** A claim made of several checks: held when all hold, not held when any fails, else inconclusive. */
export function allOf(parts: readonly Judgement[]): Judgement {
  const why = parts.map((p) => p.why).join('; ');
  if (parts.some((p) => p.verdict === 'not held')) return { verdict: 'not held', why };
  if (parts.length > 0 && parts.every((p) => p.verdict === 'held')) return { verdict: 'held', why };
  return { verdict: 'inconclusive', why };
}
