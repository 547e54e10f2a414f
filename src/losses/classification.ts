import { GradkitError, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import {
  add, cast, div, eq, gather, ge, gt, indexSelect, le, log, logicalAnd, logicalNot, logSoftmax, maximum, mul, ne, neg, permute, reshape,
  slice, softmaxCrossEntropy, softplus, sub, sum, where,
} from '../ops/index.js';
import { checkLabelsOnDevice, checkNoneSet } from '../ops/util.js';
import { Tensor } from '../tensor/tensor.js';
import { checkFloatTensor, checkReduction, checkSameShape, reduceLoss, weightVector, type Reduction } from './reduction.js';

/** Options shared by the class-index losses (cross-entropy, NLL): reduction, class weights and the ignored index. */
export interface ClassLossOptions {
  /** 'mean' (default; weighted mean when `weight` is given, as PyTorch), 'sum' or 'none'. */
  reduction?: Reduction;
  /** A rescaling weight per class, [C]. */
  weight?: Tensor | readonly number[];
  /** Targets equal to this class index contribute nothing (default -100, as PyTorch). */
  ignoreIndex?: number;
}

/** Options of cross-entropy: the class-loss options plus label smoothing. */
export interface CrossEntropyOptions extends ClassLossOptions {
  /** Mix the target with the uniform distribution: (1 − ε)·target + ε/C (default 0). */
  labelSmoothing?: number;
}

/**
 * Moves the class axis (1) last and flattens: [N, C, d1, ...] → [N·d1·..., C]. Returns the
 * 2-D view and the shape per-sample losses have ([N, d1, ...]).
 */
function classesLast(x: Tensor): { x2: Tensor; outShape: number[] } {
  if (x.rank === 2) return { x2: x, outShape: [x.shape[0]] };
  const perm = [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2), 1];
  const moved = permute(x, perm);
  const outShape = [x.shape[0], ...x.shape.slice(2)];
  return { x2: reshape(moved, [outShape.reduce((a, b) => a * b, 1), x.shape[1]]), outShape };
}

function checkInput(op: string, input: Tensor): void {
  checkFloatTensor(op, 'input', input);
  if (input.rank < 2) throw new GradkitError(op, `input must be [N, C] or [N, C, d1, ...] with classes on axis 1, got ${fmtShape(input.shape)}`);
  if (input.shape[1] === 0) throw new GradkitError(op, `input has no classes (shape ${fmtShape(input.shape)})`);
}

/**
 * Validates int32 class targets on the device (Kernels.checkLabels, two numbers: the targets
 * that are not ignoreIndex and the first bad position) and returns that count as a 1-element
 * int32 tensor, so the mean's divisor stays on the device. A CPU backend throws here; a GPU
 * backend at the next asynchronous read (checkOnDevice). The labels are read only to word it.
 */
function checkClassTargets(op: string, target: Tensor, c: number, ignore: number): Tensor {
  const flags = checkLabelsOnDevice(op, target, c, ignore, (k, at) => `target ${k} at position ${at} is not a class index in [0, ${c}) nor ignoreIndex (${ignore})`);
  return slice(flags, [0], [1]);
}

/**
 * total / kept for a mean over the kept targets; when every target is ignored PyTorch returns
 * 0/0 = NaN, and a zero loss keeps training sane: total (a sum of zeros) / max(kept, 1).
 */
function meanOverKept(total: Tensor, kept: Tensor): Tensor {
  return div(total, reshape(cast(maximum(kept, 1), total.dtype), []));
}

/**
 * The loss for int32 class targets given log-probabilities [M, C]: per-sample −w_y·log p_y
 * (zero where ignored), plus the label-smoothing term, reduced with PyTorch's weighted mean
 * (divided by Σ w_y over the kept samples). Targets stay on the device: ignored rows are
 * selected with tensor ops, not on the host.
 */
