import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { conv2dBackwardFilter as refBackwardFilter } from '../../src/backends/reference/conv.js';
import { WasmRuntime } from '../../src/backends/wasm/runtime.js';
import { makeConv } from '../../src/backends/wasm/conv.js';
import type { Conv2dParams } from '../../src/backend/kernels.js';

// When the join monitor decides the workers are starved (a busy machine), jobs run on the caller.
// Kernels that lay a job out in nt slices (one partial sum per slice, added afterwards) must get
// the same result then as with threads: every slice runs, so no stale partial is ever added.
test('a job run on the caller alone (monitor backoff) equals the threaded result bit for bit', () => {
  const rt = WasmRuntime.create(undefined, 2, true);
  if (rt === null) return; // no SIMD here: nothing to check
  const conv = makeConv(rt);
  const p: Conv2dParams = {
    n: 8, cIn: 16, h: 13, w: 13, cOut: 32, kh: 3, kw: 3, strideH: 1, strideW: 1,
    padTop: 0, padBottom: 0, padLeft: 0, padRight: 0, dilationH: 1, dilationW: 1, groups: 1, outH: 11, outW: 11,
  };
  const x = g.randn([8, 16, 13, 13], { seed: 1 }).dataSync() as Float32Array;
  const dy = g.randn([8, 32, 11, 11], { seed: 2 }).dataSync() as Float32Array;
  const x2 = g.randn([8, 16, 13, 13], { seed: 3 }).dataSync() as Float32Array;
  conv.conv2dBackwardFilter(x, dy, p); // leaves partial sums of another input in the scratch memory
  const threaded = conv.conv2dBackwardFilter(x2, dy, p);
  // Internals on purpose: make the monitor see three starved joins, so the next jobs run solo.
  const monitor = (rt as unknown as { pool: { monitor: { record(w: number, j: number): void; runSolo(): boolean } } }).pool.monitor;
  for (let i = 0; i < 3; i++) monitor.record(0.01, 10);
  const solo = conv.conv2dBackwardFilter(x2, dy, p) as Float32Array;
  assert.deepEqual(solo, threaded);
  const ref = refBackwardFilter(x2, dy, p);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(solo[i] - ref[i]));
  assert.ok(worst < 1e-3, `max |solo − reference| = ${worst}`);
  rt.dispose?.();
});
