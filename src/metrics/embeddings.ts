/**
 * Metrics for embeddings (the metric-learning tables): recall@k of nearest-neighbour retrieval,
 * k-means clustering and the NMI of a clustering against the labels.
 */
import { GradkitError } from '../core/errors.js';
import { Random } from '../core/rng.js';
import { asLabels, asRows, type Labels, type Matrix } from './util.js';

/** Squared Euclidean distance between row i of a and row j of b (both with d columns). */
function dist2(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const v = a[i * d + t] - b[j * d + t];
    s += v * v;
  }
  return s;
}

/** Sets labels[i] to the nearest centroid (first on ties) and returns the squared distance to it. */
function assignNearest(data: ArrayLike<number>, i: number, cent: ArrayLike<number>, k: number, d: number, labels: number[]): number {
  let best = 0;
  let bd = Infinity;
  for (let c = 0; c < k; c++) {
    const v = dist2(data, i, cent, c, d);
    if (v < bd) {
      bd = v;
      best = c;
    }
  }
  labels[i] = best;
  return bd;
}

/**
 * Recall@k: for each sample as a query, is there a sample of the same label among its k nearest
 * neighbours (the query itself excluded)? Returns the fraction per k. `metric: 'cosine'` ranks
 * by cosine similarity (rows are L2-normalised first). O(N²·D): meant for evaluation sets.
 */
export function recallAtK(embeddings: Matrix, labels: Labels, ks: readonly number[] = [1, 2, 4, 8], opts: { metric?: 'euclidean' | 'cosine' } = {}): Record<number, number> {
  const op = 'metrics.recallAtK';
  const { data: raw, n, c: d } = asRows(op, 'embeddings', embeddings);
  if (n < 2) throw new GradkitError(op, `need at least 2 embeddings, got ${n}`);
  const y = asLabels(op, 'labels', labels, n);
  for (const k of ks) if (!(Number.isInteger(k) && k >= 1 && k < n)) throw new GradkitError(op, `k must be an integer in 1..${n - 1} (samples − 1), got ${k}`);
  let data: ArrayLike<number> = raw;
  if (opts.metric === 'cosine') {
    const z = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += raw[i * d + t] ** 2;
      const norm = Math.sqrt(s) || 1;
      for (let t = 0; t < d; t++) z[i * d + t] = raw[i * d + t] / norm;
    }
    // On unit vectors, Euclidean order = cosine order.
    data = z;
  }
  const kMax = Math.max(...ks);
  const hits: Record<number, number> = {};
  for (const k of ks) hits[k] = 0;
  const order = new Array<number>(n - 1);
  const dd = new Float64Array(n);
  for (let q = 0; q < n; q++) {
    let m = 0;
    for (let j = 0; j < n; j++) {
      if (j === q) continue;
      dd[j] = dist2(data, q, data, j, d);
      order[m++] = j;
    }
    // Ties broken by index so the result does not depend on the sort's stability.
    order.sort((a, b) => dd[a] - dd[b] || a - b);
    let first = Infinity;
    for (let r = 0; r < kMax; r++) {
      if (y[order[r]] === y[q]) {
        first = r;
        break;
      }
    }
    for (const k of ks) if (first < k) hits[k]++;
  }
  const out: Record<number, number> = {};
  for (const k of ks) out[k] = hits[k] / n;
  return out;
}

/** The k-means clustering: each sample's cluster, the centroids, the inertia and iterations run. */
export interface KMeansResult {
  /** Cluster of each sample. */
  labels: number[];
  /** k rows of d values. */
  centroids: number[][];
  /** Sum of squared distances to the assigned centroid. */
  inertia: number;
  iterations: number;
}

/**
 * Lloyd's k-means with k-means++ seeding (Arthur & Vassilvitskii 2007), seeded: the same seed
 * gives the same clustering. An emptied cluster is re-seeded at the point farthest from its centroid.
 */
