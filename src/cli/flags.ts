import { GradkitError } from '../core/errors.js';

/** Parses a positive integer flag value; the error names the subcommand it was given to. */
export function intFlag(command: string, name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(Number.isInteger(n) && n > 0)) throw new GradkitError(`gradkit ${command}`, `--${name} must be a positive whole number, got '${v}'`);
  return n;
}
