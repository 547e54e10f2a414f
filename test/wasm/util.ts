import assert from 'node:assert/strict';
import { Random } from '../../src/index.js';
import { createWasmBackend, type WasmBackend } from '../../src/backends/wasm/index.js';

/** Seeded uniform floats in [-1, 1). */
export function randArray(rng: Random, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-1, 1);
  return out;
}

export function absArray(a: Float32Array): Float32Array {
  return a.map(Math.abs);
}

/**
 * Compares a float32 kernel result with the reference (which accumulates in float64 and rounds
 * once). `absSum[i]` is Σ|terms| for element i — the reference kernel run on |inputs| — so the
 * bound (terms·2⁻²³·Σ|terms| + a little) is the textbook worst case for float32 summation in any
 * order, independent of how the fast kernel blocks its sums.
 */
export function assertKernelClose(actual: ArrayLike<number>, expected: ArrayLike<number>, absSum: ArrayLike<number>, terms: number, msg: string): void {
  assert.equal(actual.length, expected.length, `${msg}: length ${actual.length} vs ${expected.length}`);
  const eps = 2 ** -23;
  for (let i = 0; i < expected.length; i++) {
    const tol = (terms + 2) * eps * absSum[i] + 1e-6;
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= tol)) assert.fail(`${msg}: element ${i} got ${actual[i]}, expected ${expected[i]} (|diff| ${d} > tol ${tol})`);
  }
}

/** One backend per thread count, created once per test file (each owns its memory and workers). */
const cache = new Map<number, WasmBackend>();
export function wasmWithThreads(threads: number): WasmBackend {
  let b = cache.get(threads);
  if (!b) {
    // Non-adaptive: these tests assert that large jobs really are split, even on a busy machine.
    const made = createWasmBackend({ threads, adaptive: false });
    assert.ok(made, 'the wasm backend must be available on Node ≥ 20 (WebAssembly SIMD + shared memory)');
    b = made;
    cache.set(threads, b);
  }
  return b;
}

export function disposeAll(): void {
  for (const b of cache.values()) b.dispose?.();
  cache.clear();
}
