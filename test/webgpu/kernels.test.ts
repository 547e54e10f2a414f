/**
 * Every implemented webgpu kernel against the reference kernels (the oracle), on random inputs
 * of several shapes (broadcasting, odd sizes, both reduction paths), within float32 tolerance.
 * Runs on whatever adapter the machine offers — llvmpipe through Dawn's OpenGL backend when
 * there is no GPU — and skips with one line when none can be had. Sizes stay small: a software
 * adapter is slow.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { DataArray } from '../../src/core/dtype.js';
import type { Shape } from '../../src/core/shape.js';
import type { Handle } from '../../src/backend/handle.js';
import type { BinaryOp, Conv2dParams, Pool2dParams, UnaryOp } from '../../src/backend/kernels.js';
import { referenceKernels } from '../../src/backends/reference/index.js';
import { listBackends } from '../../src/backend/registry.js';
import { createWebGPUBackend, initWebGPU, WEBGPU_PRIORITY, bucketBytes, type WebGPUBackend } from '../../src/backends/webgpu/index.js';

const got = await initWebGPU({ debug: true });
const skip = 'error' in got ? `${got.error}: webgpu kernel tests skipped` : false;
if (skip) console.log(skip);
else console.log(`webgpu adapter: ${(got as WebGPUBackend).adapter.label}`);
const be = got as WebGPUBackend;
const K = 'error' in got ? null! : be.kernels;
const R = referenceKernels;

after(() => {
  if (!skip) be.device.destroy();
});

// ---- helpers ----

let seed = 12345;
/** Deterministic uniform in [lo, hi). */
function rand(lo = -3, hi = 3): number {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return lo + ((seed >>> 8) / 2 ** 24) * (hi - lo);
}
const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);
const randF = (s: Shape, lo = -3, hi = 3): Float32Array => Float32Array.from({ length: size(s) }, () => rand(lo, hi));
const randI = (n: number, lo: number, hi: number): Int32Array => Int32Array.from({ length: n }, () => Math.floor(rand(lo, hi)));
const randB = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => (rand() > 0 ? 1 : 0));

const up = (a: DataArray): Handle => be.upload(a.slice());
// The reference kernels work on arrays directly (Kernels<DataArray>); these mark the reference side.
const asH = (a: DataArray): DataArray => a;
const arr = (a: DataArray): DataArray => a;

/** Reads a webgpu buffer (awaiting any captured WebGPU error) and frees it. */
async function get(h: Handle): Promise<DataArray> {
  const v = await be.read(h);
  be.free(h);
  return v;
}

