import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Random, referenceKernels, type Pool2dParams } from '../../src/index.js';
import type { BinaryOp, UnaryOp } from '../../src/backend/kernels.js';
import { disposeAll, randArray, wasmWithThreads } from './util.js';
import { hostKernels } from '../helpers-kernels.js';

after(disposeAll);

// The elementwise, reduction and pooling fast paths compute the reference's own expressions in
// the same order, so they must agree bit for bit (NaN where the reference gives NaN).
function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, msg: string): void {
  assert.equal(got.length, want.length, `${msg}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && !(got[i] === 0 && want[i] === 0)) assert.fail(`${msg}: element ${i} got ${got[i]}, expected ${want[i]}`);
  }
}

const k = () => hostKernels(wasmWithThreads(1));

/** Random data with a few specials sprinkled in. */
function data(rng: Random, n: number): Float32Array {
  const x = randArray(rng, n).map((v) => v * 4);
  const specials = [NaN, Infinity, -Infinity, 0, -0];
  for (let i = 0; i < n; i += 13) x[i] = specials[rng.int(0, specials.length)];
  return x;
}

test('unary fast paths equal the reference on float32 (including NaN/±Inf/±0)', () => {
  const rng = new Random(11);
  const ops: UnaryOp[] = ['relu', 'neg', 'abs', 'square', 'sqrt', 'exp', 'log', 'tanh', 'reciprocal', 'sigmoid', 'softplus', 'erf'];
  for (const op of ops) {
    const x = data(rng, 101);
    const got = k().unary(op, x);
    assert.ok(got instanceof Float32Array);
    assertSame(got, referenceKernels.unary(op, x), op);
  }
});

test('binary fast paths: same shape, bias, channel bias, scalar, both orders', () => {
  const rng = new Random(12);
  const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd'];
  const cases: [number[], number[], number[]][] = [
    [[5, 7], [5, 7], [5, 7]],
    [[5, 7], [7], [5, 7]],
    [[7], [5, 7], [5, 7]],
    [[2, 3, 4, 5], [3, 1, 1], [2, 3, 4, 5]],
    [[1, 3, 1, 1], [2, 3, 4, 5], [2, 3, 4, 5]],
    [[4, 6], [], [4, 6]],
    [[], [4, 6], [4, 6]],
    [[4, 1], [1, 6], [4, 6]],
    [[3, 4, 5], [4, 1], [3, 4, 5]],
    [[3, 4, 5], [3, 1, 5], [3, 4, 5]],
    [[0, 3], [3], [0, 3]],
    [[2, 3, 1, 4], [3, 1, 4], [2, 3, 1, 4]],
    [[2, 3, 5, 4], [3, 1, 4], [2, 3, 5, 4]],
    [[1, 1, 6], [2, 1, 6], [2, 1, 6]],
  ];
  for (const op of ops) {
    for (const [as, bs, os] of cases) {
      const a = data(rng, as.reduce((x, y) => x * y, 1));
      const b = data(rng, bs.reduce((x, y) => x * y, 1));
      const outDtype = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd'].includes(op) ? 'bool' : 'float32';
      const got = k().binary(op, a, as, b, bs, os, outDtype);
      assertSame(got, referenceKernels.binary(op, a, as, b, bs, os, outDtype), `${op} ${JSON.stringify([as, bs])}`);
    }
  }
});

test('reduce sum over any axes equals the reference bit for bit; other reductions delegate', () => {
  const rng = new Random(13);
  const shape = [3, 4, 5, 2];
  const x = randArray(rng, 120);
  for (const axes of [[0], [1], [3], [0, 1], [1, 2], [0, 1, 2, 3], [0, 2], [0, 2, 3], [1, 3], [0, 3]]) {
    for (const op of ['sum', 'max'] as const) {
      assertSame(k().reduce(op, x, shape, axes), referenceKernels.reduce(op, x, shape, axes), `${op} ${axes}`);
    }
  }
  const big = randArray(rng, 4 * 8 * 5 * 5).map((v) => v * 1000);
  assertSame(k().reduce('sum', big, [4, 8, 5, 5], [0, 2, 3]), referenceKernels.reduce('sum', big, [4, 8, 5, 5], [0, 2, 3]), 'BatchNorm axes');
  assertSame(k().reduce('sum', new Float32Array(0), [0, 3], [0]), referenceKernels.reduce('sum', new Float32Array(0), [0, 3], [0]), 'empty');
  const withNaN = Float32Array.from([1, NaN, 2, 3]);
  assertSame(k().reduce('sum', withNaN, [2, 2], [0]), referenceKernels.reduce('sum', withNaN, [2, 2], [0]), 'NaN');
});

function poolGeo(rng: Random): Pool2dParams {
  for (;;) {
    const kh = rng.int(1, 4), kw = rng.int(1, 4);
    const strideH = rng.int(1, 3), strideW = rng.int(1, 3);
    const padTop = rng.int(0, Math.floor(kh / 2) + 1), padLeft = rng.int(0, Math.floor(kw / 2) + 1);
    const h = rng.int(1, 9), w = rng.int(1, 9);
    const ceil = rng.int(0, 2) === 1;
    const span = (size: number, kk: number, pad: number, s: number) =>
      (ceil ? Math.ceil : Math.floor)((size + 2 * pad - kk) / s) + 1;
    const outH = span(h, kh, padTop, strideH), outW = span(w, kw, padLeft, strideW);
    if (outH <= 0 || outW <= 0) continue;
    return { n: rng.int(1, 3), c: rng.int(1, 4), h, w, kh, kw, strideH, strideW, padTop, padLeft, outH, outW, countIncludePad: rng.int(0, 2) === 1 };
  }
}

test('pooling fast paths (max/avg, forward/backward) equal the reference on random geometries', () => {
  const rng = new Random(14);
  for (let trial = 0; trial < 60; trial++) {
    const p = poolGeo(rng);
    const label = JSON.stringify(p);
    const x = data(rng, p.n * p.c * p.h * p.w);
    const dy = randArray(rng, p.n * p.c * p.outH * p.outW);
    const mx = k().maxPool2d(x, p);
    const rmx = referenceKernels.maxPool2d(x, p);
    assertSame(mx.out, rmx.out, `max ${label}`);
    assert.deepEqual(Array.from(mx.argmax), Array.from(rmx.argmax), `argmax ${label}`);
    assertSame(k().maxPool2dBackward(dy, rmx.argmax, p), referenceKernels.maxPool2dBackward(dy, rmx.argmax, p), `max back ${label}`);
    assertSame(k().avgPool2d(x, p), referenceKernels.avgPool2d(x, p), `avg ${label}`);
    assertSame(k().avgPool2dBackward(dy, p), referenceKernels.avgPool2dBackward(dy, p), `avg back ${label}`);
  }
});

test('transpose and broadcastTo fast paths equal the reference for every dtype and rank', () => {
  const rng = new Random(15);
  const perms: [number[], number[]][] = [
    [[5, 7], [1, 0]], [[2, 3, 4], [0, 2, 1]], [[2, 3, 4], [2, 0, 1]], [[2, 3, 4], [0, 1, 2]],
    [[2, 1, 3, 4], [3, 1, 0, 2]], [[6], [0]], [[], []], [[0, 3], [1, 0]],
  ];
  const arrays = (n: number) => [data(rng, n), Float64Array.from(data(rng, n)), Int32Array.from({ length: n }, () => rng.int(-9, 9)), Uint8Array.from({ length: n }, () => rng.int(0, 2))];
  for (const [shape, perm] of perms) {
    for (const x of arrays(shape.reduce((a, b) => a * b, 1))) {
      const got = k().transpose(x, shape, perm);
      assert.equal(got.constructor, x.constructor);
      assertSame(got, referenceKernels.transpose(x, shape, perm), `transpose ${shape} ${perm} ${x.constructor.name}`);
    }
  }
  const casts: [number[], number[]][] = [[[3], [4, 3]], [[4, 1], [4, 5]], [[1, 3, 1], [2, 3, 4]], [[], [2, 2]], [[2, 3], [2, 3]], [[1], [0]]];
  for (const [shape, out] of casts) {
    for (const x of arrays(shape.reduce((a, b) => a * b, 1))) {
      assertSame(k().broadcastTo(x, shape, out), referenceKernels.broadcastTo(x, shape, out), `broadcastTo ${shape} → ${out}`);
    }
  }
});

test('softmax / logSoftmax fast paths equal the reference (rows, strided layouts, ±Inf and NaN)', () => {
  const rng = new Random(16);
  for (const [outer, size, inner] of [[7, 10, 1], [1, 1, 1], [3, 33, 1], [2, 5, 3], [0, 4, 1]]) {
    const x = data(rng, outer * size * inner);
    for (const op of ['softmax', 'logSoftmax'] as const) {
      const got = k()[op](x, outer, size, inner);
      assert.ok(got instanceof Float32Array);
      assertSame(got, referenceKernels[op](x, outer, size, inner), `${op} [${outer}, ${size}, ${inner}]`);
    }
  }
});

test('where fast path (full or single-value branches) equals the reference; broadcasts delegate', () => {
  const rng = new Random(17);
  const cases: [number[], number[], number[], number[]][] = [
    [[4, 5], [4, 5], [4, 5], [4, 5]], [[4, 5], [4, 5], [], [4, 5]], [[4, 5], [], [4, 5], [4, 5]], [[4, 5], [], [], [4, 5]],
    [[4, 5], [5], [4, 5], [4, 5]], [[4, 1], [4, 5], [4, 5], [4, 5]], [[1], [1], [1], [1]], [[0, 2], [0, 2], [], [0, 2]],
  ];
  for (const [cs, as, bs, os] of cases) {
    const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
    const c = Uint8Array.from({ length: size(cs) }, () => rng.int(0, 2));
    const a = data(rng, size(as));
    const b = data(rng, size(bs));
    const got = k().where(c, cs, a, as, b, bs, os);
    assert.ok(got instanceof Float32Array);
    assertSame(got, referenceKernels.where(c, cs, a, as, b, bs, os), `where ${JSON.stringify([cs, as, bs])}`);
  }
});

test('wasm relu (large inputs) equals the reference, including NaN, ±Inf, ±0, on 1 and 2 threads', () => {
  const rng = new Random(18);
  for (const threads of [1, 2]) {
    const b = wasmWithThreads(threads);
    for (const n of [1024, 1031, 5000, 2_100_003]) {
      const x = data(rng, n);
      const before = b.stats().jobs;
      const got = hostKernels(b).unary('relu', x);
      assert.equal(b.stats().jobs, before + 1, 'ran in wasm');
      assertSame(got, referenceKernels.unary('relu', x), `relu n=${n} threads=${threads}`);
    }
  }
});

test('wasm reluBackward equals the reference bit for bit (NaN/±Inf/±0 in x and dy), below and above its size threshold, on 1 and 2 threads', () => {
  const rng = new Random(21);
  for (const threads of [1, 2]) {
    const b = wasmWithThreads(threads);
    // 1023 stays in JS (the copy into wasm memory would cost more), 1024 and up run in wasm;
    // odd sizes exercise the scalar tail, 2.1M elements the split across threads.
    for (const [n, inWasm] of [[1023, false], [1024, true], [1031, true], [2_100_003, true]] as const) {
      const x = data(rng, n);
      const dy = data(rng, n);
      const before = b.stats();
      const got = hostKernels(b).reluBackward(x, dy);
      const after = b.stats();
      assert.equal(after.jobs - before.jobs, inWasm ? 1 : 0, `n=${n}: ran in wasm: ${inWasm}`);
      if (threads === 2 && n > 2e6) assert.equal(after.parallelJobs - before.parallelJobs, 1, 'split across threads');
      assert.ok(got instanceof Float32Array);
      assertSame(got, referenceKernels.reluBackward(x, dy), `reluBackward n=${n} threads=${threads}`);
    }
  }
  // Infinite dy where x ≤ 0 is NaN (dy·0), as in the reference and the composed ops.
  const x = new Float32Array(2048).fill(-1);
  const dy = new Float32Array(2048).fill(Infinity);
  assert.ok(Number.isNaN(hostKernels(wasmWithThreads(1)).reluBackward(x, dy)[5]));
});

test('wasm 2×2/stride-2 max pooling (four windows at a time) equals the reference: ties, NaN, -Inf, row tails', () => {
  const rng = new Random(22);
  const b = wasmWithThreads(1);
  // Few distinct values, so windows often tie (the first maximum in scan order must win), plus
  // NaN (the first NaN wins), -Inf (whole windows of -Inf keep the first tap) and ±0.
  const tied = (n: number) => {
    const x = new Float32Array(n);
    const pool = [1, 2, 2, -1, 0, -0, NaN, -Infinity, -Infinity, Infinity];
    for (let i = 0; i < n; i++) x[i] = pool[rng.int(0, pool.length)];
    return x;
  };
  // [h, w, outH, outW, padTop, padLeft]: widths with 0..3 outputs after the last group of
  // four, odd sizes (the last row/column unused), and geometries that must stay on the scalar
  // path (padding; windows running off the image).
  const geos: [number, number, number, number, number, number][] = [
    [26, 26, 13, 13, 0, 0], [8, 16, 4, 8, 0, 0], [5, 11, 2, 5, 0, 0], [4, 14, 2, 7, 0, 0], [3, 12, 1, 6, 0, 0],
    [6, 9, 3, 4, 0, 0], [7, 10, 4, 5, 1, 1], [6, 9, 3, 5, 0, 0],
  ];
  for (const [h, w, outH, outW, padTop, padLeft] of geos) {
    const p: Pool2dParams = { n: 2, c: 3, h, w, kh: 2, kw: 2, strideH: 2, strideW: 2, padTop, padLeft, outH, outW, countIncludePad: true };
    const x = tied(2 * 3 * h * w);
    const got = hostKernels(b).maxPool2d(x, p);
    const want = referenceKernels.maxPool2d(x, p);
    const label = `h ${h} w ${w} → ${outH}×${outW} pad ${padTop},${padLeft}`;
    assertSame(got.out, want.out, label);
    assert.deepEqual(Array.from(got.argmax), Array.from(want.argmax), `argmax ${label}`);
  }
});

test('wasm bias-style add/mul equals the reference bit for bit, both orders; thresholds on size and run length', () => {
  const rng = new Random(23);
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  // [full shape, broadcast shape, runs in wasm]: 4096 elements and runs of 16 are the smallest
  // sent to wasm; odd run lengths exercise the scalar tail; 2.1M elements split across threads.
  const cases: [number[], number[], boolean][] = [
    [[4, 16, 8, 8], [1, 16, 1, 1], true], // 4096 elements
    [[4, 16, 8, 8], [16, 1, 1], true],
    [[4, 15, 8, 8], [15, 1, 1], false], // 3840 elements
    [[3, 5, 13, 22], [5, 1, 1], true], // runs of 286 (tail of 2)
    [[20, 17, 16], [17, 1], true], // runs of 16
    [[20, 17, 15], [17, 1], false], // runs of 15
    [[256, 64], [64], false], // a Linear bias: runs of 1
    [[2, 32, 181, 181], [32, 1, 1], true],
  ];
  for (const threads of [1, 2]) {
    const b = wasmWithThreads(threads);
    for (const op of ['add', 'mul', 'sub'] as BinaryOp[]) {
      for (const [fs, ps, inWasm] of cases) {
        if (threads === 2 && size(fs) < 2e6) continue;
        const full = data(rng, size(fs));
        const part = data(rng, size(ps));
        for (const swap of [false, true]) {
          const [a, as, c, cs] = swap ? [part, ps, full, fs] : [full, fs, part, ps];
          const before = b.stats();
          const got = hostKernels(b).binary(op, a, as, c, cs, fs, 'float32');
          const after = b.stats();
          const label = `${op} ${JSON.stringify(as)}·${JSON.stringify(cs)} threads ${threads}`;
          assert.equal(after.jobs - before.jobs, inWasm && op !== 'sub' ? 1 : 0, `${label}: ran in wasm`);
          if (threads === 2) assert.equal(after.parallelJobs - before.parallelJobs, op !== 'sub' ? 1 : 0, `${label}: split`);
          assertSame(got, referenceKernels.binary(op, a, as, c, cs, fs, 'float32'), label);
        }
      }
    }
  }
});

test('wasm max pooling on 2 threads (large input) equals the reference, argmax included', () => {
  const rng = new Random(19);
  const b = wasmWithThreads(2);
  const p: Pool2dParams = { n: 16, c: 32, h: 64, w: 64, kh: 2, kw: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, outH: 32, outW: 32, countIncludePad: true };
  const x = data(rng, 16 * 32 * 64 * 64);
  const before = b.stats().parallelJobs;
  const got = hostKernels(b).maxPool2d(x, p);
  assert.equal(b.stats().parallelJobs, before + 1, 'split across threads');
  const want = referenceKernels.maxPool2d(x, p);
  assertSame(got.out, want.out, 'max pool out');
  assert.deepEqual(Array.from(got.argmax), Array.from(want.argmax));
});

test('wasm max-pool gradient equals the reference bit for bit on 1 and 2 threads, overlapping windows included', () => {
  const rng = new Random(31);
  // 2×2/2 (one dy per input position at most) and 3×3/1 padded (up to nine dy summed at one
  // position, in the reference's order); 4095 input elements stay in JS; 2.1M are split across
  // threads (as relu, from MIN_PARALLEL_FLOPS elements).
  const geos: [Pool2dParams, boolean][] = [
    [{ n: 16, c: 32, h: 64, w: 64, kh: 2, kw: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, outH: 32, outW: 32, countIncludePad: true }, true],
    [{ n: 8, c: 16, h: 26, w: 26, kh: 2, kw: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, outH: 13, outW: 13, countIncludePad: true }, true],
    [{ n: 4, c: 8, h: 21, w: 19, kh: 3, kw: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, outH: 21, outW: 19, countIncludePad: true }, true],
    [{ n: 1, c: 6, h: 27, w: 27, kh: 3, kw: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, outH: 27, outW: 27, countIncludePad: true }, true],
    [{ n: 1, c: 5, h: 21, w: 39, kh: 2, kw: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, outH: 10, outW: 19, countIncludePad: true }, false],
  ];
  for (const threads of [1, 2]) {
    const b = wasmWithThreads(threads);
    for (const [p, inWasm] of geos) {
      const label = `${threads} threads ${JSON.stringify(p)}`;
      const x = data(rng, p.n * p.c * p.h * p.w);
      // Rounded values, so that sums of several at one position round (order matters).
      const dy = randArray(rng, p.n * p.c * p.outH * p.outW).map((v) => v * 1000.123);
      const { argmax } = referenceKernels.maxPool2d(x, p);
      const before = b.stats();
      const got = hostKernels(b).maxPool2dBackward(dy, argmax, p);
      const after = b.stats();
      assert.equal(after.jobs - before.jobs, inWasm ? 1 : 0, `${label}: in wasm`);
      const split = threads === 2 && p.n * p.c * p.h * p.w >= 2e6;
      assert.equal(after.parallelJobs - before.parallelJobs, split ? 1 : 0, `${label}: split`);
      assertSame(got, referenceKernels.maxPool2dBackward(dy, argmax, p), label);
    }
  }
});
