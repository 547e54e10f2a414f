import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertThrowsMsg, expectClose, expectGrad, FLOAT } from '../helpers.js';

const L = g.losses;
const f64 = (x: g.NestedArray) => g.tensor(x as number[], { dtype: FLOAT });

/**
 * tripletLoss mines on the host: it reads synchronously on a CPU backend, and tripletLossAsync
 * (same mining, same loss) runs it on any backend. `triplet` picks the one this backend can run;
 * on CPU backends the tests also check that both give the same losses.
 */
const SYNC_READS = g.getBackend().syncReads !== false;
async function triplet(e: g.Tensor, y: g.Tensor, opts: g.losses.TripletLossOptions = {}): Promise<g.Tensor> {
  const viaAsync = await L.tripletLossAsync(e, y, opts);
  if (!SYNC_READS) return viaAsync;
  const viaSync = L.tripletLoss(e, y, opts);
  assert.deepEqual(Array.from(await viaAsync.data()), Array.from(await viaSync.data()), 'tripletLossAsync == tripletLoss');
  return viaSync;
}
const labels = (x: number[]) => g.tensor(x, { dtype: 'int32' });

/** Slow, obvious NT-Xent on plain arrays: the test's oracle. */
function refNtXent(z: number[][], tau: number): number {
  const m = z.length;
  const unit = z.map((r) => {
    const n = Math.hypot(...r);
    return r.map((v) => v / n);
  });
  const sim = (i: number, j: number) => unit[i].reduce((s, v, k) => s + v * unit[j][k], 0) / tau;
  let total = 0;
  for (let i = 0; i < m; i++) {
    let denom = 0;
    for (let k = 0; k < m; k++) if (k !== i) denom += Math.exp(sim(i, k));
    total += -sim(i, (i + m / 2) % m) + Math.log(denom);
  }
  return total / m;
}

test('ntXent by hand: positives are i ↔ i+N, the anchor itself is excluded, cosine makes it scale-free', async () => {
  // Rows a0=(1,0), a1=(0,1), b0=(1,0), b1=(1,0); τ = 1. Cosines: s01=0, s02=1, s03=1, s12=0, s13=0, s23=1.
  const z = f64([[1, 0], [0, 1], [1, 0], [1, 0]]);
  const e = Math.E;
  const l0 = -1 + Math.log(1 + 2 * e);
  const l1 = Math.log(3);
  const l2 = -1 + Math.log(1 + 2 * e);
  const l3 = Math.log(1 + 2 * e);
  await expectClose(L.ntXent(z, { temperature: 1, reduction: 'none' }), [l0, l1, l2, l3], { atol: 1e-12 });
  await expectClose(L.ntXent(z.mul(f64([[5], [0.5], [2], [3]])), { temperature: 1 }), [(l0 + l1 + l2 + l3) / 4], { atol: 1e-12 });
  const r = g.randn([6, 3], { dtype: FLOAT, seed: 11 });
  await expectClose(L.ntXent(r, { temperature: 0.2 }), [refNtXent((await r.array()) as number[][], 0.2)], { atol: 1e-10 });
});

test('ntXent gradients match finite differences; bad shapes are errors', async () => {
  const r = g.randn([6, 3], { dtype: FLOAT, seed: 12 });
  await expectGrad((a) => L.ntXent(a, { temperature: 0.5 }), [r]);
  assertThrowsMsg(() => L.ntXent(g.randn([3, 2])), /ntXent/, /\[2N, D\]/, /got \[3, 2\]/);
  assertThrowsMsg(() => L.ntXent(r, { temperature: 0 }), /temperature must be a finite number > 0, got 0/);
});

// 1-D points (second coordinate 0) with exact binary distances: x = [0, 0.5, 3, 1, 2.5], labels A A A B B.
const points = () => f64([[0, 0], [0.5, 0], [3, 0], [1, 0], [2.5, 0]]);
const lab = () => labels([0, 0, 0, 1, 1]);

test('batch-hard mining: hardest positive and hardest negative per anchor; loss by hand', async () => {
  const d = L.pairwiseDistances(points());
  const m = L.mineTriplets(await d.data(), (await lab().data()) as Int32Array, 'batchHard', 1);
  assert.deepEqual([...m.anchors], [0, 1, 2, 3, 4]);
  assert.deepEqual([...m.positives], [2, 2, 0, 4, 3]);
  assert.deepEqual([...m.negatives], [3, 3, 4, 1, 2]);
  // d_ap − d_an + 1: (3 − 1), (2.5 − 0.5), (3 − 0.5), (1.5 − 0.5), (1.5 − 0.5), each + 1.
  await expectClose(await triplet(points(), lab(), { reduction: 'none' }), [3, 3, 3.5, 2, 2], { atol: 1e-12 });
  await expectClose(await triplet(points(), lab()), [13.5 / 5], { atol: 1e-12 });
});

