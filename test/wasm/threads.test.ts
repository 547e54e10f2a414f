import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WasmRuntime } from '../../src/backends/wasm/runtime.js';
import { JOB_GEMM, threadsFor, MIN_PARALLEL_FLOPS } from '../../src/backends/wasm/jobs.js';
import { browserPlatform } from '../../src/platform/browser.js';
import { getPlatform } from '../../src/platform/index.js';
import { wasmReady } from '../../src/backends/wasm/index.js';

function gemmJob(rt: WasmRuntime, batch: number, m: number, n: number, k: number, strideA: number, a: Float32Array, b: Float32Array): { words: number[]; c: number } {
  rt.reset();
  const pa = rt.put(a);
  const pb = rt.put(b);
  const c = rt.alloc(batch * m * n * 4);
  const ws = rt.alloc(rt.gemmWsBytes * 2);
  return { words: [JOB_GEMM, batch, m, n, k, pa, k, 1, strideA, pb, n, 1, 0, c, n, m * n, 0, ws, rt.gemmWsBytes], c };
}

test('thread pool: a job split over 2 threads writes both halves (worker share included)', () => {
  const rt = WasmRuntime.create(undefined, 2)!;
  assert.equal(rt.threads, 2);
  // Batch 2 with nt = 2: the caller computes matrix 0, the worker matrix 1.
  const a = Float32Array.from([1, 2, 3, 4]); // two 1×2 matrices
  const b = Float32Array.from([1, 10]); // one 2×1 matrix shared (strideB 0)
  const { words, c } = gemmJob(rt, 2, 1, 1, 2, 2, a, b);
  rt.runJob(words, 2);
  assert.deepEqual(Array.from(rt.take(c, 2)), [21, 43]);
  assert.equal(rt.parallelJobs, 1);
  rt.dispose();
});

test('thread pool: a trap on a worker thread is reported to the caller, and the pool keeps working', () => {
  const rt = WasmRuntime.create(undefined, 2)!;
  const a = new Float32Array(2).fill(1);
  const b = new Float32Array(2).fill(1);
  // Matrix 1 of A lies far outside memory (stride 2^29 floats = 2 GiB): only the worker touches it.
  const bad = gemmJob(rt, 2, 1, 1, 2, 2 ** 29, a, b);
  assert.throws(() => rt.runJob(bad.words, 2), /failed on worker thread 1/);
  const good = gemmJob(rt, 2, 1, 1, 2, 0, a, b);
  rt.runJob(good.words, 2);
  assert.deepEqual(Array.from(rt.take(good.c, 2)), [2, 2]);
  rt.dispose();
});

test('thread count heuristic: small kernels stay on the calling thread', () => {
  assert.equal(threadsFor(MIN_PARALLEL_FLOPS - 1, 4), 1);
  assert.equal(threadsFor(MIN_PARALLEL_FLOPS, 4), 4);
  assert.equal(threadsFor(1e9, 4, 3), 3, 'never more threads than work units');
  assert.equal(threadsFor(1e9, 1), 1);
});

test('platform adapters: Node adapter on Node; browser adapter refuses threads without isolation', () => {
  const p = getPlatform();
  assert.equal(p.name, 'node');
  assert.ok(p.cores() >= 1);
  assert.equal(p.canBlock(), true);
  // In Node, globalThis.crossOriginIsolated is undefined: the browser adapter must not start workers.
  assert.equal(browserPlatform.canBlock(), false);
  assert.equal(browserPlatform.startWorker('function main() {}', {}), null);
  assert.ok(browserPlatform.cores() >= 1);
});

test('1 requested thread: no workers at all, jobs run on the caller', () => {
  const rt = WasmRuntime.create(undefined, 1)!;
  assert.equal(rt.threads, 1);
  const { words, c } = gemmJob(rt, 2, 1, 1, 2, 2, Float32Array.from([1, 2, 3, 4]), Float32Array.from([1, 10]));
  rt.runJob(words, 2);
  assert.deepEqual(Array.from(rt.take(c, 2)), [21, 43]);
  assert.equal(rt.parallelJobs, 0);
});

test('scratch limit: calls that cannot fit in wasm memory are recognised (kernels then use the reference)', () => {
  const rt = WasmRuntime.create(undefined, 1)!;
  assert.equal(rt.canHold(64 << 20), true);
  assert.equal(rt.canHold(3 * 2 ** 30), false, 'over the 2 GiB memory maximum');
  rt.dispose();
});

test('browser main thread: when sync compilation is refused, the runtime compiles in the background', async () => {
  // Chrome throws a RangeError for `new WebAssembly.Module` of more than 4 KB on a page's main thread.
  const original = WebAssembly.Module;
  let rt: WasmRuntime | null;
  try {
    (WebAssembly as { Module: unknown }).Module = function refuse() {
      throw new RangeError('WebAssembly.Compile is disallowed on the main thread, if the buffer size is larger than 4KB');
    };
    rt = WasmRuntime.create(undefined, 1);
    assert.equal(rt, null, 'no runtime synchronously');
    const ready = WasmRuntime.asyncReady();
    assert.ok(ready, 'a background compile was started');
    assert.equal(await ready, true);
    rt = WasmRuntime.create(undefined, 1);
  } finally {
    (WebAssembly as { Module: unknown }).Module = original;
  }
  assert.ok(rt, 'the background-compiled module is used by the next create()');
  const { words, c } = gemmJob(rt, 1, 2, 1, 2, 0, Float32Array.from([1, 2, 3, 4]), Float32Array.from([1, 10]));
  rt.runJob(words, 1);
  assert.deepEqual(Array.from(rt.take(c, 2)), [21, 43]);
  rt.dispose();
  assert.equal(await wasmReady(), true);
});
