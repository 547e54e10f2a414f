import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Random } from '../../src/index.js';
import { batchNormBackward as refBackward, batchNormForwardTrain as refForward } from '../../src/backends/reference/fused.js';
import { disposeAll, randArray, wasmWithThreads } from './util.js';
import { hostKernels } from '../helpers-kernels.js';

after(disposeAll);

function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, msg: string): void {
  assert.equal(actual.length, expected.length, `${msg}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= rtol * (Math.abs(expected[i]) + scale * 1e-3) + 1e-7)) assert.fail(`${msg}: element ${i} is ${actual[i]}, reference ${expected[i]} (|diff| ${d})`);
  }
}

/** [N, C, H, W] or [N, C]: odd plane sizes (scalar tails), BatchNorm1d's S = 1, and a large mean. */
const shapes = [[8, 16, 13, 13], [32, 3, 9, 7], [300, 20], [4, 5, 33, 31]];

test('wasm BatchNorm forward (training) and backward match the reference, with 1 and 2 threads, and do not depend on the thread count', () => {
  const rng = new Random(21);
  for (const shape of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const c = shape[1];
    // Offset channels (mean ≫ std for some) to exercise the shifted one-pass variance.
    const x = randArray(rng, n).map((v, i) => v + (Math.floor(i / (n / shape[0] / c)) % c) * 50);
    const dy = randArray(rng, n);
    const gamma = randArray(rng, c), beta = randArray(rng, c);
    const runs: Record<number, { out: Float32Array; dx: Float32Array }> = {};
    for (const threads of [1, 2]) {
      const k = hostKernels(wasmWithThreads(threads));
      for (const affine of [true, false]) {
        const label = `[${shape.join(',')}] ${affine ? 'γ/β' : 'no affine'}, ${threads} thread(s)`;
        const g = affine ? gamma : null, b = affine ? beta : null;
        const before = wasmWithThreads(threads).stats().jobs;
        const got = k.batchNormForwardTrain(x, shape, g, b, 1e-5);
        const ref = refForward(x, shape, g, b, 1e-5);
        assert.equal(wasmWithThreads(threads).stats().jobs - before, 2, `${label}: statistics and affine map ran in wasm`);
        assertNear(got.mean, ref.mean, 1e-6, `${label}: mean`);
        assertNear(got.variance, ref.variance, 1e-5, `${label}: variance`);
        assertNear(got.invstd, ref.invstd, 1e-5, `${label}: invstd`);
        assertNear(got.out, ref.out, 1e-4, `${label}: out`);
        for (const batchStats of [true, false]) {
          const gb = k.batchNormBackward(x, dy, shape, ref.mean, ref.invstd, g, batchStats);
          const gr = refBackward(x, dy, shape, ref.mean, ref.invstd, g, batchStats);
          const l2 = `${label}, batchStats ${batchStats}`;
          assertNear(gb.dx, gr.dx, 1e-4, `${l2}: dx`);
          assertNear(gb.dgamma, gr.dgamma, 1e-5, `${l2}: dgamma`);
          assertNear(gb.dbeta, gr.dbeta, 1e-5, `${l2}: dbeta`);
          if (affine && batchStats) {
            const prev = runs[shape.length * 1000 + n];
            const mine = { out: got.out as Float32Array, dx: gb.dx as Float32Array };
            if (prev) {
              assert.deepEqual(mine.out, prev.out, `[${shape.join(',')}]: out with 2 threads equals 1 thread`);
              assert.deepEqual(mine.dx, prev.dx, `[${shape.join(',')}]: dx with 2 threads equals 1 thread`);
            } else runs[shape.length * 1000 + n] = mine;
          }
        }
      }
    }
  }
});

test('wasm BatchNorm: a constant channel has variance 0 (not a rounding negative) and finite outputs', () => {
  const k = hostKernels(wasmWithThreads(2));
  const shape = [16, 2, 16, 16];
  const x = new Float32Array(16 * 2 * 256).map((_, i) => (Math.floor(i / 256) % 2 === 0 ? 3.7 : (i % 7) * 0.1));
  const r = k.batchNormForwardTrain(x, shape, null, null, 1e-5);
  assert.equal(r.variance[0], 0);
  assert.ok(Array.from(r.out).every(Number.isFinite));
});
