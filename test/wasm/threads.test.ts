import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { WasmRuntime } from '../../src/backends/wasm/runtime.js';
import { JoinMonitor } from '../../src/backends/wasm/joinmonitor.js';
import { ThreadPool } from '../../src/backends/wasm/threadpool.js';
import { CTRL, CTRL_WORDS } from '../../src/backends/wasm/worker-source.js';
import type { ThreadPlatform } from '../../src/platform/types.js';
import { JOB_GEMM, JOB_PROBE, threadsFor, MIN_PARALLEL_FLOPS } from '../../src/backends/wasm/jobs.js';
import { browserPlatform } from '../../src/platform/browser.js';
import { getPlatform } from '../../src/platform/index.js';
import { wasmReady } from '../../src/backends/wasm/index.js';
import { disposeAll, wasmWithThreads } from './util.js';

after(disposeAll);

function gemmJob(rt: WasmRuntime, batch: number, m: number, n: number, k: number, strideA: number, a: Float32Array, b: Float32Array): { words: number[]; c: number } {
  rt.reset();
  const pa = rt.put(a);
  const pb = rt.put(b);
  const c = rt.alloc(batch * m * n * 4);
  const ws = rt.alloc(rt.gemmWsBytes * 2);
  return { words: [JOB_GEMM, batch, m, n, k, pa, k, 1, strideA, pb, n, 1, 0, c, n, m * n, 0, ws, rt.gemmWsBytes], c };
}

test('thread pool: every thread runs its share of a job (probe job)', () => {
  const rt = WasmRuntime.create(undefined, 2)!;
  assert.equal(rt.threads, 2);
  rt.reset();
  const slots = rt.alloc(8);
  rt.view(slots, 2).fill(0);
  rt.runJob([JOB_PROBE, slots, 4], 2);
  assert.deepEqual(Array.from(new Int32Array(rt.view(slots, 2).buffer, slots, 2)), [1, 2], 'caller wrote 1, worker wrote 2');
  assert.equal(rt.parallelJobs, 1);
  // And a real job split over both threads gives the right numbers.
  const { words, c } = gemmJob(rt, 2, 1, 1, 2, 2, Float32Array.from([1, 2, 3, 4]), Float32Array.from([1, 10]));
  rt.runJob(words, 2);
  assert.deepEqual(Array.from(rt.take(c, 2)), [21, 43]);
  rt.dispose();
});

test('thread pool: a trap on a worker thread is reported to the caller, and the pool keeps working', () => {
  const rt = WasmRuntime.create(undefined, 2)!;
  rt.reset();
  const slots = rt.alloc(8);
  // Slice 1 stores 2 GiB past the slots, beyond the memory: only it traps (on whichever thread claimed it).
  assert.throws(() => rt.runJob([JOB_PROBE, slots, 2 ** 31], 2), /failed on slice 1 of 2/);
  const { words, c } = gemmJob(rt, 2, 1, 1, 2, 0, new Float32Array(2).fill(1), new Float32Array(2).fill(1));
  rt.runJob(words, 2);
  assert.deepEqual(Array.from(rt.take(c, 2)), [2, 2]);
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

test('join monitor: sets threads aside only after repeated long waits, then tries them again', () => {
  const m = new JoinMonitor();
  // Healthy joins (wait well under the caller's own work) never trigger.
  for (let i = 0; i < 100; i++) m.record(5, 1);
  assert.equal(m.backoffs, 0);
  assert.equal(m.runSolo(), false);
  // Tiny waits are timer noise, even when larger than the work.
  for (let i = 0; i < 10; i++) m.record(0.01, 0.1);
  assert.equal(m.backoffs, 0);
  // Two bad joins and a good one: the streak is broken.
  m.record(1, 5);
  m.record(1, 5);
  m.record(5, 1);
  m.record(1, 5);
  assert.equal(m.backoffs, 0);
  m.record(1, 5);
  m.record(1, 5);
  assert.equal(m.backoffs, 1, 'three bad joins in a row');
  let solo = 0;
  while (m.runSolo()) solo++;
  assert.equal(solo, JoinMonitor.SOLO_JOBS, 'then a bounded solo period');
  assert.equal(m.runSolo(), false, 'and threads again');
  const off = new JoinMonitor(false);
  for (let i = 0; i < 10; i++) off.record(1, 50);
  assert.equal(off.backoffs, 0, 'disabled monitor never backs off');
});

test('thread pool: a job never waits for a worker that has not started it (the caller claims its slices)', () => {
  // A "worker" that checks in and then never runs anything: a thread the OS keeps descheduled.
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const ctrlOffset = 1024;
  const asleep: ThreadPlatform = {
    name: 'asleep',
    cores: () => 3,
    canBlock: () => true,
    startWorker: () => {
      Atomics.add(new Int32Array(memory.buffer, ctrlOffset, CTRL_WORDS), CTRL.READY, 1);
      return { terminate: () => {} };
    },
  };
  const ran: number[] = [];
  const module = {} as WebAssembly.Module; // never instantiated: the fake worker runs no script
  const pool = new ThreadPool(asleep, module, memory, ctrlOffset, 3, (_job, slice, nt) => {
    assert.equal(nt, 3);
    ran.push(slice);
  }, false);
  for (let j = 0; j < 4; j++) pool.dispatch(8192, 3); // before slice claiming this hung at the first join
  assert.deepEqual(ran, [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], 'every slice ran once per job, on the caller');
  assert.equal(pool.parallelJobs, 4, 'the jobs were offered to the workers');
  assert.equal(pool.workerJobs, 0, 'and no worker took part');
  pool.stop();
});

test('thread pool: real workers take slices of large jobs', () => {
  const rt = WasmRuntime.create(undefined, 2, false)!;
  const n = 256;
  const a = new Float32Array(n * n).fill(1);
  let took = 0;
  for (let i = 0; i < 20 && took === 0; i++) {
    const { words } = gemmJob(rt, 1, n, n, n, 0, a, a);
    rt.runJob(words, 2);
    took = rt.workerJobs;
  }
  assert.ok(took > 0, 'a worker ran a slice of at least one of 20 GEMMs');
  rt.dispose();
});

test('simdPeak: the GEMM ceiling probe returns a plausible speed and validates its thread count', () => {
  const b = wasmWithThreads(2);
  const one = b.simdPeak(1);
  assert.ok(Number.isFinite(one) && one > 0.1, `1 thread: ${one} GFLOP/s`);
  const all = b.simdPeak();
  assert.ok(Number.isFinite(all) && all > 0.1, `2 threads: ${all} GFLOP/s`);
  assert.throws(() => b.simdPeak(0), /thread count must be an integer in 1\.\.255 \(the thread pool's limit\), got 0/);
});
