import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Random, referenceKernels, type MatmulParams } from '../../src/index.js';
import { absArray, assertKernelClose, disposeAll, randArray, wasmWithThreads } from './util.js';
import { hostKernels } from '../helpers-kernels.js';

after(disposeAll);

function check(threads: number, p: MatmulParams, rng: Random, label: string): void {
  const aLen = (p.strideA === 0 ? 1 : p.batch) * p.m * p.k;
  const bLen = (p.strideB === 0 ? 1 : p.batch) * p.k * p.n;
  const a = randArray(rng, aLen);
  const b = randArray(rng, bLen);
  // Through the handle interface, not hostKernels: its copy would hide what the kernel returned.
  // On this CPU backend readSync gives the kernel's own output array.
  const backend = wasmWithThreads(threads);
  const got = backend.readSync(backend.kernels.matmul(backend.upload(a), backend.upload(b), p));
  assert.ok(got instanceof Float32Array, `${label}: float32 in, float32 out`);
  // Results are ordinary GC-owned buffers, never views of the shared wasm memory.
  assert.ok(got.buffer instanceof ArrayBuffer && !(got.buffer instanceof SharedArrayBuffer), `${label}: plain ArrayBuffer`);
  assert.equal(got.byteOffset, 0);
  const want = referenceKernels.matmul(a, b, p);
  const bound = referenceKernels.matmul(absArray(a), absArray(b), p);
  assertKernelClose(got, want, bound, p.k, label);
}

function params(batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean, shareA = false, shareB = false): MatmulParams {
  return { batch, m, k, n, transA, transB, strideA: shareA ? 0 : m * k, strideB: shareB ? 0 : k * n };
}

const ODD = [1, 3, 7, 17, 33, 65];
const FLAGS: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

for (const threads of [1, 2]) {
  test(`gemm: odd sizes × all transpose flags match the reference (${threads} thread${threads > 1 ? 's' : ''})`, () => {
    const rng = new Random(100 + threads);
    for (const [ta, tb] of FLAGS) {
      for (let trial = 0; trial < 10; trial++) {
        const m = ODD[rng.int(0, ODD.length)];
        const k = ODD[rng.int(0, ODD.length)];
        const n = ODD[rng.int(0, ODD.length)];
        check(threads, params(1, m, k, n, ta, tb), rng, `m${m} k${k} n${n} tA${ta} tB${tb}`);
      }
    }
  });

  test(`gemm: blocking edges — k > KC, m > MC, n > NC, tile remainders (${threads} thread${threads > 1 ? 's' : ''})`, () => {
    const rng = new Random(200 + threads);
    const cases: [number, number, number][] = [[6, 300, 8], [101, 257, 9], [5, 513, 17], [3, 5, 1030], [97, 70, 40], [130, 130, 131]];
    for (const [m, k, n] of cases) {
      for (const [ta, tb] of FLAGS) check(threads, params(1, m, k, n, ta, tb), rng, `m${m} k${k} n${n} tA${ta} tB${tb}`);
    }
  });

  test(`gemm: batched, with broadcast strides (strideA/strideB = 0) (${threads} thread${threads > 1 ? 's' : ''})`, () => {
    const rng = new Random(300 + threads);
    for (const [batch, m, k, n] of [[2, 5, 7, 9], [3, 33, 65, 17], [5, 64, 64, 64], [1, 1, 1, 1]]) {
      for (const [ta, tb] of FLAGS) {
        check(threads, params(batch, m, k, n, ta, tb), rng, `b${batch} full`);
        check(threads, params(batch, m, k, n, ta, tb, true, false), rng, `b${batch} shared A`);
        check(threads, params(batch, m, k, n, ta, tb, false, true), rng, `b${batch} shared B`);
      }
    }
  });

  test(`gemm: large enough to split — by batch, by N panels, by M rows, by a grid of both (${threads} thread${threads > 1 ? 's' : ''})`, () => {
    const rng = new Random(400 + threads);
    const b = wasmWithThreads(threads);
    const before = b.stats();
    check(threads, params(4, 70, 90, 50, false, false), rng, 'split by batch');
    check(threads, params(1, 65, 300, 129, false, true), rng, 'split by N');
    check(threads, params(1, 301, 600, 7, true, false), rng, 'split by M');
    check(threads, params(1, 403, 70, 77, false, true), rng, 'split by rows × columns');
    const after = b.stats();
    assert.ok(after.jobs >= before.jobs + 4, 'every float32 matmul ran in wasm');
    if (threads > 1) assert.equal(after.parallelJobs - before.parallelJobs, 4, 'each of the four ran on several threads');
    else assert.equal(after.parallelJobs, before.parallelJobs, 'one thread never dispatches to workers');
  });
}

test('gemm: empty dimensions give zeros or empty output, like the reference', () => {
  const b = wasmWithThreads(1);
  const rng = new Random(5);
  const a = randArray(rng, 0);
  const bb = randArray(rng, 0);
  // k = 0: the product of a 3×0 and a 0×4 matrix is a 3×4 zero matrix.
  const z = hostKernels(b).matmul(a, bb, params(2, 3, 0, 4, false, false));
  assert.deepEqual(Array.from(z), new Array(24).fill(0));
  assert.equal(hostKernels(b).matmul(a, randArray(rng, 12), params(1, 0, 3, 4, false, false)).length, 0);
});

test('gemm: non-float32 inputs (float64 gradient checks, int32) take the reference path exactly', () => {
  const b = wasmWithThreads(1);
  const a64 = Float64Array.from([1, 2, 3, 4, 5, 6]);
  const b64 = Float64Array.from([1e-20, 1, 0.5, 2, 3, 1]);
  const p = params(1, 2, 3, 2, false, false);
  const got = hostKernels(b).matmul(a64, b64, p);
  assert.ok(got instanceof Float64Array);
  assert.deepEqual(Array.from(got), Array.from(referenceKernels.matmul(a64, b64, p)));
  const i32 = hostKernels(b).matmul(Int32Array.from([1, 2, 3, 4, 5, 6]), Int32Array.from([1, 0, 0, 1, 1, 1]), p);
  assert.ok(i32 instanceof Int32Array);
  assert.deepEqual(Array.from(i32), [4, 5, 10, 11]);
});

test('gemm: NaN and Infinity propagate as in the reference', () => {
  const b = wasmWithThreads(1);
  const a = Float32Array.from([NaN, 1, 2, 3, Infinity, 1]);
  const bb = Float32Array.from([1, 1, 1, 1, 1, 1]);
  const p = params(1, 2, 3, 2, false, false);
  assert.deepEqual(Array.from(hostKernels(b).matmul(a, bb, p)), Array.from(referenceKernels.matmul(a, bb, p)));
});

test('gemm: the result does not depend on the thread count (every split computes each element in the same order)', () => {
  const rng = new Random(77);
  for (const [m, k, n] of [[403, 70, 77], [65, 300, 129], [301, 600, 7], [1024, 64, 96]] as const) {
    const a = randArray(rng, m * k), bb = randArray(rng, k * n);
    const p = params(1, m, k, n, false, false);
    const one = hostKernels(wasmWithThreads(1)).matmul(a, bb, p);
    const two = hostKernels(wasmWithThreads(2)).matmul(a, bb, p);
    assert.deepEqual(two, one, `${m}×${k}×${n}`);
  }
});
