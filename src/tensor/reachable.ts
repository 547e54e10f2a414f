import { Tensor } from './tensor.js';

/**
 * Every tensor reachable from `roots` through arrays, Maps, Sets and object properties (class
 * instances included), up to `maxDepth` links: what an optimizer or a callback holds, found
 * without each one listing its tensors. Used to download exactly those before synchronous code
 * (a checkpoint's state dicts) reads them on a GPU backend. Functions and typed arrays are not
 * entered; cycles are visited once.
 */
export function reachableTensors(roots: readonly unknown[], maxDepth = 8): Tensor[] {
  const found = new Set<Tensor>();
  const seen = new Set<object>();
  const visit = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object') return;
    if (v instanceof Tensor) {
      found.add(v);
      return;
    }
    if (ArrayBuffer.isView(v) || seen.has(v) || depth > maxDepth) return;
    seen.add(v);
    const next = depth + 1;
    if (Array.isArray(v) || v instanceof Set) for (const x of v) visit(x, next);
    else if (v instanceof Map) for (const [k, x] of v) (visit(k, next), visit(x, next));
    else for (const x of Object.values(v)) visit(x, next);
  };
  for (const r of roots) visit(r, 0);
  return [...found];
}
