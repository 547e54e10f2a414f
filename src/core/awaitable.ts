/**
 * Code that reads values runs synchronously on CPU backends and asynchronously on a GPU, where a
 * download must be awaited. `Awaitable` and `andThen` let such code be written once: the CPU path
 * stays synchronous (no microtask, same behaviour as before), the GPU path returns a promise that
 * the Trainer awaits between hooks.
 */
export type Awaitable<T> = T | Promise<T>;

/** True for a promise (or any thenable). */
export function isPromise<T>(v: Awaitable<T>): v is Promise<T> {
  return v !== null && typeof v === 'object' && typeof (v as Promise<T>).then === 'function';
}

/** `fn(v)` now when `v` is a value, after it resolves when it is a promise. */
export function andThen<T, R>(v: Awaitable<T>, fn: (value: T) => Awaitable<R>): Awaitable<R> {
  return isPromise(v) ? v.then(fn) : fn(v);
}

/** Every value of `vs`, synchronously when none is a promise. */
export function allOf<T>(vs: readonly Awaitable<T>[]): Awaitable<T[]> {
  return vs.some(isPromise) ? Promise.all(vs) : (vs as T[]);
}
