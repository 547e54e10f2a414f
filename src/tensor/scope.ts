import { enterScope, exitScope } from '../backend/ownership.js';
import { GradkitError } from '../core/errors.js';

/** What a scope tracks: a tensor, seen only as something that can be disposed and may carry a graph. */
export interface Disposable {
  dispose(): void;
  /** True for a tensor recorded by autograd (its graph's tensors must live until backward). */
  readonly recorded: boolean;
}

const scopes: Set<Disposable>[] = [];
const kept = new WeakSet<Disposable>();

/** Called by every new tensor: the innermost open scope (if any) will dispose it at its end. */
export function trackInScope(t: Disposable): void {
  if (scopes.length > 0 && !kept.has(t)) scopes[scopes.length - 1].add(t);
}

/**
 * Keeps a tensor alive past the scope it was made in (optimizer state, running statistics,
 * caches: anything stored for later steps). Returns it, so `this.m = keep(zerosLike(p))` reads well.
 */
export function keep<T extends Disposable>(t: T): T {
  kept.add(t);
  for (const s of scopes) s.delete(t);
  return t;
}

/** Collects the tensors in a scope's result (a tensor, or arrays/objects of them), which escape. */
function collect(value: unknown, into: Set<Disposable>, isTensor: (v: unknown) => v is Disposable, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (isTensor(value)) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, into, isTensor, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, into, isTensor, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into, isTensor, depth + 1);
  }
}

/**
 * Runs fn and then disposes every tensor created inside it except those it returns (directly
 * or in arrays, Maps and plain objects) and those passed to keep(). Escaping tensors move to the
 * enclosing scope. When a returned tensor carries an autograd graph, nothing is disposed: the
 * graph's saved tensors must live until its backward (run backward inside the scope instead).
 * With no enclosing scope, escaping tensors go into `unowned` when given (else to the GC). fn must not return a promise: a scope brackets synchronous work (await inside
 * would let other code's tensors into it).
 */
export function runScope<T>(fn: () => T, isTensor: (v: unknown) => v is Disposable, unowned?: Set<Disposable>): T {
  const own = new Set<Disposable>();
  scopes.push(own);
  enterScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    exitScope();
    for (const t of own) t.dispose();
    throw e;
  }
  scopes.pop();
  exitScope();
  if (result instanceof Promise) {
    for (const t of own) t.dispose();
    throw new GradkitError('scope', 'the function passed to scope() returned a promise; scopes bracket synchronous work: await outside, or call scope() inside each step');
  }
  const escaping = new Set<Disposable>();
  collect(result, escaping, isTensor);
  const outer = scopes.length > 0 ? scopes[scopes.length - 1] : null;
  const keepAll = [...escaping].some((t) => t.recorded);
  for (const t of own) {
    if (keepAll || escaping.has(t)) {
      // Outside every scope an escaping tensor is the garbage collector's, unless the caller
      // collects them to free later (the Trainer, across an awaited hook: see Trainer.oneBatch).
      if (outer !== null) outer.add(t);
      else unowned?.add(t);
    } else t.dispose();
  }
  return result;
}