function pickTargets(op: string, logp: Tensor, target: Tensor, outShape: number[], opts: ClassLossOptions, smoothing: number): Tensor {
  const [m, c] = logp.shape;
  const reduction = checkReduction(op, opts.reduction ?? 'mean', ['mean', 'sum', 'none'] as const);
  const ignore = opts.ignoreIndex ?? -100;
  if (!Number.isInteger(ignore)) throw new GradkitError(op, `ignoreIndex must be an integer, got ${ignore}`);
  if (!shapesEqual(target.shape, outShape)) {
    throw new GradkitError(op, `class-index target must have shape ${fmtShape(outShape)} for input of that batch, got ${fmtShape(target.shape)}`);
  }
  const dtype = logp.dtype as 'float32' | 'float64';
  const w = opts.weight === undefined ? null : weightVector(op, 'weight', opts.weight, c, dtype);
  const kept = checkClassTargets(op, target, c, ignore);
  const labels = reshape(target, [m]);
  const valid = ne(labels, ignore);
  // Ignored rows read class 0 (any in-range index) and are zeroed by their weight 0.
  const safe = where(valid, labels, 0);
  const validF = cast(valid, dtype);
  const wy = w === null ? validF : where(valid, indexSelect(w, 0, safe), 0);
  const picked = reshape(gather(logp, 1, reshape(safe, [m, 1])), [m]);
  let loss = neg(mul(picked, wy));
  if (smoothing > 0) {
    // ε/C · Σ_c w_c·(−log p_c), as PyTorch: the smoothing term is weighted per class too.
    const all = w === null ? sum(logp, 1) : sum(mul(logp, w), 1);
    const smooth = neg(mul(all, validF));
    loss = add(mul(loss, 1 - smoothing), mul(smooth, smoothing / c));
  }
  if (reduction === 'none') return reshape(loss, outShape);
  const total = sum(loss);
  if (reduction === 'sum') return total;
  // Every target ignored (or zero weight): PyTorch returns 0/0 = NaN; a zero loss keeps training sane.
  if (w === null) return meanOverKept(total, kept); // Σ w_y is the count
  // Σ w_y on the device (summed in float64 order, as a host loop would, then rounded to the
  // dtype); total/Σ where Σ ≠ 0, else total·0: (total / (Σ or 1))·[Σ ≠ 0].
  const denom = sum(wy);
  const zero = eq(denom, 0);
  return mul(div(total, where(zero, 1, denom)), cast(logicalNot(zero), dtype));
}

/**
 * The common case (int32 targets, no class weights) in one fused kernel pass each way; the same
 * validation, ignoreIndex and reduction rules as pickTargets, which stays the general path.
 */
function fusedClassTargets(op: string, x2: Tensor, target: Tensor, outShape: number[], opts: ClassLossOptions, smoothing: number): Tensor {
  const [m, c] = x2.shape;
  const reduction = checkReduction(op, opts.reduction ?? 'mean', ['mean', 'sum', 'none'] as const);
  const ignore = opts.ignoreIndex ?? -100;
  if (!Number.isInteger(ignore)) throw new GradkitError(op, `ignoreIndex must be an integer, got ${ignore}`);
  if (!shapesEqual(target.shape, outShape)) {
    throw new GradkitError(op, `class-index target must have shape ${fmtShape(outShape)} for input of that batch, got ${fmtShape(target.shape)}`);
  }
  const kept = checkClassTargets(op, target, c, ignore);
  const perRow = softmaxCrossEntropy(x2, reshape(target, [m]), { labelSmoothing: smoothing, ignoreIndex: ignore });
  if (reduction === 'none') return reshape(perRow, outShape);
  const total = sum(perRow);
  if (reduction === 'sum') return total;
  return meanOverKept(total, kept);
}

function checkSmoothing(op: string, s: unknown): number {
  if (typeof s !== 'number' || !(s >= 0 && s <= 1)) throw new GradkitError(op, `labelSmoothing must be in [0, 1], got ${String(s)}`);
  return s;
}

/**
 * Cross-entropy from unnormalized logits [N, C] (or [N, C, d1, ...]), as PyTorch's cross_entropy.
 * `target` is either int32 class indices [N] (with weight, ignoreIndex, labelSmoothing) or
 * float class probabilities of the input's shape (one-hot, soft or mixup targets).
 *
 *   const loss = losses.crossEntropy(model.forward(x), labels, { labelSmoothing: 0.1 });
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  checkInput(op, input);
  if (!(target instanceof Tensor)) throw new GradkitError(op, `target must be a Tensor, got ${typeof target}`);
  const smoothing = checkSmoothing(op, opts.labelSmoothing ?? 0);
  const { x2, outShape } = classesLast(input);
  if (target.dtype === 'int32' && opts.weight === undefined && smoothing < 1) return fusedClassTargets(op, x2, target, outShape, opts, smoothing);
  const logp = logSoftmax(x2, -1);
  if (target.dtype === 'int32') return pickTargets(op, logp, target, outShape, opts, smoothing);
  if (target.dtype === 'bool') throw new GradkitError(op, 'target must be int32 class indices or float probabilities, got bool');
  // Probability targets.
  const reduction = checkReduction(op, opts.reduction ?? 'mean', ['mean', 'sum', 'none'] as const);
  if (opts.ignoreIndex !== undefined) throw new GradkitError(op, 'ignoreIndex applies to class-index (int32) targets, not to probability targets');
  if (!shapesEqual(target.shape, input.shape)) {
    throw new GradkitError(op, `probability target must have the input's shape ${fmtShape(input.shape)}, got ${fmtShape(target.shape)} (pass int32 class indices of shape ${fmtShape(outShape)} otherwise)`);
  }
  const c = input.shape[1];
  let t2 = classesLast(target).x2;
  if (smoothing > 0) t2 = add(mul(t2, 1 - smoothing), smoothing / c);
  let prod = mul(logp, t2);
  if (opts.weight !== undefined) prod = mul(prod, weightVector(op, 'weight', opts.weight, c, logp.dtype as 'float32' | 'float64'));
  const loss = reshape(neg(sum(prod, 1)), outShape);
  return reduceLoss(loss, reduction);
}

/**
 * Negative log-likelihood of int32 class targets given log-probabilities [N, C] (e.g. from
 * logSoftmax), as PyTorch's nll_loss; same weight/ignoreIndex/reduction rules as crossEntropy.
 */