test('semi-hard mining: farther than the positive but within the margin, else the hardest negative', async () => {
  const d = L.pairwiseDistances(points());
  const m = L.mineTriplets(await d.data(), (await lab().data()) as Int32Array, 'semiHard', 1);
  const triplets = [...m.anchors].map((a, t) => [a, m.positives[t], m.negatives[t]]);
  assert.deepEqual(triplets, [
    [0, 1, 3], // d_ap 0.5: negative 3 at 1 is in (0.5, 1.5)
    [0, 2, 3], // d_ap 3: nothing in (3, 4) → hardest negative 3
    [1, 0, 3], // d_ap 0.5: 3 is at exactly 0.5, not farther → hardest
    [1, 2, 3],
    [2, 0, 4],
    [2, 1, 4],
    [3, 4, 2], // d_ap 1.5: 2 at distance 2 is in (1.5, 2.5)
    [4, 3, 1], // d_ap 1.5: 1 at 2 qualifies, 0 at exactly 2.5 does not
  ]);
  await expectClose(await triplet(points(), lab(), { mining: 'semiHard' }), [15 / 8], { atol: 1e-12 });
  // 'all': 3 anchors of A × 2 positives × 2 negatives + 2 anchors of B × 1 × 3 = 18 triplets.
  assert.equal((await triplet(points(), lab(), { mining: 'all', reduction: 'none' })).size, 18);
});

test('triplet losses: gradients, explicit triplets, no valid triplet, errors', async () => {
  const e = g.randn([6, 3], { dtype: FLOAT, seed: 13 });
  const y = labels([0, 1, 0, 1, 2, 2]);
  if (SYNC_READS) {
    // The labels are passed as an (int, unchecked) input so that f builds everything from its inputs.
    for (const mining of ['batchHard', 'semiHard', 'all'] as const) {
      await expectGrad((a, yy) => L.tripletLoss(a, yy, { mining, margin: 0.5 }), [e, y]);
    }
    await expectGrad((a, yy) => L.tripletLoss(a, yy, { squared: true }), [e, y]);
  } else {
    // The gradient check's function must be synchronous: on webgpu the mined triplets' loss is
    // differentiated there and compared with the reference backend's from the same inputs.
    for (const mining of ['batchHard', 'semiHard', 'all'] as const) await expectTripletGrad(e, y, { mining, margin: 0.5 });
    await expectTripletGrad(e, y, { squared: true });
    assertThrowsMsg(() => L.tripletLoss(e, y), /use await losses\.tripletLossAsync/);
  }
  const [a, p, n] = [g.randn([4, 3], { dtype: FLOAT, seed: 14 }), g.randn([4, 3], { dtype: FLOAT, seed: 15 }), g.randn([4, 3], { dtype: FLOAT, seed: 16 })];
  await expectGrad((x, y2, z) => L.tripletMarginLoss(x, y2, z, { margin: 2, swap: true }), [a, p, n]);
  await expectGrad((x, y2, z) => L.tripletMarginLoss(x, y2, z, { p: 1 }), [a, p, n]);
  // Explicit triplets by hand: d(a, p) = 1, d(a, n) = 3 (eps 0 here) → max(1 − 3 + 1, 0) = 0; margin 3 → 1.
  const A = f64([[0, 0]]);
  const P = f64([[1, 0]]);
  const N = f64([[0, 3]]);
  await expectClose(L.tripletMarginLoss(A, P, N, { eps: 0 }), [0]);
  await expectClose(L.tripletMarginLoss(A, P, N, { eps: 0, margin: 3 }), [1], { atol: 1e-12 });
  // One class only: no negatives, a zero loss that still back-propagates.
  const lone = g.randn([3, 2], { requiresGrad: true, seed: 17 });
  const z = await triplet(lone, labels([1, 1, 1]));
  await expectClose(z, [0]);
  z.backward();
  await expectClose(lone.grad!, [0, 0, 0, 0, 0, 0]);
  // The argument checks come before the mining: on every backend.
  assertThrowsMsg(() => L.tripletLoss(e, labels([0, 1])), /labels must be int32 \[6\]/);
  assertThrowsMsg(() => L.tripletLoss(e, y, { mining: 'hard' as any }), /mining must be/);
  assertThrowsMsg(() => L.tripletMarginLoss(a, p, n.slice([0], [2])), /share one shape/);
});

/**
 * tripletLossAsync's gradients on this (GPU) backend against the reference backend's tripletLoss
 * from the same float32 embeddings: same mining, same distances, so the same gradients to float32.
 */
async function expectTripletGrad(e: g.Tensor, y: g.Tensor, opts: g.losses.TripletLossOptions): Promise<void> {
  const x = g.Tensor.fromArray(await e.data(), e.shape, { requiresGrad: true });
  (await L.tripletLossAsync(x, y, opts)).backward();
  const [ev, yv] = [await e.data(), await y.data()];
  const expected = g.withBackend('reference', () => {
    const xr = g.Tensor.fromArray(ev, e.shape, { requiresGrad: true });
    L.tripletLoss(xr, g.Tensor.fromArray(yv, y.shape), opts).backward();
    return Array.from(xr.grad!.dataSync());
  });
  await expectClose(x.grad!, expected, { msg: `tripletLossAsync gradient (${JSON.stringify(opts)}) vs reference:` });
}
