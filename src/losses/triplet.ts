import { GradkitError, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import {
  abs, add, clamp, gt, indexSelect, matmul, minimum, mul, pow, relu, reshape, sqrt, square, sub, sum, transpose, where,
} from '../ops/index.js';
import { upload } from '../ops/util.js';
import { canReadSync, readSync } from '../tensor/host.js';
import { Tensor } from '../tensor/tensor.js';
import { checkFloatTensor, checkReduction, reduceLoss, type Reduction } from './reduction.js';

/** Options of the triplet margin loss on given (anchor, positive, negative) rows: margin, norm, eps, swap and reduction. */
export interface TripletMarginOptions {
  /** Required gap between the negative and the positive distance (default 1). */
  margin?: number;
  /** Norm degree of the distance (default 2). */
  p?: number;
  /** Added to the difference before the norm, as PyTorch's pairwise_distance (default 1e-6). */
  eps?: number;
  /** Use min(d(a, n), d(p, n)) as the negative distance (default false). */
  swap?: boolean;
  reduction?: Reduction;
}

function checkMargin(op: string, m: unknown): number {
  if (typeof m !== 'number' || !Number.isFinite(m) || m < 0) throw new GradkitError(op, `margin must be a finite number >= 0, got ${String(m)}`);
  return m;
}

function pairDistance(a: Tensor, b: Tensor, p: number, eps: number): Tensor {
  const d = add(sub(a, b), eps);
  if (p === 2) return sqrt(sum(square(d), -1));
  return pow(sum(pow(abs(d), p), -1), 1 / p);
}

/** max(d(a, p) − d(a, n) + margin, 0) over given triplets [N, D] (PyTorch's triplet_margin_loss). */
export function tripletMarginLoss(anchor: Tensor, positive: Tensor, negative: Tensor, opts: TripletMarginOptions = {}): Tensor {
  const op = 'tripletMarginLoss';
  for (const [name, t] of [['anchor', anchor], ['positive', positive], ['negative', negative]] as const) checkFloatTensor(op, name, t);
  if (!shapesEqual(anchor.shape, positive.shape) || !shapesEqual(anchor.shape, negative.shape) || anchor.rank < 1) {
    throw new GradkitError(op, `anchor, positive and negative must share one shape [N, D]; got ${fmtShape(anchor.shape)}, ${fmtShape(positive.shape)}, ${fmtShape(negative.shape)}`);
  }
  const margin = checkMargin(op, opts.margin ?? 1);
  const p = opts.p ?? 2;
  if (typeof p !== 'number' || !Number.isFinite(p) || p <= 0) throw new GradkitError(op, `p must be a finite number > 0, got ${String(p)}`);
  const eps = opts.eps ?? 1e-6;
  const reduction = checkReduction(op, opts.reduction ?? 'mean', ['mean', 'sum', 'none'] as const);
  const dap = pairDistance(anchor, positive, p, eps);
  let dan = pairDistance(anchor, negative, p, eps);
  if (opts.swap) dan = minimum(dan, pairDistance(positive, negative, p, eps));
  return reduceLoss(relu(add(sub(dap, dan), margin)), reduction);
}

/**
 * Euclidean distances between all rows of e [B, D], [B, B], through ‖a‖² − 2a·b + ‖b‖².
 * Zero distances (the diagonal) get a zero gradient instead of sqrt's infinite one.
 */
export function pairwiseDistances(e: Tensor, opts: { squared?: boolean } = {}): Tensor {
  const sq = sum(square(e), 1, { keepDims: true });
  const d2 = clamp(add(sub(sq, mul(matmul(e, transpose(e)), 2)), transpose(sq)), 0);
  if (opts.squared) return d2;
  const positive = gt(d2, 0);
  return where(positive, sqrt(where(positive, d2, 1)), 0);
}

/** How triplets are picked from a batch: the hardest per anchor, semi-hard negatives, or every valid triplet. */
export type TripletMining = 'batchHard' | 'semiHard' | 'all';

/** Triplets mined from a batch, as parallel row indices: anchors[i], positives[i], negatives[i] form one triplet. */
export interface MinedTriplets {
  anchors: Int32Array;
  positives: Int32Array;
  negatives: Int32Array;
}

/**
 * Chooses (anchor, positive, negative) index triplets from a distance matrix [B, B] and labels:
 * - 'batchHard': per anchor, the farthest positive and the closest negative;
 * - 'semiHard': per (anchor, positive) pair, the closest negative that is farther than the
 *   positive but within the margin (d_ap < d_an < d_ap + margin), else the closest negative;
 * - 'all': every valid triplet.
 * Anchors without a positive or a negative in the batch yield nothing.
 */
export function mineTriplets(distances: ArrayLike<number>, labels: Int32Array, mining: TripletMining, margin: number): MinedTriplets {
  const b = labels.length;
  const a: number[] = [];
  const p: number[] = [];
  const n: number[] = [];
  const d = (i: number, j: number): number => distances[i * b + j];
  for (let i = 0; i < b; i++) {
    let closestNeg = -1;
    for (let k = 0; k < b; k++) if (labels[k] !== labels[i] && (closestNeg < 0 || d(i, k) < d(i, closestNeg))) closestNeg = k;
    if (closestNeg < 0) continue;
    if (mining === 'batchHard') {
      let farthestPos = -1;
      for (let j = 0; j < b; j++) if (j !== i && labels[j] === labels[i] && (farthestPos < 0 || d(i, j) > d(i, farthestPos))) farthestPos = j;
      if (farthestPos >= 0) a.push(i), p.push(farthestPos), n.push(closestNeg);
      continue;
    }
    for (let j = 0; j < b; j++) {
      if (j === i || labels[j] !== labels[i]) continue;
      if (mining === 'all') {
        for (let k = 0; k < b; k++) if (labels[k] !== labels[i]) a.push(i), p.push(j), n.push(k);
        continue;
      }
      const dap = d(i, j);
      let semi = -1;
      for (let k = 0; k < b; k++) {
        if (labels[k] === labels[i]) continue;
        const dan = d(i, k);
        if (dan > dap && dan < dap + margin && (semi < 0 || dan < d(i, semi))) semi = k;
      }
      a.push(i), p.push(j), n.push(semi >= 0 ? semi : closestNeg);
    }
  }
  return { anchors: Int32Array.from(a), positives: Int32Array.from(p), negatives: Int32Array.from(n) };
}

/** Options of the batch triplet loss on embeddings and labels: margin, how triplets are mined, distance and reduction. */
export interface TripletLossOptions {
  /** Default 1. */
  margin?: number;
  /** How triplets are picked from the batch (default 'batchHard'). */
  mining?: TripletMining;
  /** Use squared Euclidean distances (default false). */
  squared?: boolean;
  /** 'mean' (default, over the mined triplets), 'sum' or 'none' (one loss per triplet). */
  reduction?: Reduction;
}

/**
 * Triplet loss with online mining over a batch of embeddings [B, D] and int32 labels [B]
 * (FaceNet / "In Defense of the Triplet Loss"): max(d_ap − d_an + margin, 0) over triplets
 * chosen by `mining`. Choosing triplets is not differentiated; the distances are. Mining reads
 * the distances on the host: on a GPU backend use `tripletLossAsync`.
 */
export function tripletLoss(embeddings: Tensor, labels: Tensor, opts: TripletLossOptions = {}): Tensor {
  const setup = tripletSetup(embeddings, labels, opts);
  if (!canReadSync(setup.dist)) {
    throw new GradkitError('tripletLoss', `mining reads the distances on the host, which the ${setup.dist.backend.name} backend cannot hand over synchronously; use await losses.tripletLossAsync(embeddings, labels, opts)`);
  }
  return tripletFromMined(embeddings, setup, mineTriplets(readSync(setup.dist), readSync(labels) as Int32Array, setup.mining, setup.margin));
}

/** `tripletLoss` on any backend: the distances (and labels) are downloaded for mining, then the loss is built on the device. */
export async function tripletLossAsync(embeddings: Tensor, labels: Tensor, opts: TripletLossOptions = {}): Promise<Tensor> {
  const setup = tripletSetup(embeddings, labels, opts);
  const [dist, labelValues] = await Promise.all([setup.dist.data(), labels.data()]);
  return tripletFromMined(embeddings, setup, mineTriplets(dist, labelValues as Int32Array, setup.mining, setup.margin));
}

interface TripletSetup {
  dist: Tensor;
  margin: number;
  mining: TripletMining;
  reduction: Reduction;
}

/** Checks tripletLoss's arguments and computes the distance matrix the mining reads. */
function tripletSetup(embeddings: Tensor, labels: Tensor, opts: TripletLossOptions): TripletSetup {
  const op = 'tripletLoss';
  checkFloatTensor(op, 'embeddings', embeddings);
  if (embeddings.rank !== 2) throw new GradkitError(op, `embeddings must be [B, D], got ${fmtShape(embeddings.shape)}`);
  if (!(labels instanceof Tensor) || labels.dtype !== 'int32' || labels.rank !== 1 || labels.shape[0] !== embeddings.shape[0]) {
    throw new GradkitError(op, `labels must be int32 [${embeddings.shape[0]}], got ${labels instanceof Tensor ? `${labels.dtype} ${fmtShape(labels.shape)}` : typeof labels}`);
  }
  const margin = checkMargin(op, opts.margin ?? 1);
  const mining = opts.mining ?? 'batchHard';
  if (mining !== 'batchHard' && mining !== 'semiHard' && mining !== 'all') {
    throw new GradkitError(op, `mining must be 'batchHard', 'semiHard' or 'all', got ${JSON.stringify(mining)}`);
  }
  const reduction = checkReduction(op, opts.reduction ?? 'mean', ['mean', 'sum', 'none'] as const);
  return { dist: pairwiseDistances(embeddings, { squared: opts.squared }), margin, mining, reduction };
}

/** The loss over mined triplets, picked from the (differentiable) distance matrix. */
function tripletFromMined(embeddings: Tensor, { dist, margin, reduction }: TripletSetup, { anchors, positives, negatives }: MinedTriplets): Tensor {
  const b = embeddings.shape[0];
  if (anchors.length === 0) {
    // No anchor has both a positive and a negative: a zero loss still connected to the graph.
    const zero = mul(sum(embeddings), 0);
    return reduction === 'none' ? upload(embeddings.dtype === 'float64' ? new Float64Array(0) : new Float32Array(0), [0]) : zero;
  }
  const flat = reshape(dist, [b * b]);
  const pick = (rows: Int32Array, cols: Int32Array): Tensor =>
    indexSelect(flat, 0, upload(rows.map((r, t) => r * b + cols[t]), [rows.length]));
  const loss = relu(add(sub(pick(anchors, positives), pick(anchors, negatives)), margin));
  return reduceLoss(loss, reduction);
}
