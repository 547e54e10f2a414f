import { GradkitError } from '../core/errors.js';
import { copySlot } from './slots.js';
import type { StateTree } from './transform.js';

/**
 * A deep copy (typed arrays copied), so a saved state never aliases live optimizer slots.
 * `asSlots` copies typed arrays the way live slots are allocated (see slots.ts), for state
 * that is about to be stepped on (loadStateDict).
 */
export function cloneState<T extends StateTree>(s: T, asSlots = false): T {
  if (s instanceof Float32Array || s instanceof Float64Array) return (asSlots ? copySlot(s) : s.slice()) as T;
  if (Array.isArray(s)) return s.map((x) => cloneState(x, asSlots)) as T;
  if (s !== null && typeof s === 'object') {
    const out: { [k: string]: StateTree } = {};
    for (const [k, v] of Object.entries(s)) out[k] = cloneState(v, asSlots);
    return out as T;
  }
  return s;
}

function describe(s: unknown): string {
  if (s instanceof Float32Array) return `Float32Array(${s.length})`;
  if (s instanceof Float64Array) return `Float64Array(${s.length})`;
  if (Array.isArray(s)) return `array(${s.length})`;
  if (s === null) return 'null';
  return typeof s;
}

/**
 * Checks a loaded state has the structure a fresh one has (same keys, array lengths, typed
 * array kinds and sizes), so a checkpoint from another model fails here, naming the path,
 * instead of corrupting the optimizer.
 */
export function checkStateStructure(op: string, expected: StateTree, got: unknown, path = 'state'): void {
  const fail = (): never => {
    throw new GradkitError(op, `${path} is ${describe(got)} but this optimizer expects ${describe(expected)} (was the state dict saved for other parameters or options?)`);
  };
  if (expected instanceof Float32Array || expected instanceof Float64Array) {
    if (got === null || typeof got !== 'object' || (got as object).constructor !== expected.constructor || (got as Float32Array).length !== expected.length) fail();
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(got) || got.length !== expected.length) fail();
    expected.forEach((e, i) => checkStateStructure(op, e, (got as unknown[])[i], `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    if (got === null || typeof got !== 'object' || Array.isArray(got)) fail();
    const ek = Object.keys(expected).sort();
    const gk = Object.keys(got as object).sort();
    if (ek.join() !== gk.join()) {
      throw new GradkitError(op, `${path} has keys {${gk.join(', ')}} but this optimizer expects {${ek.join(', ')}}`);
    }
    for (const k of ek) checkStateStructure(op, expected[k], (got as Record<string, unknown>)[k], `${path}.${k}`);
    return;
  }
  if (typeof got !== typeof expected || (expected === null) !== (got === null)) fail();
}
