/**
 * Eigendecomposition of a real symmetric matrix by cyclic Jacobi rotations, in float64.
 *
 * Why Jacobi: it needs no library, is short enough to check by eye, and is very accurate for
 * symmetric matrices (small eigenvalues keep full relative accuracy, which whitening divides
 * by). Each sweep rotates every off-diagonal pair (p, q) to zero; the off-diagonal mass falls
 * quadratically once small, so a handful of sweeps suffice. Cost: O(n³) per sweep; fine for the
 * feature counts PCA is used with here (a 784×784 covariance takes seconds, not minutes).
 */
import { GradkitError } from '../../core/errors.js';

/** The eigendecomposition of a symmetric matrix: eigenvalues (largest first), eigenvectors and sweeps used. */
export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** Eigenvectors as columns, row-major n×n: vectors[i*n + j] is component i of eigenvector j. */
  vectors: Float64Array;
  /** Sweeps used. */
  sweeps: number;
}

/** Eigenvalues/vectors of the symmetric n×n matrix `a` (row-major; only read, never changed). */
export function symmetricEigen(a: ArrayLike<number>, n: number, opts: { maxSweeps?: number; tol?: number } = {}): SymmetricEigen {
  const op = 'symmetricEigen';
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n) throw new GradkitError(op, `expected an n×n matrix with n=${n} (${n * n} values), got ${a.length} values`);
  const A = Float64Array.from(a);
  let norm = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = A[i * n + j];
      if (!Number.isFinite(v)) throw new GradkitError(op, `entry (${i}, ${j}) is ${v}; the matrix must be finite`);
      if (Math.abs(v - A[j * n + i]) > 1e-9 * (Math.abs(v) + Math.abs(A[j * n + i]) + 1e-300)) {
        throw new GradkitError(op, `the matrix is not symmetric: entry (${i}, ${j}) = ${v} but (${j}, ${i}) = ${A[j * n + i]}`);
      }
      norm += v * v;
    }
  }
  // Eigenvectors are accumulated as rows (Vt = Vᵀ) so each rotation updates two contiguous rows.
  const Vt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Vt[i * n + i] = 1;
  const maxSweeps = opts.maxSweeps ?? 100;
  const tol = opts.tol ?? 1e-30;
  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    let off = 0;
    let offAbs = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) {
      off += A[p * n + q] * A[p * n + q];
      offAbs += Math.abs(A[p * n + q]);
    }
    if (off <= tol * norm || off === 0) break;
    // Early sweeps skip entries that are small compared with the average off-diagonal one:
    // rotating the big ones first converges in fewer rotations overall.
    const threshold = sweeps < 3 ? (0.2 * offAbs) / (n * n) : 0;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        const g = 100 * Math.abs(apq);
        const app = A[p * n + p];
        const aqq = A[q * n + q];
        // Later sweeps: an entry too small to change either diagonal in float64 is already zero.
        if (sweeps > 3 && Math.abs(app) + g === Math.abs(app) && Math.abs(aqq) + g === Math.abs(aqq)) {
          A[p * n + q] = A[q * n + p] = 0;
          continue;
        }
        if (apq === 0 || Math.abs(apq) < threshold) continue;
        // Rotation angle φ with cot 2φ = θ zeroes (p, q); t = tan φ is the smaller root (stable).
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A ← Jᵀ·A·J touches only rows/columns p and q; A stays symmetric, so read the rows
        // (contiguous) and write both the rows and the columns.
        for (let k = 0; k < n; k++) {
          if (k === p || k === q) continue;
          const akp = A[p * n + k];
          const akq = A[q * n + k];
          const nkp = c * akp - s * akq;
          const nkq = s * akp + c * akq;
          A[p * n + k] = nkp;
          A[k * n + p] = nkp;
          A[q * n + k] = nkq;
          A[k * n + q] = nkq;
        }
        A[p * n + p] = app - t * apq;
        A[q * n + q] = aqq + t * apq;
        A[p * n + q] = 0;
        A[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vp = Vt[p * n + k];
          const vq = Vt[q * n + k];
          Vt[p * n + k] = c * vp - s * vq;
          Vt[q * n + k] = s * vp + c * vq;
        }
      }
    }
  }
  if (sweeps === maxSweeps) throw new GradkitError(op, `did not converge in ${maxSweeps} sweeps`);
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j] - A[i * n + i]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = A[src * n + src];
    // Sign convention: the largest-magnitude component of each eigenvector is positive.
    let big = 0;
    for (let i = 0; i < n; i++) if (Math.abs(Vt[src * n + i]) > Math.abs(big)) big = Vt[src * n + i];
    const sign = big < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) vectors[i * n + dst] = sign * Vt[src * n + i];
  });
  return { values, vectors, sweeps };
}
