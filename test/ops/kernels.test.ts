import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import type { DataArray } from '../../src/core/dtype.js';
import type { Backend } from '../../src/backend/backend.js';
import type { Handle } from '../../src/backend/handle.js';
import { conv2dParams } from '../../src/ops/conv.js';
import { backendsUnderTest } from './backends.js';

/**
 * Kernel-level parity: every fast backend's kernel table must agree with the reference kernels
 * (the oracle) on the same buffers, including parameter combinations the ops reach only through
 * gradients (transposed matmul operands, broadcast batch strides) and edge shapes. With only the
 * reference backend present there is nothing to compare, so no test is registered.
 */

type Float = 'float32' | 'float64';

/** A kernel table over host arrays whose results come back as promises (a GPU reads asynchronously). */
type AsyncKernels = { [K in keyof g.Kernels<DataArray>]: g.Kernels<DataArray>[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never };

/**
 * test/helpers-kernels.ts's hostKernels with `await backend.read` in place of readSync, so that
 * the same cases run on a backend that cannot read synchronously (webgpu): each call uploads its
 * array arguments through the Backend interface, runs the kernel on the handles, reads the
 * outputs back and frees every handle it made.
 */
function readingKernels(backend: Backend): AsyncKernels {
  const table = backend.kernels as unknown as Record<string, ((...args: unknown[]) => unknown) | undefined>;
  const isArray = (v: unknown): v is DataArray => ArrayBuffer.isView(v) && !(v instanceof DataView);
  return new Proxy({} as AsyncKernels, {
    get(_target, name: string) {
      const kernel = table[name];
      if (typeof kernel !== 'function') return kernel;
      return async (...args: unknown[]) => {
        const uploaded: Handle[] = [];
        const toHandle = (a: DataArray): Handle => {
          const h = backend.upload(a);
          uploaded.push(h);
          return h;
        };
        const converted = args.map((v) => {
          if (isArray(v)) return toHandle(v);
          if (Array.isArray(v) && v.length > 0 && v.every(isArray)) return v.map(toHandle); // concat's inputs
          return v;
        });
        const result = kernel.apply(backend.kernels, converted) as Handle | Record<string, Handle>;
        const download = async (h: Handle): Promise<DataArray> => {
          const values = await backend.read(h);
          backend.free(h);
          return values;
        };
        let out: unknown;
        if (name === 'maxPool2d') { // the one kernel with several outputs that these cases call
          const fields: Record<string, DataArray> = {};
          for (const [key, h] of Object.entries(result as Record<string, Handle>)) fields[key] = await download(h);
          out = fields;
        } else {
          out = await download(result as Handle);
        }
        for (const h of uploaded) backend.free(h);
        return out;
      };
    },
  });
}

/** The reference kernels behind the same promise-returning interface. */
function settled(k: g.Kernels<DataArray>): AsyncKernels {
  const table = k as unknown as Record<string, (...args: unknown[]) => unknown>;
  return new Proxy({} as AsyncKernels, { get: (_target, name: string) => async (...args: unknown[]) => table[name].apply(k, args) });
}
const rng = new g.Random(2024);
function randArray(dtype: Float, n: number, lo = -2, hi = 2): DataArray {
  const a = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
  return a;
}
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

interface Case {
  name: string;
  dtype: Float;
  run: (k: AsyncKernels) => Promise<DataArray | DataArray[]>;
}

function buildCases(): Case[] {
  const cases: Case[] = [];
  for (const dtype of ['float32', 'float64'] as const) {
    const pos = randArray(dtype, 37, 0.1, 3);
    const x = randArray(dtype, 37, -4, 4);
    for (const op of ['neg', 'abs', 'exp', 'expm1', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'sign', 'square', 'floor', 'ceil', 'round', 'softplus', 'erf'] as const) {
      cases.push({ name: `unary ${op}`, dtype, run: (k) => k.unary(op, x) });
    }
    for (const op of ['sqrt', 'log', 'log1p', 'reciprocal'] as const) cases.push({ name: `unary ${op}`, dtype, run: (k) => k.unary(op, pos) });
    const shapes: [number[], number[], number[]][] = [
      [[3, 5], [3, 5], [3, 5]], [[3, 5], [5], [3, 5]], [[4, 1, 3], [2, 1], [4, 2, 3]], [[], [2, 3], [2, 3]], [[0, 3], [3], [0, 3]],
    ];
    for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'lt', 'eq', 'ge'] as const) {
      for (const [sa, sb, so] of shapes) {
        const a = randArray(dtype, size(sa), 0.2, 2);
        const b = randArray(dtype, size(sb), -2, 2);
        const isCmp = op === 'lt' || op === 'eq' || op === 'ge';
        cases.push({ name: `binary ${op} ${JSON.stringify(sa)}×${JSON.stringify(sb)}`, dtype, run: (k) => k.binary(op, a, sa, b, sb, so, isCmp ? 'bool' : dtype) });
      }
    }
    const r = randArray(dtype, 60);
    for (const op of ['sum', 'max', 'min', 'prod'] as const) {
      for (const axes of [[0], [1], [2], [0, 2], [0, 1, 2], []]) {
        cases.push({ name: `reduce ${op} ${JSON.stringify(axes)}`, dtype, run: (k) => k.reduce(op, r, [3, 4, 5], axes) });
      }
    }
    for (const op of ['argmax', 'argmin'] as const) {
      for (const axis of [0, 1, 2]) cases.push({ name: `${op} axis ${axis}`, dtype, run: (k) => k.argReduce(op, r, [3, 4, 5], axis) });
    }
    for (const [m, kk, n] of [[1, 1, 1], [5, 7, 3], [17, 9, 13], [4, 0, 3]]) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const bcast of [false, true]) {
            const batch = 3;
            const a = randArray(dtype, batch * m * kk);
            const b = randArray(dtype, (bcast ? 1 : batch) * kk * n);
            const p = { batch, m, k: kk, n, transA, transB, strideA: m * kk, strideB: bcast ? 0 : kk * n };
            cases.push({ name: `matmul ${m}×${kk}×${n} tA=${transA} tB=${transB} bcast=${bcast}`, dtype, run: (kn) => kn.matmul(a, b, p) });
          }
        }
      }
    }
    const cond = Uint8Array.from({ length: 12 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0);
    cases.push({ name: 'where', dtype, run: (k) => k.where(cond, [3, 1, 4], x.subarray(0, 6), [2, 3, 1], x.subarray(6, 10), [4], [2, 3, 4]) });
    cases.push({ name: 'transpose', dtype, run: (k) => k.transpose(r, [3, 4, 5], [2, 0, 1]) });
    cases.push({ name: 'broadcastTo', dtype, run: (k) => k.broadcastTo(x.subarray(0, 3), [3, 1], [2, 3, 4]) });
    cases.push({ name: 'slice', dtype, run: (k) => k.slice(r, [3, 4, 5], [1, 0, 1], [1, 2, 2], [2, 2, 2]) });
    cases.push({ name: 'sliceGrad', dtype, run: (k) => k.sliceGrad(x.subarray(0, 8), [2, 2, 2], [3, 4, 5], [1, 0, 1], [1, 2, 2]) });
    cases.push({ name: 'pad', dtype, run: (k) => k.pad(r, [3, 4, 5], [[1, 0], [0, 2], [1, 1]], 0.5) });
    cases.push({ name: 'concat', dtype, run: (k) => k.concat([r.subarray(0, 24), r.subarray(24, 60)], [[2, 3, 4], [3, 3, 4]], 0) });
    const idx = new Int32Array([2, 0, 2, 1]);
    cases.push({ name: 'indexSelect', dtype, run: (k) => k.indexSelect(r, [3, 4, 5], idx.subarray(0, 3), 1) });
    cases.push({ name: 'indexAdd', dtype, run: (k) => k.indexAdd(x.subarray(0, 36), [3, 4, 3], idx.subarray(0, 4), 1, [3, 3, 3]) });
    const gi = new Int32Array([3, 0, 1, 3, 2, 2]);
    cases.push({ name: 'gather', dtype, run: (k) => k.gather(r, [3, 4, 5], gi, [1, 2, 3], 1) });
    cases.push({ name: 'scatterAdd', dtype, run: (k) => k.scatterAdd(x.subarray(0, 6), gi, [1, 2, 3], 1, [3, 4, 5]) });
    cases.push({ name: 'softmax', dtype, run: (k) => k.softmax(r, 3, 4, 5) });
    cases.push({ name: 'logSoftmax', dtype, run: (k) => k.logSoftmax(r, 3, 4, 5) });
    const convs: [number[], number[], g.Conv2dOptions][] = [
      [[2, 3, 7, 6], [4, 3, 3, 3], { padding: 1 }],
      [[1, 4, 9, 9], [6, 2, 3, 3], { stride: 2, groups: 2, dilation: [1, 2] }],
      [[1, 3, 5, 5], [3, 1, 3, 3], { groups: 3, padding: 'same' }],
      [[2, 8, 6, 6], [16, 8, 1, 1], {}],
      [[1, 2, 6, 5], [3, 2, 2, 4], { padding: 'same' }],
    ];
    for (const [xs, ws, opts] of convs) {
      const p = conv2dParams('conv2d', xs, ws, opts);
      const cx = randArray(dtype, size(xs));
      const cw = randArray(dtype, size(ws));
      const dy = randArray(dtype, p.n * p.cOut * p.outH * p.outW);
      const tag = `${JSON.stringify(xs)} ${JSON.stringify(ws)} ${JSON.stringify(opts)}`;
      cases.push({ name: `conv2d ${tag}`, dtype, run: (k) => k.conv2d(cx, cw, p) });
      cases.push({ name: `conv2dBackwardInput ${tag}`, dtype, run: (k) => k.conv2dBackwardInput(dy, cw, p) });
      cases.push({ name: `conv2dBackwardFilter ${tag}`, dtype, run: (k) => k.conv2dBackwardFilter(cx, dy, p) });
    }
    const pools: g.Pool2dParams[] = [
      { n: 2, c: 3, h: 6, w: 6, kh: 2, kw: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, outH: 3, outW: 3, countIncludePad: true },
      { n: 1, c: 2, h: 5, w: 7, kh: 3, kw: 3, strideH: 1, strideW: 2, padTop: 1, padLeft: 1, outH: 5, outW: 4, countIncludePad: false },
      { n: 1, c: 2, h: 5, w: 7, kh: 3, kw: 2, strideH: 2, strideW: 1, padTop: 1, padLeft: 1, outH: 3, outW: 8, countIncludePad: true },
    ];
    for (const p of pools) {
      const px = randArray(dtype, p.n * p.c * p.h * p.w);
      const dy = randArray(dtype, p.n * p.c * p.outH * p.outW);
      const tag = `${p.kh}×${p.kw} s${p.strideH},${p.strideW} p${p.padTop},${p.padLeft} incl=${p.countIncludePad}`;
      cases.push({ name: `maxPool2d ${tag}`, dtype, run: async (k) => { const r2 = await k.maxPool2d(px, p); return [r2.out, r2.argmax]; } });
      cases.push({ name: `maxPool2dBackward ${tag}`, dtype, run: (k) => k.maxPool2dBackward(dy, referenceKernels().maxPool2d(px, p).argmax, p) });
      cases.push({ name: `avgPool2d ${tag}`, dtype, run: (k) => k.avgPool2d(px, p) });
      cases.push({ name: `avgPool2dBackward ${tag}`, dtype, run: (k) => k.avgPool2dBackward(dy, p) });
    }
  }
  return cases;
}

