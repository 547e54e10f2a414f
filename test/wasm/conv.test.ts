import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Random, referenceKernels, type Conv2dParams } from '../../src/index.js';
import { filterChunks } from '../../src/backends/wasm/conv.js';
import { absArray, assertKernelClose, disposeAll, randArray, wasmWithThreads } from './util.js';
import { hostKernels } from '../helpers-kernels.js';

after(disposeAll);

type Geo = Omit<Conv2dParams, 'outH' | 'outW'>;

function withOut(g: Geo): Conv2dParams | null {
  const outH = Math.floor((g.h + g.padTop + g.padBottom - g.dilationH * (g.kh - 1) - 1) / g.strideH) + 1;
  const outW = Math.floor((g.w + g.padLeft + g.padRight - g.dilationW * (g.kw - 1) - 1) / g.strideW) + 1;
  return outH > 0 && outW > 0 ? { ...g, outH, outW } : null;
}

/** Forward, input gradient and weight gradient of one geometry against the reference loops. */
function checkAll(threads: number, p: Conv2dParams, rng: Random, label: string): void {
  const k = hostKernels(wasmWithThreads(threads));
  const ref = referenceKernels;
  const cInG = p.cIn / p.groups;
  const x = randArray(rng, p.n * p.cIn * p.h * p.w);
  const w = randArray(rng, p.cOut * cInG * p.kh * p.kw);
  const dy = randArray(rng, p.n * p.cOut * p.outH * p.outW);
  const taps = cInG * p.kh * p.kw;
  assertKernelClose(k.conv2d(x, w, p), ref.conv2d(x, w, p), ref.conv2d(absArray(x), absArray(w), p), taps, `${label} forward`);
  assertKernelClose(
    k.conv2dBackwardInput(dy, w, p), ref.conv2dBackwardInput(dy, w, p), ref.conv2dBackwardInput(absArray(dy), absArray(w), p),
    (p.cOut / p.groups) * p.kh * p.kw, `${label} backward-input`,
  );
  assertKernelClose(
    k.conv2dBackwardFilter(x, dy, p), ref.conv2dBackwardFilter(x, dy, p), ref.conv2dBackwardFilter(absArray(x), absArray(dy), p),
    p.n * p.outH * p.outW, `${label} backward-filter`,
  );
}

function randomGeo(rng: Random): Conv2dParams {
  for (;;) {
    const groups = [1, 1, 2, 3][rng.int(0, 4)];
    const g: Geo = {
      n: rng.int(1, 4), cIn: groups * rng.int(1, 4), cOut: groups * rng.int(1, 4), h: rng.int(1, 12), w: rng.int(1, 12),
      kh: rng.int(1, 5), kw: rng.int(1, 5), strideH: rng.int(1, 4), strideW: rng.int(1, 4),
      padTop: rng.int(0, 3), padBottom: rng.int(0, 3), padLeft: rng.int(0, 3), padRight: rng.int(0, 3),
      dilationH: rng.int(1, 3), dilationW: rng.int(1, 3), groups,
    };
    const p = withOut(g);
    if (p) return p;
  }
}

const base: Geo = {
  n: 2, cIn: 3, cOut: 4, h: 7, w: 9, kh: 3, kw: 3, strideH: 1, strideW: 1,
  padTop: 0, padBottom: 0, padLeft: 0, padRight: 0, dilationH: 1, dilationW: 1, groups: 1,
};

