import { GradkitError, fmtShape } from '../core/errors.js';
import { add, div, gather, logSumExp, matmul, mean, reshape, sqrt, square, sub, sum, transpose, where } from '../ops/index.js';
import { upload } from '../ops/util.js';
import { Tensor } from '../tensor/tensor.js';
import { checkFloatTensor, checkReduction, type Reduction } from './reduction.js';

/** Options of the NT-Xent (SimCLR) contrastive loss: temperature and reduction. */
export interface NtXentOptions {
  /** Softmax temperature τ on the cosine similarities (default 0.5, SimCLR's CIFAR setting). */
  temperature?: number;
  /** 'mean' (default, over the 2N anchors), 'sum' or 'none' ([2N]). */
  reduction?: Reduction;
}

/** Rows scaled to unit L2 norm; a tiny floor keeps an all-zero row at zero instead of NaN. */
export function normalizeRows(z: Tensor): Tensor {
  return div(z, sqrt(add(sum(square(z), 1, { keepDims: true }), 1e-24)));
}

/**
 * SimCLR's NT-Xent (normalized temperature-scaled cross-entropy) loss over 2N embeddings
 * [2N, D], where rows i and i + N are two views of the same example (the positives) and all
 * other rows are negatives:
 *   ℓ_i = −log( exp(sim(z_i, z_pos(i))/τ) / Σ_{k≠i} exp(sim(z_i, z_k)/τ) ),  sim = cosine.
 * Two view batches a, b of shape [N, D] go in as concat([a, b]).
 */
export function ntXent(z: Tensor, opts: NtXentOptions = {}): Tensor {
  const op = 'ntXent';
  checkFloatTensor(op, 'z', z);
  const reduction = checkReduction(op, opts.reduction ?? 'mean', ['mean', 'sum', 'none'] as const);
  const tau = opts.temperature ?? 0.5;
  if (typeof tau !== 'number' || !Number.isFinite(tau) || tau <= 0) throw new GradkitError(op, `temperature must be a finite number > 0, got ${String(tau)}`);
  if (z.rank !== 2 || z.shape[0] < 2 || z.shape[0] % 2 !== 0) {
    throw new GradkitError(op, `z must be [2N, D] with N >= 1 (rows i and i+N are the two views of one example), got ${fmtShape(z.shape)}`);
  }
  const m = z.shape[0];
  const n = m / 2;
  const zn = normalizeRows(z);
  const sim = div(matmul(zn, transpose(zn)), tau);
  const diag = new Uint8Array(m * m);
  const pos = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    diag[i * m + i] = 1;
    pos[i] = (i + n) % m;
  }
  // Each anchor's denominator runs over every other row: its own similarity is masked out.
  const others = where(upload(diag, [m, m]), -Infinity, sim);
  const positive = reshape(gather(sim, 1, upload(pos, [m, 1])), [m]);
  const loss = sub(logSumExp(others, 1), positive);
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? sum(loss) : mean(loss);
}
