import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertClose, assertGrad, assertThrowsMsg } from '../helpers.js';

const L = g.losses;
const f64 = (x: g.NestedArray) => g.tensor(x as number[], { dtype: 'float64' });
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

test('ntXent by hand: positives are i ↔ i+N, the anchor itself is excluded, cosine makes it scale-free', () => {
  // Rows a0=(1,0), a1=(0,1), b0=(1,0), b1=(1,0); τ = 1. Cosines: s01=0, s02=1, s03=1, s12=0, s13=0, s23=1.
  const z = f64([[1, 0], [0, 1], [1, 0], [1, 0]]);
  const e = Math.E;
  const l0 = -1 + Math.log(1 + 2 * e);
  const l1 = Math.log(3);
  const l2 = -1 + Math.log(1 + 2 * e);
  const l3 = Math.log(1 + 2 * e);
  assertClose(L.ntXent(z, { temperature: 1, reduction: 'none' }), [l0, l1, l2, l3], { atol: 1e-12 });
  assertClose(L.ntXent(z.mul(f64([[5], [0.5], [2], [3]])), { temperature: 1 }), [(l0 + l1 + l2 + l3) / 4], { atol: 1e-12 });
  const r = g.randn([6, 3], { dtype: 'float64', seed: 11 });
  assertClose(L.ntXent(r, { temperature: 0.2 }), [refNtXent(r.toArray() as number[][], 0.2)], { atol: 1e-10 });
});

test('ntXent gradients match finite differences; bad shapes are errors', () => {
  const r = g.randn([6, 3], { dtype: 'float64', seed: 12 });
  assertGrad((a) => L.ntXent(a, { temperature: 0.5 }), [r]);
  assertThrowsMsg(() => L.ntXent(g.randn([3, 2])), /ntXent/, /\[2N, D\]/, /got \[3, 2\]/);
  assertThrowsMsg(() => L.ntXent(r, { temperature: 0 }), /temperature must be a finite number > 0, got 0/);
});

// 1-D points (second coordinate 0) with exact binary distances: x = [0, 0.5, 3, 1, 2.5], labels A A A B B.
const points = () => f64([[0, 0], [0.5, 0], [3, 0], [1, 0], [2.5, 0]]);
const lab = () => labels([0, 0, 0, 1, 1]);

test('batch-hard mining: hardest positive and hardest negative per anchor; loss by hand', () => {
  const d = L.pairwiseDistances(points());
  const m = L.mineTriplets(d.dataSync(), lab().dataSync() as Int32Array, 'batchHard', 1);
  assert.deepEqual([...m.anchors], [0, 1, 2, 3, 4]);
  assert.deepEqual([...m.positives], [2, 2, 0, 4, 3]);
  assert.deepEqual([...m.negatives], [3, 3, 4, 1, 2]);
  // d_ap − d_an + 1: (3 − 1), (2.5 − 0.5), (3 − 0.5), (1.5 − 0.5), (1.5 − 0.5), each + 1.
  assertClose(L.tripletLoss(points(), lab(), { reduction: 'none' }), [3, 3, 3.5, 2, 2], { atol: 1e-12 });
  assertClose(L.tripletLoss(points(), lab()), [13.5 / 5], { atol: 1e-12 });
});

test('semi-hard mining: farther than the positive but within the margin, else the hardest negative', () => {
  const d = L.pairwiseDistances(points());
  const m = L.mineTriplets(d.dataSync(), lab().dataSync() as Int32Array, 'semiHard', 1);
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
  assertClose(L.tripletLoss(points(), lab(), { mining: 'semiHard' }), [15 / 8], { atol: 1e-12 });
  // 'all': 3 anchors of A × 2 positives × 2 negatives + 2 anchors of B × 1 × 3 = 18 triplets.
  assert.equal(L.tripletLoss(points(), lab(), { mining: 'all', reduction: 'none' }).size, 18);
});

test('triplet losses: gradients, explicit triplets, no valid triplet, errors', () => {
  const e = g.randn([6, 3], { dtype: 'float64', seed: 13 });
  const y = labels([0, 1, 0, 1, 2, 2]);
  for (const mining of ['batchHard', 'semiHard', 'all'] as const) {
    assertGrad((a) => L.tripletLoss(a, y, { mining, margin: 0.5 }), [e]);
  }
  assertGrad((a) => L.tripletLoss(a, y, { squared: true }), [e]);
  const [a, p, n] = [g.randn([4, 3], { dtype: 'float64', seed: 14 }), g.randn([4, 3], { dtype: 'float64', seed: 15 }), g.randn([4, 3], { dtype: 'float64', seed: 16 })];
  assertGrad((x, y2, z) => L.tripletMarginLoss(x, y2, z, { margin: 2, swap: true }), [a, p, n]);
  assertGrad((x, y2, z) => L.tripletMarginLoss(x, y2, z, { p: 1 }), [a, p, n]);
  // Explicit triplets by hand: d(a, p) = 1, d(a, n) = 3 (eps 0 here) → max(1 − 3 + 1, 0) = 0; margin 3 → 1.
  const A = f64([[0, 0]]);
  const P = f64([[1, 0]]);
  const N = f64([[0, 3]]);
  assertClose(L.tripletMarginLoss(A, P, N, { eps: 0 }), [0]);
  assertClose(L.tripletMarginLoss(A, P, N, { eps: 0, margin: 3 }), [1], { atol: 1e-12 });
  // One class only: no negatives, a zero loss that still back-propagates.
  const lone = g.randn([3, 2], { requiresGrad: true, seed: 17 });
  const z = L.tripletLoss(lone, labels([1, 1, 1]));
  assertClose(z, [0]);
  z.backward();
  assertClose(lone.grad!, [0, 0, 0, 0, 0, 0]);
  assertThrowsMsg(() => L.tripletLoss(e, labels([0, 1])), /labels must be int32 \[6\]/);
  assertThrowsMsg(() => L.tripletLoss(e, y, { mining: 'hard' as any }), /mining must be/);
  assertThrowsMsg(() => L.tripletMarginLoss(a, p, n.slice([0], [2])), /share one shape/);
});
