import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kMeans, nmi, recallAtK } from '../../src/metrics/index.js';
import * as g from '../../src/index.js';
import { assertThrowsMsg } from '../helpers.js';

test('recallAtK: hand-made 1-D embeddings', () => {
  // Points on a line; labels chosen so that some nearest neighbours disagree.
  const emb = [[0], [1], [3], [10], [11]];
  const labels = [0, 1, 0, 1, 1];
  // Neighbours by distance: 0 → 1(l1), 2(l0) | 1 → 0(l0), 2(l0), … 3,4 (l1) | 2 → 1(l1), 0(l0) |
  // 3 → 4(l1) | 4 → 3(l1). Recall@1: only 3 and 4 → 2/5. Recall@2: 0, 2, 3, 4 → 4/5 (1's two
  // nearest are 0 and 2, both label 0). Recall@3: 1's third nearest is 3 (distance 9, label 1) → all.
  const r = recallAtK(emb, labels, [1, 2, 3, 4]);
  assert.equal(r[1], 2 / 5);
  assert.equal(r[2], 4 / 5);
  assert.equal(r[3], 1);
  assert.equal(r[4], 1);
  assertThrowsMsg(() => recallAtK(emb, labels, [5]), /k must be an integer in 1\.\.4/);
});

test('recallAtK: cosine ranks by angle, not length', () => {
  const emb = [[1, 0], [100, 1], [0, 1], [1, 100]];
  const labels = [0, 0, 1, 1];
  assert.equal(recallAtK(emb, labels, [1], { metric: 'cosine' })[1], 1);
  // Euclidean: [1,0]'s nearest is [0,1] (different label).
  assert.ok(recallAtK(emb, labels, [1])[1] < 1);
});

test('nmi: identical up to renaming = 1, independent = 0, hand-computed case', () => {
  assert.equal(nmi([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 4, 4]), 1);
  assert.ok(Math.abs(nmi([0, 0, 1, 1], [0, 1, 0, 1])) < 1e-12);
  // u = [0,0,1,1], v = [0,0,0,1]: H(u) = ln2, H(v) = −(¾ln¾ + ¼ln¼), I = Σ p(x,y) ln p(x,y)/(p(x)p(y)).
  const hu = Math.log(2);
  const hv = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
  const mi = 0.5 * Math.log(0.5 / (0.5 * 0.75)) + 0.25 * Math.log(0.25 / (0.5 * 0.75)) + 0.25 * Math.log(0.25 / (0.5 * 0.25));
  assert.ok(Math.abs(nmi([0, 0, 1, 1], [0, 0, 0, 1]) - mi / ((hu + hv) / 2)) < 1e-12);
  assertThrowsMsg(() => nmi([0, 1], [0]), /nmi/, /1 entries, expected 2/);
});

test('kMeans: recovers well-separated blobs (NMI 1), seeded and deterministic', () => {
  const { x, y } = g.data.makeBlobs({ samplesPerClass: 30, centers: [[0, 0], [10, 0], [0, 10]], std: 0.5, seed: 3 });
  const a = kMeans(x, 3, { seed: 1 });
  const b = kMeans(x, 3, { seed: 1 });
  assert.deepEqual(a.labels, b.labels);
  assert.equal(nmi(a.labels, y), 1);
  // Centroids are the means of their clusters, and inertia is the sum of squared distances.
  const pts = x.toArray() as number[][];
  let inertia = 0;
  for (let c = 0; c < 3; c++) {
    const members = pts.filter((_, i) => a.labels[i] === c);
    const mean = [0, 1].map((d) => members.reduce((s, p) => s + p[d], 0) / members.length);
    mean.forEach((v, d) => assert.ok(Math.abs(v - a.centroids[c][d]) < 1e-6, `centroid ${c}`));
    for (const p of members) inertia += (p[0] - mean[0]) ** 2 + (p[1] - mean[1]) ** 2;
  }
  assert.ok(Math.abs(inertia - a.inertia) < 1e-6 * inertia);
  assertThrowsMsg(() => kMeans(x, 0), /kMeans/, /k must be an integer in 1\.\.90/);
});

test('kMeans: hand case with two obvious groups', () => {
  const r = kMeans([[0], [1], [2], [10], [11], [12]], 2, { seed: 7 });
  const c = r.centroids.map((v) => v[0]).sort((p, q) => p - q);
  assert.deepEqual(c, [1, 11]);
  assert.equal(r.inertia, 4);
});