const referenceKernels = (): g.Kernels<DataArray> => g.referenceKernels;

function compare(name: string, dtype: Float, got: DataArray, want: DataArray): void {
  assert.equal(got.constructor, want.constructor, `${name}: result type`);
  assert.equal(got.length, want.length, `${name}: length`);
  const tol = dtype === 'float32' ? 2e-5 : 1e-12;
  for (let i = 0; i < want.length; i++) {
    const a = got[i];
    const e = want[i];
    const ok = (Number.isNaN(e) && Number.isNaN(a)) || a === e || Math.abs(a - e) <= tol * Math.max(1, Math.abs(e));
    assert.ok(ok, `${name} (${dtype}) element ${i}: got ${a}, reference ${e}`);
  }
}

const fast = backendsUnderTest().filter((name) => name !== 'reference');
for (const name of fast) {
  test(`every kernel of '${name}' agrees with the reference kernels`, async () => {
    // Host arrays in, host arrays out, through the backend's own upload/read.
    const backend = g.withBackend(name, () => g.getBackend());
    const kernels = readingKernels(backend);
    // A backend without float64 (webgpu: WGSL has no f64) refuses float64 buffers, so only its float32 cases exist.
    for (const c of buildCases().filter((c) => backend.float64 !== false || c.dtype === 'float32')) {
      const got = await c.run(kernels);
      const want = await c.run(settled(referenceKernels()));
      const gl = Array.isArray(got) ? got : [got];
      const wl = Array.isArray(want) ? want : [want];
      gl.forEach((arr, i) => compare(c.name, c.dtype, arr, wl[i]));
    }
  });
}

