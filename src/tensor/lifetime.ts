import { keep as keepInScope, runScope } from './scope.js';
import { Tensor } from './tensor.js';

const isTensor = (v: unknown): v is Tensor => v instanceof Tensor;

/**
 * Runs fn and disposes every tensor it created except those it returns (alone, or in arrays,
 * Maps and plain objects) and those passed to `keep()` — TensorFlow.js's `tidy`. For loops
 * outside the Trainer (which scopes each step itself):
 *
 * ```ts
 * for (const [x, y] of batches) {
 *   const loss = g.scope(() => {
 *     const l = losses.crossEntropy(model.forward(x), y);
 *     l.backward();
 *     opt.step();
 *     return l.detach();
 *   });
 *   console.log(loss.item());
 * }
 * ```
 */
export function scope<T>(fn: () => T): T {
  return runScope(fn, isTensor);
}

/**
 * scope(), except that tensors escaping it with no enclosing scope are added to `unowned` for
 * the caller to free later, instead of being left to the garbage collector. For work split into
 * several scopes by awaits (the Trainer's batch around an async hook).
 */
export function scopeCollecting<T>(fn: () => T, unowned: Set<Tensor>): T {
  return runScope(fn, isTensor, unowned as Set<Parameters<typeof keepInScope>[0]>);
}

/** Keeps a tensor made inside a scope alive after it (state kept across steps). Returns it. */
export function keep<T extends Tensor>(t: T): T {
  return keepInScope(t);
}

/** Disposes every tensor found in `value` (a tensor, or arrays/objects of them). */
export function dispose(value: unknown): void {
  if (value instanceof Tensor) value.dispose();
  else if (Array.isArray(value)) for (const v of value) dispose(v);
  else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) dispose(v);
  }
}