export function kMeans(points: Matrix, k: number, opts: { seed?: number; maxIter?: number; tol?: number } = {}): KMeansResult {
  const op = 'metrics.kMeans';
  const { data, n, c: d } = asRows(op, 'points', points);
  if (!(Number.isInteger(k) && k >= 1 && k <= n)) throw new GradkitError(op, `k must be an integer in 1..${n} (points), got ${k}`);
  const maxIter = opts.maxIter ?? 100;
  const tol = opts.tol ?? 1e-8;
  const rng = new Random(opts.seed ?? 0);
  const cent = new Float64Array(k * d);
  // k-means++: first centre uniform, then each next one with probability ∝ squared distance to the nearest chosen.
  const first = rng.int(0, n);
  for (let t = 0; t < d; t++) cent[t] = data[first * d + t];
  const near = new Float64Array(n).fill(Infinity);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      near[i] = Math.min(near[i], dist2(data, i, cent, c - 1, d));
      total += near[i];
    }
    let pick = n - 1;
    if (total > 0) {
      let r = rng.uniform(0, total);
      for (let i = 0; i < n; i++) {
        r -= near[i];
        if (r < 0) {
          pick = i;
          break;
        }
      }
    } else {
      pick = rng.int(0, n); // all points coincide with chosen centres
    }
    for (let t = 0; t < d; t++) cent[c * d + t] = data[pick * d + t];
  }
  const labels = new Array<number>(n).fill(0);
  let inertia = Infinity;
  let iterations = 0;
  for (; iterations < maxIter; ) {
    iterations++;
    let newInertia = 0;
    const dmin = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const bd = assignNearest(data, i, cent, k, d, labels);
      dmin[i] = bd;
      newInertia += bd;
    }
    const sums = new Float64Array(k * d);
    const counts = new Array<number>(k).fill(0);
    for (let i = 0; i < n; i++) {
      counts[labels[i]]++;
      for (let t = 0; t < d; t++) sums[labels[i] * d + t] += data[i * d + t];
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        let far = 0;
        for (let i = 1; i < n; i++) if (dmin[i] > dmin[far]) far = i;
        for (let t = 0; t < d; t++) cent[c * d + t] = data[far * d + t];
        dmin[far] = 0;
      } else {
        for (let t = 0; t < d; t++) cent[c * d + t] = sums[c * d + t] / counts[c];
      }
    }
    const done = inertia - newInertia <= tol * Math.max(1, newInertia);
    inertia = newInertia;
    if (done) break;
  }
  // Final assignment against the final centroids, so labels and centroids agree.
  inertia = 0;
  for (let i = 0; i < n; i++) inertia += assignNearest(data, i, cent, k, d, labels);
  const centroids = Array.from({ length: k }, (_, c) => Array.from(cent.subarray(c * d, (c + 1) * d)));
  return { labels, centroids, inertia, iterations };
}

/**
 * Normalized mutual information between two labelings: I(U; V) / ((H(U) + H(V)) / 2) (the
 * arithmetic normalisation, scikit-learn's default). 1 for identical partitions up to renaming,
 * ~0 for independent ones; defined as 1 when both labelings have a single cluster.
 */
export function nmi(a: Labels, b: Labels): number {
  const op = 'metrics.nmi';
  const u = asLabels(op, 'first labeling', a);
  const v = asLabels(op, 'second labeling', b, u.length);
  const n = u.length;
  if (n === 0) throw new GradkitError(op, 'no samples');
  const joint = new Map<string, number>();
  const cu = new Map<number, number>();
  const cv = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${u[i]},${v[i]}`;
    joint.set(key, (joint.get(key) ?? 0) + 1);
    cu.set(u[i], (cu.get(u[i]) ?? 0) + 1);
    cv.set(v[i], (cv.get(v[i]) ?? 0) + 1);
  }
  const h = (m: Map<number, number>): number => {
    let s = 0;
    for (const c of m.values()) s -= (c / n) * Math.log(c / n);
    return s;
  };
  let mi = 0;
  for (const [key, c] of joint) {
    const [x, y] = key.split(',').map(Number);
    mi += (c / n) * Math.log((c * n) / (cu.get(x)! * cv.get(y)!));
  }
  const hu = h(cu);
  const hv = h(cv);
  if (hu === 0 && hv === 0) return 1;
  return Math.max(0, mi / ((hu + hv) / 2));
}