function close(actual: DataArray, expected: DataArray, msg: string, tol = { atol: 1e-5, rtol: 1e-5 }): void {
  assert.equal(actual.constructor.name, expected.constructor.name, `${msg}: dtype`);
  assert.equal(actual.length, expected.length, `${msg}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e);
    assert.ok(ok, `${msg}: element ${i}: got ${a}, expected ${e}`);
  }
}

describe('webgpu kernels match the reference', { skip }, () => {
  test('cast and copyInto between every supported dtype', async () => {
    const f = Float32Array.from([-2.7, -1, -0.5, 0, 0.4, 1, 2.9, 1e6]);
    const i = Int32Array.from([-5, 0, 3, 7, 0, 1, -1, 2]);
    const b = Uint8Array.from([1, 0, 1, 1, 0, 0, 1, 0]);
    for (const x of [f, i, b]) {
      for (const d of ['float32', 'int32', 'bool'] as const) {
        close(await get(K.cast(up(x), d)), arr(R.cast(asH(x), d)), `cast ${x.constructor.name} → ${d}`);
      }
    }
    const dst = up(new Int32Array(8));
    K.copyInto(dst, up(f));
    close(await get(dst), Int32Array.from([-2, -1, 0, 0, 0, 1, 2, 1e6]), 'copyInto float32 → int32');
  });

  test('unary: every op on float32, integer ops on int32', async () => {
    const ops: UnaryOp[] = ['neg', 'abs', 'sqrt', 'exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'sign',
      'square', 'reciprocal', 'floor', 'ceil', 'round', 'softplus', 'erf', 'logicalNot'];
    const x = randF([5, 13]);
    x[0] = 0; x[1] = 1e-6; x[2] = -1e-6; x[3] = 25; x[4] = -20; x[5] = 2.5; x[6] = -0.5; x[7] = NaN;
    for (const op of ops) {
      // log/sqrt of negatives are NaN on both sides; keep most inputs in the domain.
      const xin = op === 'log' || op === 'sqrt' || op === 'log1p' ? x.map((v) => (Number.isNaN(v) ? v : Math.abs(v))) : x;
      close(await get(K.unary(op, up(xin))), arr(R.unary(op, asH(xin))), `unary ${op}`, { atol: 2e-6, rtol: 2e-5 });
    }
    const xi = randI(37, -9, 9);
    for (const op of ['neg', 'abs', 'relu', 'sign', 'square', 'floor', 'logicalNot'] as UnaryOp[]) {
      close(await get(K.unary(op, up(xi))), arr(R.unary(op, asH(xi))), `unary ${op} int32`);
    }
  });

  test('binary: every op, same shapes and broadcasting, float32 and int32', async () => {
    const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr'];
    const cases: [Shape, Shape, Shape][] = [[[3, 5], [3, 5], [3, 5]], [[2, 1, 4], [3, 1], [2, 3, 4]], [[7], [1], [7]], [[1], [6, 1, 1], [6, 1, 1]]];
    for (const [as, bs, os] of cases) {
      for (const op of ops) {
        const cmp = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr'].includes(op);
        // Small integers make ties (eq, maximum) and exact zeros (logical ops) common.
        const a = op === 'pow' ? randF(as, 0.1, 3) : Float32Array.from(randI(size(as), -3, 4));
        const b = op === 'pow' ? Float32Array.from(randI(size(bs), -2, 4)) : randF(bs);
        if (cmp) b.set(Float32Array.from(randI(size(bs), -3, 4)));
        const od = cmp ? 'bool' : 'float32';
        close(await get(K.binary(op, up(a), as, up(b), bs, os, od)), arr(R.binary(op, asH(a), as, asH(b), bs, os, od)),
          `binary ${op} ${JSON.stringify([as, bs])}`, { atol: 1e-5, rtol: 2e-6 });
      }
    }
    // pow of negative bases with integer exponents, 0^negative.
    const pa = Float32Array.from([-2, -2, -3, 0, 0, 4]);
    const pb = Float32Array.from([3, 2, -1, -1, 2, 0.5]);
    close(await get(K.binary('pow', up(pa), [6], up(pb), [6], [6], 'float32')), arr(R.binary('pow', asH(pa), [6], asH(pb), [6], [6], 'float32')), 'pow signs', { atol: 1e-6, rtol: 1e-6 });
    for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'lt', 'eq'] as BinaryOp[]) {
      const a = randI(12, -20, 20);
      const b = randI(4, -5, 6);
      const od = op === 'lt' || op === 'eq' ? 'bool' : 'int32';
      close(await get(K.binary(op, up(a), [3, 4], up(b), [4], [3, 4], od)), arr(R.binary(op, asH(a), [3, 4], asH(b), [4], [3, 4], od)), `binary ${op} int32`);
    }
  });

  test('where broadcasts condition and both branches', async () => {
    const c = randB(4);
    const a = randF([3, 1]);
    const b = randF([1]);
    close(await get(K.where(up(c), [1, 4], up(a), [3, 1], up(b), [1], [3, 4])), arr(R.where(asH(c), [1, 4], asH(a), [3, 1], asH(b), [1], [3, 4])), 'where');
    const ci = randI(5, 0, 3);
    close(await get(K.where(up(c.subarray(0, 1)), [1], up(ci), [5], up(Int32Array.from([9])), [1], [5])),
      arr(R.where(asH(c.subarray(0, 1)), [1], asH(ci), [5], asH(Int32Array.from([9])), [1], [5])), 'where int32');
  });

  test('reduce and argReduce over every axis set, short and long rows', async () => {
    const shape = [3, 70, 5];
    const x = randF(shape);
    for (const axes of [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]]) {
      for (const op of ['sum', 'max', 'min', 'prod'] as const) {
        const xin = op === 'prod' ? x.map((v) => 1 + v / 300) : x;
        close(await get(K.reduce(op, up(xin), shape, axes)), arr(R.reduce(op, asH(xin), shape, axes)), `reduce ${op} ${axes}`, { atol: 1e-4, rtol: 1e-4 });
      }
    }
    const xi = randI(60, -50, 50);
    close(await get(K.reduce('sum', up(xi), [4, 15], [1])), arr(R.reduce('sum', asH(xi), [4, 15], [1])), 'reduce sum int32');
    close(await get(K.reduce('max', up(xi), [4, 15], [0])), arr(R.reduce('max', asH(xi), [4, 15], [0])), 'reduce max int32');
    // Ties (small integers) check the first-occurrence rule; a NaN wins.
    const t = Float32Array.from(randI(size(shape), 0, 4));
    t[7] = NaN;
    for (let axis = 0; axis < 3; axis++) {
      for (const op of ['argmax', 'argmin'] as const) {
        close(await get(K.argReduce(op, up(t), shape, axis)), arr(R.argReduce(op, asH(t), shape, axis)), `${op} axis ${axis}`);
      }
    }
    // Long rows run in chunks of 4096 and a second pass over the partials.
    const long = randF([2, 20001]);
    for (const op of ['sum', 'max', 'min'] as const) {
      close(await get(K.reduce(op, up(long), [2, 20001], [1])), R.reduce(op, long, [2, 20001], [1]), `reduce ${op} of long rows`, { atol: 1e-3, rtol: 1e-4 });
    }
    long[12345] = NaN;
    close(await get(K.reduce('max', up(long), [40002], [0])), R.reduce('max', long, [40002], [0]), 'reduce max of a long row with a NaN');
    const nan = Float32Array.from([1, NaN, 3, 4]);
    close(await get(K.reduce('max', up(nan), [4], [0])), arr(R.reduce('max', asH(nan), [4], [0])), 'max propagates NaN');
  });

  test('matmul: batched, every transpose, broadcast batch, odd sizes', async () => {
    // Multiples of 4 take the vec4 tile loads; odd sizes the scalar ones.
    for (const [batch, m, k, n] of [[1, 1, 1, 1], [3, 33, 17, 40], [2, 5, 70, 3], [2, 36, 20, 44], [1, 4, 4, 4]]) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const bcastB of [false, true]) {
            const a = randF([batch, m, k]);
            const b = randF([bcastB ? 1 : batch, k, n]);
            const p = { batch, m, k, n, transA, transB, strideA: m * k, strideB: bcastB ? 0 : k * n };
            close(await get(K.matmul(up(a), up(b), p)), arr(R.matmul(asH(a), asH(b), p)), `matmul ${JSON.stringify(p)}`, { atol: 1e-4, rtol: 1e-4 });
          }
        }
      }
    }
  });

  test('transpose, broadcastTo, slice, sliceGrad, pad, concat', async () => {
    const s = [2, 3, 4];
    const x = randF(s);
    for (const perm of [[0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0]]) {
      close(await get(K.transpose(up(x), s, perm)), arr(R.transpose(asH(x), s, perm)), `transpose ${perm}`);
    }
    const xi = randI(3, -5, 5);
    close(await get(K.transpose(up(xi), [3, 1], [1, 0])), arr(R.transpose(asH(xi), [3, 1], [1, 0])), 'transpose int32');
    close(await get(K.broadcastTo(up(x), s, [2, 2, 3, 4])), arr(R.broadcastTo(asH(x), s, [2, 2, 3, 4])), 'broadcastTo');
    const b1 = randF([3, 1]);
    close(await get(K.broadcastTo(up(b1), [3, 1], [2, 3, 5])), arr(R.broadcastTo(asH(b1), [3, 1], [2, 3, 5])), 'broadcastTo inner');
    const sl = { begin: [1, 0, 3], step: [1, 2, -2], out: [1, 2, 2] };
    close(await get(K.slice(up(x), s, sl.begin, sl.step, sl.out)), arr(R.slice(asH(x), s, sl.begin, sl.step, sl.out)), 'slice with steps');
    const g = randF(sl.out);
    close(await get(K.sliceGrad(up(g), sl.out, s, sl.begin, sl.step)), arr(R.sliceGrad(asH(g), sl.out, s, sl.begin, sl.step)), 'sliceGrad');
    const pads = [[1, 0], [0, 2], [2, 1]] as const;
    close(await get(K.pad(up(x), s, pads, -1.5)), arr(R.pad(asH(x), s, pads, -1.5)), 'pad');
    const bools = randB(6);
    close(await get(K.pad(up(bools), [6], [[2, 1]], 1)), arr(R.pad(asH(bools), [6], [[2, 1]], 1)), 'pad bool');
    for (const axis of [0, 1, 2]) {
      const shapes = [[2, 3, 4], [2, 3, 4]].map((sh) => sh.map((d, i) => (i === axis ? d + axis : d)));
      shapes.push(shapes[0].map((d, i) => (i === axis ? 1 : d)));
      const xs = shapes.map((sh) => randF(sh));
      close(await get(K.concat(xs.map(up), shapes, axis)), arr(R.concat(xs.map(asH), shapes, axis)), `concat axis ${axis}`);
    }
  });

  test('indexSelect, indexAdd, gather, scatterAdd', async () => {
    const s = [4, 5, 3];
    const x = randF(s);
    for (const axis of [0, 1, 2]) {
      const idx = randI(7, 0, s[axis]);
      close(await get(K.indexSelect(up(x), s, up(idx), axis)), arr(R.indexSelect(asH(x), s, asH(idx), axis)), `indexSelect ${axis}`);
      const srcShape = s.map((d, i) => (i === axis ? 7 : d));
      const src = randF(srcShape);
      close(await get(K.indexAdd(up(src), srcShape, up(idx), axis, s)), arr(R.indexAdd(asH(src), srcShape, asH(idx), axis, s)), `indexAdd ${axis}`, { atol: 1e-5, rtol: 1e-5 });
      const iShape = [3, 4, 2].map((d, i) => (i === axis ? 6 : d));
      const gi = randI(size(iShape), 0, s[axis]);
      close(await get(K.gather(up(x), s, up(gi), iShape, axis)), arr(R.gather(asH(x), s, asH(gi), iShape, axis)), `gather ${axis}`);
      const gs = randF(iShape);
      close(await get(K.scatterAdd(up(gs), up(gi), iShape, axis, s)), arr(R.scatterAdd(asH(gs), asH(gi), iShape, axis, s)), `scatterAdd ${axis}`, { atol: 1e-5, rtol: 1e-5 });
    }
  });

  test('softmax and logSoftmax along inner and middle axes', async () => {
    for (const [outer, sz, inner] of [[3, 10, 4], [5, 100, 1], [1, 1, 3]]) {
      const x = randF([outer, sz, inner], -10, 10);
      close(await get(K.softmax(up(x), outer, sz, inner)), arr(R.softmax(asH(x), outer, sz, inner)), `softmax ${[outer, sz, inner]}`, { atol: 1e-6, rtol: 1e-5 });
      close(await get(K.logSoftmax(up(x), outer, sz, inner)), arr(R.logSoftmax(asH(x), outer, sz, inner)), `logSoftmax ${[outer, sz, inner]}`, { atol: 1e-5, rtol: 1e-5 });
    }
  });

  test('reluBackward, biasAct and biasActBackward', async () => {
    const x = randF([6, 7]);
    x[3] = NaN;
    const dy = randF([6, 7]);
    close(await get(K.reluBackward(up(x), up(dy))), arr(R.reluBackward(asH(x), asH(dy))), 'reluBackward');
    for (const [shape, axis] of [[[6, 7], 1], [[2, 3, 4, 5], 1], [[4, 9], 0]] as [Shape, number][]) {
      const xs = randF(shape);
      const bias = randF([shape[axis]]);
      const d = randF(shape);
      for (const act of ['none', 'relu'] as const) {
        const yv = R.biasAct(asH(xs), shape, asH(bias), axis, act);
        close(await get(K.biasAct(up(xs), shape, up(bias), axis, act)), arr(yv), `biasAct ${act} ${shape}`);
        const ref = R.biasActBackward(yv, asH(d), shape, axis, act);
        const got2 = K.biasActBackward(up(arr(yv)), up(d), shape, axis, act);
        close(await get(got2.dx), arr(ref.dx), `biasActBackward dx ${act} ${shape}`);
        close(await get(got2.dbias), arr(ref.dbias), `biasActBackward dbias ${act} ${shape}`, { atol: 1e-4, rtol: 1e-5 });
      }
    }
  });

  test('softmaxCrossEntropy and its backward, with smoothing and an ignored label', async () => {
    for (const [rows, classes] of [[5, 10], [3, 130]]) {
      const z = randF([rows, classes], -5, 5);
      const labels = randI(rows, 0, classes);
      labels[1] = -100;
      const dloss = randF([rows]);
      for (const [smoothing, ignore] of [[0, null], [0.1, -100], [0, -100]] as [number, number | null][]) {
        const lab = ignore === null ? Int32Array.from(labels, (l) => (l < 0 ? 0 : l)) : labels;
        const ref = R.softmaxCrossEntropy(asH(z), rows, classes, asH(lab), smoothing, ignore);
        const gpu = K.softmaxCrossEntropy(up(z), rows, classes, up(lab), smoothing, ignore);
        const what = `${rows}×${classes} ε=${smoothing} ignore=${ignore}`;
        close(await get(gpu.loss), arr(ref.loss), `softmaxCrossEntropy loss ${what}`, { atol: 1e-5, rtol: 1e-5 });
        close(await get(gpu.probs), arr(ref.probs), `softmaxCrossEntropy probs ${what}`, { atol: 1e-6, rtol: 1e-5 });
        close(await get(K.softmaxCrossEntropyBackward(up(arr(ref.probs)), up(lab), up(dloss), rows, classes, smoothing, ignore)),
          arr(R.softmaxCrossEntropyBackward(ref.probs, asH(lab), asH(dloss), rows, classes, smoothing, ignore)), `softmaxCrossEntropyBackward ${what}`);
      }
    }
  });
});

describe('webgpu convolution, pooling and batch norm match the reference', { skip }, () => {
  function convParams(n: number, cIn: number, h: number, w: number, cOut: number, k: number, o: Partial<Conv2dParams> = {}): Conv2dParams {
    const p = { n, cIn, h, w, cOut, kh: k, kw: k, strideH: 1, strideW: 1, padTop: 0, padBottom: 0, padLeft: 0, padRight: 0, dilationH: 1, dilationW: 1, groups: 1, outH: 0, outW: 0, ...o };
    p.outH = Math.floor((h + p.padTop + p.padBottom - p.dilationH * (p.kh - 1) - 1) / p.strideH) + 1;
    p.outW = Math.floor((w + p.padLeft + p.padRight - p.dilationW * (p.kw - 1) - 1) / p.strideW) + 1;
    return p;
  }

  test('conv2d and both gradients: padding, stride, dilation, groups, rectangular images', async () => {
    const cases = [
      convParams(2, 3, 7, 6, 4, 3),
      convParams(1, 4, 9, 8, 6, 3, { strideH: 2, strideW: 1, padTop: 1, padBottom: 1, padLeft: 2, padRight: 0 }),
      convParams(2, 4, 6, 6, 4, 2, { groups: 2, dilationH: 2, dilationW: 2, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1 }),
      convParams(3, 2, 5, 5, 3, 1),
    ];
    for (const p of cases) {
      const x = randF([p.n, p.cIn, p.h, p.w]);
      const w = randF([p.cOut, p.cIn / p.groups, p.kh, p.kw]);
      const dy = randF([p.n, p.cOut, p.outH, p.outW]);
      const what = JSON.stringify(p);
      close(await get(K.conv2d(up(x), up(w), p)), R.conv2d(x, w, p), `conv2d ${what}`, { atol: 1e-4, rtol: 1e-4 });
      close(await get(K.conv2dBackwardInput(up(dy), up(w), p)), R.conv2dBackwardInput(dy, w, p), `conv2dBackwardInput ${what}`, { atol: 1e-4, rtol: 1e-4 });
      close(await get(K.conv2dBackwardFilter(up(x), up(dy), p)), R.conv2dBackwardFilter(x, dy, p), `conv2dBackwardFilter ${what}`, { atol: 1e-4, rtol: 1e-4 });
    }
  });

  test('convolutions over batches larger than the im2col budget run in chunks of images', async () => {
    // A backend on the same device whose column buffer holds 2 images of this layer (2,160 bytes each): 3 chunks.
    const p = convParams(5, 3, 5, 4, 4, 3, { padTop: 1, padBottom: 1, padLeft: 1, padRight: 1 });
    const small = createWebGPUBackend(be.device, be.adapter, true, { convColumnBytes: 2 * 3 * 9 * 20 * 4 });
    const sup = (a: DataArray): Handle => small.upload(a.slice());
    const sget = async (h: Handle): Promise<DataArray> => small.read(h);
    const x = randF([p.n, p.cIn, p.h, p.w]);
    const w = randF([p.cOut, p.cIn, p.kh, p.kw]);
    const dy = randF([p.n, p.cOut, p.outH, p.outW]);
    close(await sget(small.kernels.conv2d(sup(x), sup(w), p)), R.conv2d(x, w, p), 'chunked conv2d', { atol: 1e-4, rtol: 1e-4 });
    close(await sget(small.kernels.conv2dBackwardInput(sup(dy), sup(w), p)), R.conv2dBackwardInput(dy, w, p), 'chunked conv2dBackwardInput', { atol: 1e-4, rtol: 1e-4 });
    close(await sget(small.kernels.conv2dBackwardFilter(sup(x), sup(dy), p)), R.conv2dBackwardFilter(x, dy, p), 'chunked conv2dBackwardFilter', { atol: 1e-4, rtol: 1e-4 });
  });

  test('max and average pooling, forward and backward, with padding and overlap', async () => {
    const pool = (n: number, c: number, h: number, w: number, k: number, s: number, pad: number, countIncludePad: boolean): Pool2dParams => ({
      n, c, h, w, kh: k, kw: k, strideH: s, strideW: s, padTop: pad, padLeft: pad,
      outH: Math.floor((h + 2 * pad - k) / s) + 1, outW: Math.floor((w + 2 * pad - k) / s) + 1, countIncludePad,
    });
    for (const p of [pool(2, 3, 8, 8, 2, 2, 0, true), pool(1, 2, 7, 5, 3, 2, 1, true), pool(1, 2, 7, 5, 3, 2, 1, false), pool(2, 1, 6, 6, 3, 1, 1, false)]) {
      const x = Float32Array.from(randI(p.n * p.c * p.h * p.w, -4, 4)); // ties: first max wins
      const dy = randF([p.n, p.c, p.outH, p.outW]);
      const what = JSON.stringify(p);
      const ref = R.maxPool2d(x, p);
      const gpu = K.maxPool2d(up(x), p);
      close(await get(gpu.out), ref.out, `maxPool2d ${what}`);
      close(await get(gpu.argmax), ref.argmax, `maxPool2d argmax ${what}`);
      close(await get(K.maxPool2dBackward(up(dy), up(ref.argmax), p)), R.maxPool2dBackward(dy, ref.argmax, p), `maxPool2dBackward ${what}`);
      close(await get(K.avgPool2d(up(x), p)), R.avgPool2d(x, p), `avgPool2d ${what}`);
      close(await get(K.avgPool2dBackward(up(dy), p)), R.avgPool2dBackward(dy, p), `avgPool2dBackward ${what}`);
    }
  });

  test('batch norm: training forward with and without affine, eval forward, backward for batch and running statistics', async () => {
    for (const shape of [[4, 3, 5, 5], [6, 70], [2, 2, 9]] as Shape[]) {
      const c = shape[1];
      const x = randF(shape, 5, 9); // a mean far from 0 checks the shifted sums
      const gamma = randF([c], 0.5, 2);
      const beta = randF([c]);
      const dy = randF(shape);
      for (const affine of [true, false]) {
        const ga = affine ? gamma : null;
        const be2 = affine ? beta : null;
        const ref = R.batchNormForwardTrain(x, shape, ga, be2, 1e-5);
        const gpu = K.batchNormForwardTrain(up(x), shape, ga && up(ga), be2 && up(be2), 1e-5);
        const what = `${shape} affine=${affine}`;
        close(await get(gpu.out), ref.out, `batchNormForwardTrain out ${what}`, { atol: 1e-4, rtol: 1e-4 });
        close(await get(gpu.mean), ref.mean, `batchNormForwardTrain mean ${what}`, { atol: 1e-5, rtol: 1e-5 });
        close(await get(gpu.variance), ref.variance, `batchNormForwardTrain variance ${what}`, { atol: 1e-5, rtol: 1e-4 });
        close(await get(gpu.invstd), ref.invstd, `batchNormForwardTrain invstd ${what}`, { atol: 1e-5, rtol: 1e-4 });
        for (const batchStats of [true, false]) {
          const rb = R.batchNormBackward(x, dy, shape, ref.mean, ref.invstd, ga, batchStats);
          const gb = K.batchNormBackward(up(x), up(dy), shape, up(ref.mean), up(ref.invstd), ga && up(ga), batchStats);
          close(await get(gb.dx), rb.dx, `batchNormBackward dx ${what} batchStats=${batchStats}`, { atol: 1e-4, rtol: 1e-3 });
          close(await get(gb.dgamma), rb.dgamma, `batchNormBackward dgamma ${what}`, { atol: 1e-4, rtol: 1e-4 });
          close(await get(gb.dbeta), rb.dbeta, `batchNormBackward dbeta ${what}`, { atol: 1e-4, rtol: 1e-4 });
        }
      }
      close(await get(K.batchNormForwardEval(up(x), shape, up(gamma), up(beta))), R.batchNormForwardEval(x, shape, gamma, beta), `batchNormForwardEval ${shape}`, { atol: 1e-5, rtol: 1e-5 });
    }
  });
});

describe('webgpu label checks and optimizer steps match the reference', { skip }, () => {
  test('checkLabels: counts, first bad position, ignoreIndex, unbounded classes, float labels', async () => {
    const cases: [DataArray, number, number | null][] = [
      [Int32Array.from([0, 3, 2, -100, 1]), 4, -100],
      [Int32Array.from([0, 3, 4, -100, 7]), 4, -100],
      [Int32Array.from([0, 3, 4, -1, 7]), 4, null],
      [Int32Array.from([5, 9, 1000]), Infinity, null],
      [Float32Array.from([0, 1.5, 2, -100]), 3, -100],
      [Float32Array.from({ length: 200 }, (_, i) => i % 5), 5, null],
      [Int32Array.from({ length: 150 }, (_, i) => (i === 131 ? 9 : i % 3)), 3, 2],
    ];
    for (const [labels, classes, ignore] of cases) {
      close(await get(K.checkLabels(up(labels), classes, ignore)), R.checkLabels(labels, classes, ignore), `checkLabels ${labels.constructor.name}(${labels.length}) ${classes} ${ignore}`);
    }
  });

  test('nonFiniteCount counts NaN and ±Inf per buffer (ints and empty buffers count 0)', async () => {
    const a = randF([300]);
    a[0] = NaN; a[77] = Infinity; a[299] = -Infinity; a[150] = NaN;
    const b = randF([5]);
    const c = Int32Array.from([1, 2, 3]);
    const d = new Float32Array(0);
    const e = new Float32Array(70).fill(NaN);
    const xs = [a, b, c, d, e];
    close(await get(K.nonFiniteCount(xs.map(up))), R.nonFiniteCount(xs), 'nonFiniteCount');
  });

  test('adamUpdate, sgdUpdate, rmspropUpdate and adagradUpdate update weights and slots in place', async () => {
    const n = 300;
    const tol = { atol: 1e-6, rtol: 1e-5 };
    /** Runs one step on both backends from the same state and compares every buffer. */
    async function compare(name: string, state: Float32Array[], ref: (s: Float32Array[]) => void, gpu: (h: Handle[]) => void): Promise<void> {
      const hs = state.map(up);
      const rs = state.map((a) => a.slice());
      ref(rs);
      gpu(hs);
      for (let i = 0; i < hs.length; i++) close(await get(hs[i]), rs[i], `${name} buffer ${i}`, tol);
    }
    const fresh = (): Float32Array[] => [randF([n]), randF([n]), randF([n], -0.1, 0.1), randF([n], 0, 0.2), randF([n], 0, 0.2)];
    for (const [l2, decay, apply] of [[0, 0, true], [0.01, 0, true], [0, 0.05, false]] as [number, number, boolean][]) {
      for (const ams of [false, true]) {
        const st = fresh();
        const use = ams ? st : st.slice(0, 4);
        await compare(`adamUpdate l2=${l2} decay=${decay} amsgrad=${ams}`, use,
          ([w, g, m, v, vm]) => R.adamUpdate(w, g, m, v, vm ?? null, 0.9, 0.999, 1e-8, 3, l2, decay, -0.01, apply),
          ([w, g, m, v, vm]) => K.adamUpdate(w, g, m, v, vm ?? null, 0.9, 0.999, 1e-8, 3, l2, decay, -0.01, apply));
      }
    }
    for (const [hasBuf, first, nesterov, l2] of [[false, false, false, 0], [true, true, false, 0.01], [true, false, true, 0], [true, false, false, 0]] as [boolean, boolean, boolean, number][]) {
      const st = fresh().slice(0, hasBuf ? 3 : 2);
      await compare(`sgdUpdate buf=${hasBuf} first=${first} nesterov=${nesterov} l2=${l2}`, st,
        ([w, g, b]) => R.sgdUpdate(w, g, b ?? null, first, 0.9, 0.1, nesterov, l2, -0.05, true),
        ([w, g, b]) => K.sgdUpdate(w, g, b ?? null, first, 0.9, 0.1, nesterov, l2, -0.05, true));
    }
    for (const [centered, hasBuf] of [[false, false], [true, false], [false, true], [true, true]]) {
      const st = fresh();
      st[2] = randF([n], 0, 0.2); // sq ≥ 0
      st[3] = randF([n], -0.05, 0.05); // gAvg small enough that sq − gAvg² stays mostly positive
      const pick = [st[0], st[1], st[2], ...(centered ? [st[3]] : []), ...(hasBuf ? [st[4]] : [])];
      await compare(`rmspropUpdate centered=${centered} momentum=${hasBuf}`, pick,
        (a) => R.rmspropUpdate(a[0], a[1], a[2], centered ? a[3] : null, hasBuf ? a[centered ? 4 : 3] : null, 0.99, 1e-8, hasBuf ? 0.9 : 0, 0.001, -0.01, true),
        (a) => K.rmspropUpdate(a[0], a[1], a[2], centered ? a[3] : null, hasBuf ? a[centered ? 4 : 3] : null, 0.99, 1e-8, hasBuf ? 0.9 : 0, 0.001, -0.01, true));
    }
    // Adagrad: the sum starts at 0 (the first step, root of g'² alone) or at a positive
    // accumulator; factor < 1 is a decayed step; apply false leaves w alone.
    for (const [sum0, factor, l2, apply] of [[0, 1, 0, true], [0.1, 1 / 1.5, 0.01, true], [0.05, 0.5, 0, false]] as [number, number, number, boolean][]) {
      const st = fresh().slice(0, 3);
      st[2] = sum0 === 0 ? new Float32Array(n) : randF([n], sum0, 2 * sum0); // sum ≥ 0
      await compare(`adagradUpdate sum0=${sum0} factor=${factor} l2=${l2} apply=${apply}`, st,
        ([w, g, sm]) => R.adagradUpdate(w, g, sm, 1e-10, factor, l2, -0.01, apply),
        ([w, g, sm]) => K.adagradUpdate(w, g, sm, 1e-10, factor, l2, -0.01, apply));
    }
  });
});

describe('webgpu backend behaviour', { skip }, () => {
  test('reports its adapter and registers below reference when it is software, above wasm otherwise', () => {
    assert.ok(be.adapter.label.length > 0);
    const entry = listBackends().find((b) => b.name === 'webgpu');
    assert.ok(entry, 'webgpu is registered');
    assert.equal(entry.priority, be.adapter.software ? WEBGPU_PRIORITY.software : WEBGPU_PRIORITY.hardware);
    assert.ok(WEBGPU_PRIORITY.software < 0 && WEBGPU_PRIORITY.hardware > 10);
  });

  test('upload/write/read round-trip every supported dtype; alloc is zero-filled', async () => {
    const f = randF([9]);
    assert.deepEqual(await get(be.upload(f.slice())), f);
    const h = be.upload(Int32Array.from([1, 2, 3]));
    be.write(h, [7, -8, 9.7]);
    assert.deepEqual(await get(h), Int32Array.from([7, -8, 9]));
    const bh = be.upload(Uint8Array.from([1, 0, 1]));
    assert.equal(be.dtypeOf(bh), 'bool');
    assert.equal(be.sizeOf(bh), 3);
    assert.deepEqual(await get(bh), Uint8Array.from([1, 0, 1]));
    // A pooled buffer with old contents must still come back zeroed from alloc.
    be.free(be.upload(Float32Array.from([5, 5, 5, 5])));
    assert.deepEqual(await get(be.alloc('float32', 4)), new Float32Array(4));
  });

  test('readSync throws one line naming await t.data(); float64 and over-large buffers are refused in one line', () => {
    const h = be.upload(Float32Array.from([1]));
    assert.throws(() => be.readSync(h), (e: Error) => /await t\.data\(\)/.test(e.message) && !e.message.includes('\n'));
    be.free(h);
    assert.throws(() => be.upload(new Float64Array(2)), (e: Error) => /float64/.test(e.message) && !e.message.includes('\n'));
    assert.throws(() => be.alloc('float64', 2), /float64/);
    const x = be.upload(Float32Array.from([1]));
    assert.throws(() => be.kernels.cast(x, 'float64'), /float64/);
    be.free(x);
    // A buffer past the device's binding limit is refused up front, naming both sizes.
    const limit = be.device.limits.maxStorageBufferBindingSize;
    assert.throws(() => be.alloc('float32', Math.floor(limit / 4) + 1), (e: Error) => /binds at most/.test(e.message) && !e.message.includes('\n'));
  });

  test('a validation error surfaces as a thrown error naming the kernel and shapes', async () => {
    const x = be.upload(Float32Array.from([1, 2, 3]));
    // Destroying the buffer behind a live handle makes the next dispatch invalid: WebGPU reports
    // that only through error scopes, and the backend must turn it into an error.
    (x as unknown as { buffer: GPUBuffer }).buffer.destroy();
    const y = be.kernels.unary('exp', x);
    await assert.rejects(be.read(y), (e: Error) => /kernel 'unary'/.test(e.message) && /exp, float32 of 3 elements/.test(e.message) && !e.message.includes('\n'));
    // The error is reported once; the device stays usable.
    const z = be.upload(Float32Array.from([4]));
    assert.deepEqual(await get(be.kernels.unary('neg', z)), Float32Array.from([-4]));
  });

  test('without debug scopes an error still surfaces at the next read (without the kernel name)', async () => {
    // A second device: its uncaptured errors must not leak into the debug backend's reads.
    const plain = await initWebGPU({ debug: false, register: false });
    assert.ok(!('error' in plain));
    try {
      const x = plain.upload(Float32Array.from([1, 2]));
      (x as unknown as { buffer: GPUBuffer }).buffer.destroy();
      await assert.rejects(plain.read(plain.kernels.unary('exp', x)), (e: Error) => /^webgpu: .*destroyed/.test(e.message) && !e.message.includes('\n'));
    } finally {
      plain.device.destroy();
    }
  });

  test('freed buffers return to a size-bucketed pool: memory stays flat over repeated alloc/free', async () => {
    assert.equal(bucketBytes(100), 128);
    assert.equal(bucketBytes(3 << 20), 3 << 20);
    assert.ok(bucketBytes((1 << 20) + 1) <= ((1 << 20) + 1) * 1.125);
    const x = be.upload(randF([64]));
    const before = be.memory();
    let pooledAfterWarmup = -1;
    const seen = new Set<GPUBuffer>();
    for (let i = 0; i < 30; i++) {
      const y = be.kernels.unary('exp', x);
      const z = be.kernels.binary('add', y, [64], x, [64], [64], 'float32');
      be.free(y);
      seen.add((z as unknown as { buffer: GPUBuffer }).buffer);
      be.free(z);
      if (i === 2) pooledAfterWarmup = be.memory().pooledBytes;
    }
    const afterMem = be.memory();
    assert.equal(afterMem.buffers, before.buffers, 'live buffers flat');
    assert.equal(afterMem.bytes, before.bytes, 'live bytes flat');
    assert.equal(afterMem.pooledBytes, pooledAfterWarmup, 'the pool stops growing once warm');
    assert.ok(seen.size <= 2, `outputs reuse pooled GPU buffers (${seen.size} distinct)`);
    be.free(x);
    await be.sync();
  });
});
