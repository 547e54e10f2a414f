/**
 * Readiness: code that awaits ready() never meets a thread pool whose workers have not started,
 * and where workers start only once the caller yields (a browser Web Worker's own workers), a job
 * that comes first runs on the caller instead of stalling until the start timeout.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as g from '../../src/index.js';
import { WasmRuntime } from '../../src/backends/wasm/runtime.js';
import { ThreadPool } from '../../src/backends/wasm/threadpool.js';
import { CTRL, CTRL_WORDS } from '../../src/backends/wasm/worker-source.js';
import { JOB_PROBE } from '../../src/backends/wasm/jobs.js';
import type { ThreadPlatform } from '../../src/platform/types.js';

const cleanup: (() => void)[] = [];
after(() => cleanup.forEach((f) => f()));

/** Captures console.warn while `fn` runs. */
async function warnings(fn: () => unknown): Promise<string[]> {
  const seen: string[] = [];
  const original = console.warn;
  console.warn = (...a: unknown[]) => void seen.push(a.join(' '));
  try {
    await fn();
  } finally {
    console.warn = original;
  }
  return seen;
}

test('ready() resolves with the default backend and its thread count', async () => {
  const info = await g.ready();
  assert.equal(info.backend, 'wasm');
  assert.equal(info.threads, g.getNumThreads());
  assert.equal(await g.wasmReady(), true);
});

test('a browser-like pool whose workers start only after the caller yields: no stall, then threads after ready', async () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const ctrlOffset = 1024;
  const ctrl = new Int32Array(memory.buffer, ctrlOffset, CTRL_WORDS);
  // Like a nested Web Worker: it checks in on a later turn of the event loop, never during a job.
  const deferred: ThreadPlatform = {
    name: 'deferred',
    cores: () => 2,
    canBlock: () => true,
    workersNeedEventLoop: true,
    startWorker: () => {
      const t = setTimeout(() => {
        Atomics.add(ctrl, CTRL.READY, 1);
        Atomics.notify(ctrl, CTRL.READY);
      }, 30);
      return { terminate: () => clearTimeout(t) };
    },
  };
  const ran: number[] = [];
  const pool = new ThreadPool(deferred, {} as WebAssembly.Module, memory, ctrlOffset, 2, (_j, slice) => void ran.push(slice), false);
  cleanup.push(() => pool.stop());
  const t0 = performance.now();
  const warned = await warnings(() => pool.dispatch(8192, 2));
  assert.ok(performance.now() - t0 < 1000, 'the first job did not wait for the start timeout (it used to block 10 s)');
  assert.deepEqual(ran, [0, 1], 'both slices ran on the caller');
  assert.equal(pool.parallelJobs, 0, 'not offered to a worker that has not started');
  assert.deepEqual(warned, []);
  await pool.whenReady();
  pool.dispatch(8192, 2);
  assert.equal(pool.parallelJobs, 1, 'after whenReady the job is offered to the started worker');
  assert.equal(pool.size, 2);
});

test('a runtime with real workers: after whenReady a job is split without waiting and nothing is printed', async () => {
  const rt = WasmRuntime.create(undefined, 2, false);
  assert.ok(rt);
  cleanup.push(() => rt.dispose());
  const warned = await warnings(async () => {
    await rt.whenReady();
    rt.reset();
    const slots = rt.alloc(8);
    rt.view(slots, 2).fill(0);
    const t0 = performance.now();
    rt.runJob([JOB_PROBE, slots, 4], 2);
    assert.ok(performance.now() - t0 < 1000);
  });
  assert.deepEqual(warned, []);
  assert.equal(rt.threads, 2);
  assert.equal(rt.parallelJobs, 1);
});
