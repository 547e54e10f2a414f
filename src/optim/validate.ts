import { GradkitError } from '../core/errors.js';

/** Checks a hyperparameter is a finite number in a range, naming the optimizer and the option. */
export function checkNumber(
  op: string,
  name: string,
  value: unknown,
  range: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean; integer?: boolean } = {},
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new GradkitError(op, `${name} must be a finite number, got ${String(value)}`);
  }
  const { min, max } = range;
  const tooLow = min !== undefined && (range.minExclusive ? value <= min : value < min);
  const tooHigh = max !== undefined && (range.maxExclusive ? value >= max : value > max);
  if (tooLow || tooHigh || (range.integer && !Number.isInteger(value))) {
    const lo = min === undefined ? '(-inf' : `${range.minExclusive ? '(' : '['}${min}`;
    const hi = max === undefined ? 'inf)' : `${max}${range.maxExclusive ? ')' : ']'}`;
    throw new GradkitError(op, `${name} must be ${range.integer ? 'an integer ' : ''}in ${lo}, ${hi}, got ${value}`);
  }
  return value;
}

export function checkBoolean(op: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new GradkitError(op, `${name} must be true or false, got ${String(value)}`);
  return value;
}
