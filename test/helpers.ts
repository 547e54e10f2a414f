import assert from 'node:assert/strict';
import { gradCheck, Tensor, type GradCheckOptions } from '../src/index.js';

/** Asserts every value of `actual` is within atol + rtol·|expected| of `expected`. */
export function assertClose(actual: Tensor | ArrayLike<number>, expected: ArrayLike<number> | number[], opts: { atol?: number; rtol?: number; msg?: string } = {}): void {
  const a = actual instanceof Tensor ? actual.dataSync() : actual;
  const e = expected;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-5;
  assert.equal(a.length, e.length, `${opts.msg ?? ''} length ${a.length} vs expected ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const ok = Number.isNaN(e[i]) ? Number.isNaN(a[i]) : Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]) || a[i] === e[i];
    assert.ok(ok, `${opts.msg ?? ''} element ${i}: got ${a[i]}, expected ${e[i]}`);
  }
}

/** Flattens nested number arrays. */
export function flat(x: unknown): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x as number];
}

/** Runs gradCheck and fails with its summary (which names the worst element). */
export function assertGrad(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradCheckOptions = {}): void {
  const r = gradCheck(f, inputs, opts);
  assert.ok(r.ok, r.summary);
  assert.ok(r.checked > 0, 'gradCheck checked nothing');
}

/** Asserts fn throws a GradkitError whose message matches every pattern. */
export function assertThrowsMsg(fn: () => unknown, ...patterns: RegExp[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error, 'expected an error to be thrown');
  assert.equal((err as Error).name, 'GradkitError', `expected a GradkitError, got ${(err as Error).name}: ${(err as Error).message}`);
  for (const p of patterns) assert.match((err as Error).message, p);
}