export function nll(input: Tensor, target: Tensor, opts: ClassLossOptions = {}): Tensor {
  const op = 'nll';
  checkInput(op, input);
  if (!(target instanceof Tensor) || target.dtype !== 'int32') {
    throw new GradkitError(op, `target must be an int32 tensor of class indices, got ${target instanceof Tensor ? target.dtype : typeof target}`);
  }
  const { x2, outShape } = classesLast(input);
  return pickTargets(op, x2, target, outShape, opts, 0);
}

/** Options shared by the binary losses (BCE): reduction and per-element weights. */
export interface BinaryLossOptions {
  reduction?: Reduction;
  /** Rescales each element's loss; broadcast against the input. */
  weight?: Tensor;
}

/**
 * log x clamped below at −100 (as PyTorch), for x in [0, 1]. Where x is 0 (or a float32 denormal,
 * which GPUs flush to 0, so that clamping x at e^−100 would not work there) the value is −100
 * through a `where` that never takes log 0, so the gradient stays finite (0 there).
 */
function flooredLog(x: Tensor): Tensor {
  const positive = gt(x, 0);
  return where(positive, maximum(log(where(positive, x, 1)), -100), -100);
}

/**
 * Binary cross-entropy of probabilities in [0, 1]: −w·(t·log p + (1 − t)·log(1 − p)), logs
 * floored at −100 as PyTorch. Prefer binaryCrossEntropyWithLogits, which is stable.
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: BinaryLossOptions = {}): Tensor {
  const op = 'binaryCrossEntropy';
  checkFloatTensor(op, 'input', input);
  checkFloatTensor(op, 'target', target);
  checkSameShape(op, input, target);
  const reduction = checkReduction(op, opts.reduction ?? 'mean', ['mean', 'sum', 'none'] as const);
  // Checked on the device (NaN fails both comparisons): one flag read (at the next read on a
  // GPU); the values are looked at only to word the error.
  checkNoneSet(op, logicalNot(logicalAnd(ge(input, 0), le(input, 1))), [input], ([p]) => {
    const i = p.findIndex((v) => !(v >= 0 && v <= 1));
    return `input must hold probabilities in [0, 1]; element ${i} is ${p[i]} (use binaryCrossEntropyWithLogits for raw scores)`;
  });
  const logP = flooredLog(input);
  const log1mP = flooredLog(sub(1, input));
  let loss = neg(add(mul(target, logP), mul(sub(1, target), log1mP)));
  if (opts.weight !== undefined) loss = mul(loss, checkFloatTensor(op, 'weight', opts.weight));
  return reduceLoss(loss, reduction);
}

/** Options of binary cross-entropy on logits: the binary options plus a weight for positive examples. */
export interface BCEWithLogitsOptions extends BinaryLossOptions {
  /** Weight of positive examples, per class (broadcast over the last axis) or one number. */
  posWeight?: Tensor | number;
}

/**
 * Sigmoid + binary cross-entropy in one stable expression (PyTorch's BCEWithLogitsLoss):
 * (1 − t)·x + (1 + (posWeight − 1)·t)·softplus(−x), never exp of a large number.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, opts: BCEWithLogitsOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  checkFloatTensor(op, 'input', input);
  checkFloatTensor(op, 'target', target);
  checkSameShape(op, input, target);
  const reduction = checkReduction(op, opts.reduction ?? 'mean', ['mean', 'sum', 'none'] as const);
  let logWeight: Tensor | number = 1;
  if (opts.posWeight !== undefined) {
    const pw = opts.posWeight;
    if (typeof pw === 'number') {
      if (!Number.isFinite(pw) || pw < 0) throw new GradkitError(op, `posWeight must be a finite number >= 0, got ${pw}`);
    } else {
      checkFloatTensor(op, 'posWeight', pw);
      const last = input.shape[input.rank - 1];
      if (pw.rank > 1 || (pw.rank === 1 && pw.shape[0] !== last && pw.shape[0] !== 1)) {
        throw new GradkitError(op, `posWeight must be a number or a [${last}] tensor (one weight per class on the last axis), got ${fmtShape(pw.shape)}`);
      }
    }
    logWeight = add(mul(target, typeof pw === 'number' ? pw - 1 : sub(pw, 1)), 1);
  }
  let loss = add(mul(sub(1, target), input), mul(softplus(neg(input)), logWeight));
  if (opts.weight !== undefined) loss = mul(loss, checkFloatTensor(op, 'weight', opts.weight));
  return reduceLoss(loss, reduction);
}
