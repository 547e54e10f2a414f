/**
 * Axis scales of the dashboard's parallel-coordinates view (pure, no DOM, so Node tests can call
 * it). A hyperparameter searched over several decades (learning rate, weight decay) would put
 * all but the largest values in a pile at the bottom of a linear axis, so such an axis is
 * logarithmic, with ticks at the powers of ten.
 */

/** An axis spanning at least this ratio (max / min, all values positive) is logarithmic: two decades. */
export const LOG_RATIO = 100;

export interface AxisTick {
  value: number;
  /** Position on the axis, 0 (bottom) to 1 (top). */
  at: number;
  label: string;
}

export interface AxisScale {
  kind: 'linear' | 'log';
  lo: number;
  hi: number;
  /** A value's position on the axis, 0 (bottom) to 1 (top); a constant axis puts everything at 0.5. */
  norm(v: number): number;
  ticks: AxisTick[];
}

/** A number as a short label (four significant digits, no trailing zeros). */
const short = (v: number): string => String(Number(v.toPrecision(4)));

/** 10^k as a label: '1e-3', '1e0', '1e2'. */
export const powerLabel = (k: number): string => `1e${k}`;

/** The scale of one axis from the values on it (non-finite values are ignored). */
export function axisScale(values: readonly number[]): AxisScale {
  const vs = values.filter((v) => Number.isFinite(v));
  const lo = vs.length ? Math.min(...vs) : 0;
  const hi = vs.length ? Math.max(...vs) : 1;
  if (lo > 0 && hi / lo >= LOG_RATIO) {
    const llo = Math.log10(lo);
    const lhi = Math.log10(hi);
    const norm = (v: number): number => (Math.log10(v) - llo) / (lhi - llo);
    const ticks: AxisTick[] = [];
    // Rounding guards against log10(0.001) = -2.9999999999999996 dropping the end tick.
    for (let k = Math.ceil(Number(llo.toFixed(9))); k <= Math.floor(Number(lhi.toFixed(9))); k++) {
      ticks.push({ value: 10 ** k, at: Math.min(1, Math.max(0, (k - llo) / (lhi - llo))), label: powerLabel(k) });
    }
    return { kind: 'log', lo, hi, norm, ticks };
  }
  const norm = (v: number): number => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
  const ticks = hi > lo ? [{ value: lo, at: 0, label: short(lo) }, { value: hi, at: 1, label: short(hi) }] : [{ value: lo, at: 0.5, label: short(lo) }];
  return { kind: 'linear', lo, hi, norm, ticks };
}
