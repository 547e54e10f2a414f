import { GradkitError } from '../core/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { readSync } from '../tensor/host.js';
import { copySlot } from './slots.js';
import type { StateTree } from './transform.js';

type Buf = Float32Array | Float64Array;

/**
 * A deep copy for a state dict: slot tensors become host copies (typed arrays) and typed arrays
 * are copied, so a saved state never aliases live optimizer slots. A host read, once per save,
 * never per step.
 */
export function cloneState<T extends StateTree>(s: T): T {
  if (s instanceof Tensor) return readSync(s).slice() as T;
  if (s instanceof Float32Array || s instanceof Float64Array) return s.slice() as T;
  if (Array.isArray(s)) return s.map((x) => cloneState(x)) as T;
  if (s !== null && typeof s === 'object') {
    const out: { [k: string]: StateTree } = {};
    for (const [k, v] of Object.entries(s)) out[k] = cloneState(v);
    return out as T;
  }
  return s;
}

/**
 * A live state built from `fresh` (a transform's init(), whose slot tensors are kept) holding
 * the values of `saved` (a checked state dict entry): each slot tensor is overwritten in place
 * with the saved array, typed arrays are copied as live slots are allocated (slots.ts), and
 * the other leaves are taken from `saved`.
 */
export function restoreState(fresh: StateTree, saved: StateTree): StateTree {
  if (fresh instanceof Tensor) return fresh.assign(saved as Buf);
  if (fresh instanceof Float32Array || fresh instanceof Float64Array) return copySlot(saved as Buf);
  if (Array.isArray(fresh)) return fresh.map((x, i) => restoreState(x, (saved as StateTree[])[i]));
  if (fresh !== null && typeof fresh === 'object') {
    const out: { [k: string]: StateTree } = {};
    for (const [k, v] of Object.entries(fresh)) out[k] = restoreState(v, (saved as Record<string, StateTree>)[k]);
    return out;
  }
  return saved;
}

/** Frees the slot tensors of a state that is being replaced (they were kept, so no scope would). */
export function disposeState(s: StateTree): void {
  if (s instanceof Tensor) s.dispose();
  else if (Array.isArray(s)) for (const x of s) disposeState(x);
  else if (s !== null && typeof s === 'object' && !(s instanceof Float32Array || s instanceof Float64Array)) {
    for (const x of Object.values(s)) disposeState(x);
  }
}

/** The typed-array kind a slot is saved as (a slot tensor saves as the array of its dtype). */
function arrayKind(s: unknown): { ctor: Function; length: number } | null {
  if (s instanceof Tensor) return { ctor: s.dtype === 'float64' ? Float64Array : Float32Array, length: s.size };
  if (s instanceof Float32Array || s instanceof Float64Array) return { ctor: s.constructor, length: s.length };
  return null;
}

function describe(s: unknown): string {
  const kind = arrayKind(s);
  if (kind !== null) return `${kind.ctor.name}(${kind.length})`;
  if (Array.isArray(s)) return `array(${s.length})`;
  if (s === null) return 'null';
  return typeof s;
}

/**
 * Checks a loaded state has the structure a fresh one has (same keys, array lengths, typed
 * array kinds and sizes; a slot tensor expects the typed array of its dtype and size), so a
 * checkpoint from another model fails here, naming the path, instead of corrupting the optimizer.
 */
export function checkStateStructure(op: string, expected: StateTree, got: unknown, path = 'state'): void {
  const fail = (): never => {
    throw new GradkitError(op, `${path} is ${describe(got)} but this optimizer expects ${describe(expected)} (was the state dict saved for other parameters or options?)`);
  };
  const kind = arrayKind(expected);
  if (kind !== null) {
    if (got === null || typeof got !== 'object' || (got as object).constructor !== kind.ctor || (got as Buf).length !== kind.length) fail();
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(got) || got.length !== expected.length) fail();
    expected.forEach((e, i) => checkStateStructure(op, e, (got as unknown[])[i], `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    if (got === null || typeof got !== 'object' || Array.isArray(got)) fail();
    const exp = expected as { [key: string]: StateTree };
    const ek = Object.keys(exp).sort();
    const gk = Object.keys(got as object).sort();
    if (ek.join() !== gk.join()) {
      throw new GradkitError(op, `${path} has keys {${gk.join(', ')}} but this optimizer expects {${ek.join(', ')}}`);
    }
    for (const k of ek) checkStateStructure(op, exp[k], (got as Record<string, unknown>)[k], `${path}.${k}`);
    return;
  }
  if (typeof got !== typeof expected || (expected === null) !== (got === null)) fail();
}
