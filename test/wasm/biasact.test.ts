import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Random } from '../../src/index.js';
import { biasAct as refBiasAct, biasActBackward as refBiasActBackward } from '../../src/backends/reference/fused.js';
import { assertKernelClose, disposeAll, randArray, wasmWithThreads } from './util.js';
import { hostKernels } from '../helpers-kernels.js';

after(disposeAll);

/** [shape, axis]: conv channel bias (long and short runs), Linear rows (inner 1, odd widths), a leading axis. */
const cases: [number[], number][] = [
  [[64, 16, 26, 26], 1],
  [[128, 256], 1],
  [[67, 70], 1],
  [[3, 5, 40, 41], 1],
  [[200, 30], 0],
  [[40, 12, 3, 3], 1],
  [[700, 3, 2], 1],
];

function assertSame(actual: ArrayLike<number>, expected: ArrayLike<number>, msg: string): void {
  assert.equal(actual.length, expected.length, `${msg}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${msg}: element ${i} is ${actual[i]}, reference ${expected[i]}`);
  }
}

test('wasm biasAct / biasActBackward equal the reference (1 and 2 threads; NaN, ±∞; dbias independent of threads)', () => {
  const rng = new Random(11);
  for (const [shape, axis] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = randArray(rng, n);
    x[5] = NaN;
    x[17] = -Infinity;
    x[n - 1] = Infinity;
    const bias = randArray(rng, shape[axis]);
    const dy = randArray(rng, n);
    dy[3] = Infinity; // where x + b ≤ 0 the mask multiply gives NaN, in the reference too
    const dbiasByThreads: Float32Array[] = [];
    for (const threads of [1, 2]) {
      const k = hostKernels(wasmWithThreads(threads));
      for (const act of ['relu', 'none'] as const) {
        const label = `[${shape.join(',')}] axis ${axis} ${act}, ${threads} thread(s)`;
        const before = wasmWithThreads(threads).stats().jobs;
        const y = k.biasAct(x, shape, bias, axis, act);
        assertSame(y, refBiasAct(x, shape, bias, axis, act), `${label}: y`);
        const got = k.biasActBackward(y, dy, shape, axis, act);
        assert.equal(wasmWithThreads(threads).stats().jobs - before, 2, `${label}: both ran in wasm`);
        const ref = refBiasActBackward(y, dy, shape, axis, act);
        assertSame(got.dx, ref.dx, `${label}: dx`);
        // dbias is a sum over N·H·W terms: compare within the float32 summation bound (finite parts).
        const finite = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isFinite(v) ? v : 0));
        const absDx = refBiasActBackward(y, new Float32Array(finite(ref.dx).map(Math.abs)), shape, axis, 'none').dbias;
        const terms = n / shape[axis];
        const okIdx = Array.from(ref.dbias, (v) => Number.isFinite(v));
        assertKernelClose(
          Array.from(got.dbias).filter((_, i) => okIdx[i]), Array.from(ref.dbias).filter((_, i) => okIdx[i]),
          Array.from(absDx).filter((_, i) => okIdx[i]), terms, `${label}: dbias`,
        );
        for (let j = 0; j < ref.dbias.length; j++) if (!okIdx[j]) assert.ok(Number.isNaN(got.dbias[j]) || !Number.isFinite(got.dbias[j]), `${label}: dbias[${j}] non-finite like the reference`);
        if (act === 'relu') dbiasByThreads.push(got.dbias as Float32Array);
      }
    }
    assertSame(dbiasByThreads[1], dbiasByThreads[0], `[${shape.join(',')}]: dbias with 2 threads equals 1 thread`);
  }
});

test('wasm same-shape add/sub/mul/div equal the reference bit for bit (1 and 2 threads; NaN, ±∞, division by 0)', async () => {
  const { binary: refBinary } = await import('../../src/backends/reference/elementwise.js');
  const { FULL_MIN } = await import('../../src/backends/wasm/wasmelementwise.js');
  const rng = new Random(5);
  const n = FULL_MIN + 7;
  const a = randArray(rng, n), b = randArray(rng, n);
  a[1] = NaN; b[2] = Infinity; a[3] = -Infinity; b[4] = 0; a[5] = 0; b[5] = 0; b[6] = -0; a[9] = 3e38; b[9] = 3e38;
  const shape = [n];
  for (const threads of [1, 2]) {
    const backend = wasmWithThreads(threads);
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      const before = backend.stats().jobs;
      const got = hostKernels(backend).binary(op, a, shape, b, shape, shape, 'float32');
      assert.equal(backend.stats().jobs - before, 1, `${op}: ran in wasm`);
      assertSame(got, refBinary(op, a, shape, b, shape, shape, 'float32'), `${op}, ${threads} thread(s)`);
    }
  }
});