/** Edge shapes straight into each backend's kernel table, with hand-written expected buffers. */
for (const name of backendsUnderTest()) {
  test(`kernel edge cases: 0-d, empty and size-1 shapes [${name}]`, async () => {
    const k = readingKernels(g.withBackend(name, () => g.getBackend()));
    const f = (v: number[]) => Float32Array.from(v);
    const same = (got: DataArray, want: number[], what: string) => assert.deepEqual([...got], want, what);
    same(await k.unary('exp', f([])), [], 'unary on empty');
    same(await k.unary('neg', f([2])), [-2], 'unary on 0-d');
    same(await k.binary('add', f([1]), [], f([2]), [], [], 'float32'), [3], 'binary 0-d');
    same(await k.binary('mul', f([2]), [], f([1, 2, 3, 4]), [2, 2], [2, 2], 'float32'), [2, 4, 6, 8], '0-d times matrix');
    same(await k.binary('sub', f([1, 2]), [2, 1], f([10, 20]), [1, 2], [2, 2], 'float32'), [-9, -19, -8, -18], 'size-1 both ways');
    same(await k.binary('add', f([]), [0, 3], f([1, 2, 3]), [3], [0, 3], 'float32'), [], 'binary empty');
    same(await k.binary('lt', f([1, 5]), [2], f([3]), [1], [2], 'bool'), [1, 0], 'comparison broadcast');
    same(await k.reduce('sum', f([5]), [], []), [5], 'reduce 0-d');
    same(await k.reduce('sum', f([]), [2, 0], [1]), [0, 0], 'sum over an empty axis');
    same(await k.reduce('max', f([]), [0, 3], [1]), [], 'reduce with an empty kept axis');
    same(await k.reduce('prod', f([2, 3, 4]), [3], [0]), [24], 'prod');
    same(await k.reduce('sum', f([1, 2, 3, 4, 5, 6]), [2, 3], [0]), [5, 7, 9], 'sum over a leading axis');
    same(await k.argReduce('argmax', f([]), [0, 3], 1), [], 'argmax with an empty outer axis');
    same(await k.argReduce('argmin', f([3, 1, 1, 0, 5, 0]), [2, 3], 1), [1, 0], 'argmin first occurrence');
    same(await k.transpose(f([7]), [], []), [7], 'transpose 0-d');
    same(await k.transpose(f([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0]), [1, 4, 2, 5, 3, 6], 'transpose');
    same(await k.broadcastTo(f([7]), [], [2, 2]), [7, 7, 7, 7], 'broadcast 0-d');
    same(await k.broadcastTo(f([1, 2]), [2, 1], [2, 3]), [1, 1, 1, 2, 2, 2], 'broadcast a column');
    same(await k.slice(f([1, 2, 3, 4, 5, 6]), [2, 3], [0, 1], [1, 1], [2, 0]), [], 'empty slice');
    same(await k.slice(f([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0], [1, 2], [1, 2]), [4, 6], 'strided slice');
    same(await k.sliceGrad(f([4, 6]), [1, 2], [2, 3], [1, 0], [1, 2]), [0, 0, 0, 4, 0, 6], 'sliceGrad');
    same(await k.pad(f([5]), [], [], 9), [5], 'pad 0-d');
    same(await k.pad(f([]), [0], [[1, 2]], 9), [9, 9, 9], 'pad empty');
    same(await k.concat([f([1, 2]), f([]), f([3])], [[2], [0], [1]], 0), [1, 2, 3], 'concat with an empty piece');
    same(await k.indexSelect(f([1, 2, 3]), [3], new Int32Array(0), 0), [], 'indexSelect empty');
    same(await k.indexAdd(f([1, 1, 1]), [3], new Int32Array([0, 2, 0]), 0, [3]), [2, 0, 1], 'indexAdd repeats');
    same(await k.gather(f([1, 2, 3, 4]), [2, 2], new Int32Array([1, 0]), [2, 1], 1), [2, 3], 'gather');
    same(await k.scatterAdd(f([1, 1]), new Int32Array([1, 1]), [2, 1], 0, [2, 1]), [0, 2], 'scatterAdd repeats');
    same(await k.softmax(f([]), 0, 3, 1), [], 'softmax empty');
    same(await k.softmax(f([4, 9]), 2, 1, 1), [1, 1], 'softmax over size 1');
    same(await k.matmul(f([]), f([]), { batch: 1, m: 2, k: 0, n: 2, transA: false, transB: false, strideA: 0, strideB: 0 }), [0, 0, 0, 0], 'matmul k = 0');
    same(await k.matmul(f([]), f([1, 2]), { batch: 0, m: 1, k: 2, n: 1, transA: false, transB: false, strideA: 2, strideB: 0 }), [], 'matmul batch 0');
    same(await k.matmul(f([1, 2, 3, 4]), f([1, 10]), { batch: 2, m: 1, k: 2, n: 1, transA: false, transB: false, strideA: 2, strideB: 0 }), [21, 43], 'matmul broadcast B');
    const p = conv2dParams('conv2d', [0, 1, 3, 3], [1, 1, 2, 2], {});
    same(await k.conv2d(f([]), f([1, 1, 1, 1]), p), [], 'conv2d batch 0');
    same(await k.conv2dBackwardFilter(f([]), f([]), p), [0, 0, 0, 0], 'conv2d filter gradient of an empty batch');
  });
}
