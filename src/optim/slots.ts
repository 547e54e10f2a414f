/**
 * Allocation of optimizer slot buffers (Adam's m and v, momentum buffers, ...).
 *
 * Why not just `new Float32Array(n)`: a large typed array gets fresh pages, so the parameter,
 * its gradient and every slot all start on a 4096-byte boundary. An update loop streams them
 * side by side, and a load whose address equals a pending store's address modulo 4096 is
 * treated as dependent on it ("4K aliasing"): measured on the benchmark's 269k-parameter MLP,
 * an Adam loop over page-aligned w, g, m, v ran 2-3x slower than with m and v shifted by a
 * cache line. So each large slot buffer starts a different number of cache lines into its
 * allocation. The views are ordinary typed arrays; only their byteOffset differs.
 */

const LINE_BYTES = 64;
// Below this a buffer lives in V8's heap (no page alignment) and fits in L1 anyway.
const MIN_STAGGERED = 1024;
let nextShift = 0;

/** A zeroed float buffer of n elements, shifted off the page boundary when large. */
export function allocSlot(dtype: 'float32' | 'float64', n: number): Float32Array | Float64Array {
  const Ctor = dtype === 'float32' ? Float32Array : Float64Array;
  if (n < MIN_STAGGERED) return new Ctor(n);
  // 1..15 lines: never 0 (where the parameter and gradient sit), and consecutive slots of one
  // parameter (m, v, vMax) get different shifts.
  const lines = 1 + (nextShift++ % 15);
  const shift = (lines * LINE_BYTES) / Ctor.BYTES_PER_ELEMENT;
  return new Ctor(n + shift).subarray(shift);
}

/** A staggered copy of a slot buffer (for state loaded from a checkpoint). */
export function copySlot<T extends Float32Array | Float64Array>(src: T): T {
  const out = allocSlot(src instanceof Float32Array ? 'float32' : 'float64', src.length);
  out.set(src);
  return out as T;
}
