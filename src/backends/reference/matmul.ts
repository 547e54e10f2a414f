import type { DataArray } from '../../core/dtype.js';
import type { MatmulParams } from '../../backend/kernels.js';
import { allocLike } from './util.js';

/** The textbook triple loop with explicit index arithmetic for each transpose case. */
export function matmul(a: DataArray, b: DataArray, p: MatmulParams): DataArray {
  const { batch, m, k, n, transA, transB, strideA, strideB } = p;
  const out = allocLike(a, batch * m * n);
  for (let t = 0; t < batch; t++) {
    const ao = t * strideA;
    const bo = t * strideB;
    const co = t * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let q = 0; q < k; q++) {
          const av = transA ? a[ao + q * m + i] : a[ao + i * k + q];
          const bv = transB ? b[bo + j * k + q] : b[bo + q * n + j];
          acc += av * bv;
        }
        out[co + i * n + j] = acc;
      }
    }
  }
  return out;
}
