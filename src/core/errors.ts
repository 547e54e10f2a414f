/**
 * The one error class gradkit throws for bad input. The message always names the op,
 * what it got and what it expected, so a user can fix the call without reading kernels.
 */
export class GradkitError extends Error {
  readonly op: string;
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'GradkitError';
    this.op = op;
  }
}

/** Formats a shape the way error messages show it: [2, 3]. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
