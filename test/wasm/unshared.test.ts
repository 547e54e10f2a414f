/**
 * The wasm backend on a plain (non-shared) memory: what a browser page that is not cross-origin
 * isolated gets. The same kernels must run, single-threaded, and match the reference.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Random, referenceKernels, type Conv2dParams, type MatmulParams } from '../../src/index.js';
import { createWasmBackend, type WasmBackend } from '../../src/backends/wasm/index.js';
import { pickBinary } from '../../src/backends/wasm/detect.js';
import { unshareMemoryImport } from '../../src/backends/wasm/unshare.js';
import { absArray, assertKernelClose, randArray } from './util.js';
import { hostKernels } from '../helpers-kernels.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const made: WasmBackend[] = [];
after(() => made.forEach((b) => b.dispose?.()));

function unshared(threads?: number): WasmBackend {
  const b = createWasmBackend({ sharedMemory: false, ...(threads === undefined ? {} : { threads }) });
  assert.ok(b, 'the wasm backend must load on a non-shared memory');
  made.push(b);
  return b;
}

const imports = (memory: WebAssembly.Memory) => ({ env: { memory, abort: () => {} } });

test('the patched binary links against a plain memory, which the shipped one rejects', () => {
  const bin = pickBinary('simd');
  assert.ok(bin);
  const plain = () => new WebAssembly.Memory({ initial: 64, maximum: 32768 });
  assert.throws(() => new WebAssembly.Instance(new WebAssembly.Module(bin.bytes), imports(plain())), WebAssembly.LinkError);
  const patched = unshareMemoryImport(bin.bytes);
  assert.equal(patched.length, bin.bytes.length, 'the patch flips one flag byte in place');
  assert.equal(bin.bytes.reduce((n, v, i) => n + (v !== patched[i] ? 1 : 0), 0), 1);
  assert.ok(new WebAssembly.Instance(new WebAssembly.Module(patched), imports(plain())));
  assert.throws(() => unshareMemoryImport(patched), /imports no shared memory/);
});

test('sharedMemory: false gives one thread on a plain memory, whatever thread count is asked', () => {
  const b = unshared(4);
  assert.equal(b.sharedMemory, false);
  assert.equal(b.threads, 1);
  b.setNumThreads(3);
  assert.equal(b.threads, 1, 'workers cannot share a plain memory');
  assert.match(b.describe!(), /1 thread\)$/);
});

test('matmul, conv2d and its gradients, relu and bias+relu match the reference on a plain memory', () => {
  const k = hostKernels(unshared());
  const ref = referenceKernels;
  const rng = new Random(7);
  for (const [m, kk, n, transA, transB] of [[37, 53, 29, false, false], [64, 40, 96, true, false], [5, 300, 17, false, true]] as const) {
    const p: MatmulParams = { batch: 2, m, k: kk, n, transA, transB, strideA: m * kk, strideB: kk * n };
    const a = randArray(rng, 2 * m * kk);
    const b = randArray(rng, 2 * kk * n);
    assertKernelClose(k.matmul(a, b, p), ref.matmul(a, b, p), ref.matmul(absArray(a), absArray(b), p), kk, `matmul ${m}x${kk}x${n}`);
  }
  const p: Conv2dParams = {
    n: 2, cIn: 3, h: 12, w: 11, cOut: 8, kh: 3, kw: 3, strideH: 1, strideW: 2,
    padTop: 1, padBottom: 1, padLeft: 1, padRight: 1, dilationH: 1, dilationW: 1, groups: 1, outH: 12, outW: 6,
  };
  const x = randArray(rng, 2 * 3 * 12 * 11);
  const w = randArray(rng, 8 * 3 * 3 * 3);
  const dy = randArray(rng, 2 * 8 * 12 * 6);
  assertKernelClose(k.conv2d(x, w, p), ref.conv2d(x, w, p), ref.conv2d(absArray(x), absArray(w), p), 27, 'conv2d');
  assertKernelClose(k.conv2dBackwardInput(dy, w, p), ref.conv2dBackwardInput(dy, w, p), ref.conv2dBackwardInput(absArray(dy), absArray(w), p), 72, 'conv2d input grad');
  assertKernelClose(k.conv2dBackwardFilter(x, dy, p), ref.conv2dBackwardFilter(x, dy, p), ref.conv2dBackwardFilter(absArray(x), absArray(dy), p), 144, 'conv2d filter grad');
  const big = randArray(rng, 70000);
  assert.deepEqual(Array.from(k.unary('relu', big)), Array.from(ref.unary('relu', big)));
  const shape = [700, 100];
  const bias = randArray(rng, 100);
  assertKernelClose(k.biasAct(big, shape, bias, 1, 'relu'), ref.biasAct(big, shape, bias, 1, 'relu'), absArray(ref.binary('add', absArray(big), shape, absArray(bias), [100], shape, 'float32') as Float32Array), 2, 'bias+relu');
});

test('growing a plain memory (which detaches its buffer) keeps later kernels correct', () => {
  const k = hostKernels(unshared());
  const rng = new Random(3);
  // 3 × 1200² floats ≈ 17 MB of operands: well past the initial 4 MiB, so memory.grow runs.
  const m = 1200;
  const p: MatmulParams = { batch: 1, m, k: m, n: m, transA: false, transB: false, strideA: 0, strideB: 0 };
  const a = randArray(rng, m * m);
  const b = randArray(rng, m * m);
  const got = k.matmul(a, b, p);
  const small: MatmulParams = { batch: 1, m: 3, k: 4, n: 2, transA: false, transB: false, strideA: 0, strideB: 0 };
  const sa = randArray(rng, 12);
  const sb = randArray(rng, 8);
  assertKernelClose(k.matmul(sa, sb, small), referenceKernels.matmul(sa, sb, small), referenceKernels.matmul(absArray(sa), absArray(sb), small), 4, 'after growth');
  // Spot-check rows of the big product (the full reference product would take seconds).
  for (const i of [0, 599, 1199]) {
    for (const j of [0, 777]) {
      let s = 0;
      let abs = 0;
      for (let t = 0; t < m; t++) {
        s += a[i * m + t]! * b[t * m + j]!;
        abs += Math.abs(a[i * m + t]! * b[t * m + j]!);
      }
      assert.ok(Math.abs(got[i * m + j]! - s) <= (m + 2) * 2 ** -23 * abs + 1e-6, `big product element ${i},${j}`);
    }
  }
});

test('GRADKIT_WASM_SHARED_MEMORY=0 makes the default backend wasm on a plain memory, one thread', () => {
  const script = `
    import * as g from './src/index.ts';
    const info = await g.ready();
    const b = g.getBackend();
    const y = g.matmul(g.ones([2, 3]), g.ones([3, 2])).dataSync();
    console.log(JSON.stringify({ ...info, shared: b.sharedMemory, y: Array.from(y) }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root, encoding: 'utf8', env: { ...process.env, GRADKIT_WASM_SHARED_MEMORY: '0', GRADKIT_NUM_THREADS: '' },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual(out, { backend: 'wasm', threads: 1, shared: false, y: [3, 3, 3, 3] });
  assert.equal(r.stderr, '', 'no warning on Node: the user chose single-threaded');
});