for (const threads of [1, 2]) {
  const suffix = `(${threads} thread${threads > 1 ? 's' : ''})`;

  test(`conv2d: seeded random geometries (stride, asymmetric padding, dilation, groups) ${suffix}`, () => {
    const rng = new Random(500 + threads);
    for (let trial = 0; trial < 40; trial++) {
      const p = randomGeo(rng);
      checkAll(threads, p, rng, `trial ${trial} ${JSON.stringify(p)}`);
    }
  });

  test(`conv2d: named edge cases ${suffix}`, () => {
    const rng = new Random(600 + threads);
    const cases: [string, Partial<Geo>][] = [
      ['1x1 kernel', { kh: 1, kw: 1 }],
      ['kernel as large as the image', { h: 3, w: 3, kh: 3, kw: 3 }],
      ['padding larger than the kernel reach', { padTop: 2, padBottom: 2, padLeft: 2, padRight: 2, kh: 2, kw: 2 }],
      ['only left/top padding', { padTop: 2, padLeft: 1 }],
      ['only bottom/right padding', { padBottom: 2, padRight: 1 }],
      ['stride larger than the kernel', { strideH: 4, strideW: 3, kh: 2, kw: 2, h: 11, w: 10 }],
      ['dilation 3 with padding', { dilationH: 3, dilationW: 2, padTop: 3, padBottom: 1, padLeft: 2, padRight: 2 }],
      ['depthwise (groups = channels)', { cIn: 4, cOut: 8, groups: 4 }],
      ['one pixel image', { h: 1, w: 1, kh: 1, kw: 1, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1 }],
      ['single row (1×W) and wide kernel', { h: 1, w: 17, kh: 1, kw: 5 }],
    ];
    for (const [label, over] of cases) {
      const p = withOut({ ...base, ...over });
      assert.ok(p, `${label}: geometry must have an output`);
      checkAll(threads, p, rng, label);
    }
  });

  test(`conv2d: whole rows inside the image (im2col's whole-vector row copies) ${suffix}`, () => {
    // Valid padding and unit horizontal stride take im2col's fast path; widths that are not a
    // multiple of 4 make each row's last vector spill into the next row (or past the matrix),
    // vertical stride/dilation move the source rows, and top/bottom-only padding mixes zero rows
    // with copied ones. Big enough (> 2 MFLOP) that 2 threads split the images.
    const rng = new Random(800 + threads);
    const cases: [string, Partial<Geo>][] = [
      ['benchmark conv2 shape, 13×13 → 11×11', { n: 6, cIn: 16, cOut: 32, h: 13, w: 13 }],
      ['width 5 → 3 outputs per row', { n: 3, cIn: 2, cOut: 3, h: 6, w: 5 }],
      ['width 8 → 6, vertical stride 2 and dilation 2', { n: 4, cIn: 5, cOut: 7, h: 15, w: 8, strideH: 2, dilationH: 2 }],
      ['top and bottom padding only', { n: 3, cIn: 3, cOut: 4, h: 9, w: 10, padTop: 2, padBottom: 1 }],
      ['output width a multiple of 4', { n: 2, cIn: 3, cOut: 5, h: 7, w: 10 }],
    ];
    for (const [label, over] of cases) {
      const p = withOut({ ...base, ...over });
      assert.ok(p, `${label}: geometry must have an output`);
      checkAll(threads, p, rng, label);
    }
  });

  test(`conv2d: large enough to split images across threads ${suffix}`, () => {
    const rng = new Random(700 + threads);
    const b = wasmWithThreads(threads);
    const before = b.stats();
    const p = withOut({ ...base, n: 5, cIn: 8, cOut: 16, h: 16, w: 16, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1 })!;
    checkAll(threads, p, rng, 'cnn-sized');
    const after = b.stats();
    assert.equal(after.jobs - before.jobs, 3, 'forward, input and filter gradients all ran in wasm');
    assert.equal(after.parallelJobs - before.parallelJobs, threads > 1 ? 3 : 0);
  });
}

test('conv2d: float64 inputs take the reference path exactly', () => {
  const k = hostKernels(wasmWithThreads(1));
  const rng = new Random(9);
  const p = withOut(base)!;
  const x = Float64Array.from(randArray(rng, p.n * p.cIn * p.h * p.w));
  const w = Float64Array.from(randArray(rng, p.cOut * p.cIn * p.kh * p.kw));
  const got = k.conv2d(x, w, p);
  assert.ok(got instanceof Float64Array);
  assert.deepEqual(Array.from(got), Array.from(referenceKernels.conv2d(x, w, p)));
});

test('conv2d weight gradient: fixed chunks on 2 threads give the same bits every run (whoever takes which chunk)', () => {
  assert.equal(filterChunks(64, 1), 1, 'one thread: one partial');
  assert.equal(filterChunks(64, 2), 8, 'four chunks per thread');
  assert.equal(filterChunks(3, 2), 3, 'never more chunks than images');
  const rng = new Random(31);
  const b = wasmWithThreads(2);
  const p = withOut({ ...base, n: 9, cIn: 8, cOut: 16, h: 16, w: 15 })!; // > 2 MFLOP: threaded
  const x = randArray(rng, p.n * p.cIn * p.h * p.w);
  const dy = randArray(rng, p.n * p.cOut * p.outH * p.outW);
  const before = b.stats().parallelJobs;
  const first = hostKernels(b).conv2dBackwardFilter(x, dy, p);
  assert.equal(b.stats().parallelJobs, before + 1, 'split across threads');
  const ref = referenceKernels;
  assertKernelClose(first, ref.conv2dBackwardFilter(x, dy, p), ref.conv2dBackwardFilter(absArray(x), absArray(dy), p), p.n * p.outH * p.outW, 'chunked weight gradient');
  for (let run = 0; run < 5; run++) assert.deepEqual(Array.from(hostKernels(b).conv2dBackwardFilter(x, dy, p)), Array.from(first), `run ${run}`);
});
