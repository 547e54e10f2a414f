import { GradkitError } from '../core/errors.js';
import { abs, lt, mul, square, sub, where } from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkFloatTensor, checkReduction, checkSameShape, reduceLoss, type Reduction } from './reduction.js';

/** Options of the regression losses (MSE, L1, Huber, …): how per-element losses are reduced. */
export interface RegressionLossOptions {
  reduction?: Reduction;
}

function prepare(op: string, input: Tensor, target: Tensor, opts: RegressionLossOptions): { d: Tensor; reduction: Reduction } {
  checkFloatTensor(op, 'input', input);
  checkFloatTensor(op, 'target', target);
  checkSameShape(op, input, target);
  return { d: sub(input, target), reduction: checkReduction(op, opts.reduction ?? 'mean', ['mean', 'sum', 'none'] as const) };
}

/** Mean squared error: mean((input − target)²). */
export function mse(input: Tensor, target: Tensor, opts: RegressionLossOptions = {}): Tensor {
  const { d, reduction } = prepare('mse', input, target, opts);
  return reduceLoss(square(d), reduction);
}

/** Mean absolute error: mean(|input − target|). */
export function l1(input: Tensor, target: Tensor, opts: RegressionLossOptions = {}): Tensor {
  const { d, reduction } = prepare('l1', input, target, opts);
  return reduceLoss(abs(d), reduction);
}

function checkPositive(op: string, name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new GradkitError(op, `${name} must be a finite number > 0, got ${String(v)}`);
  return v;
}

/** Huber loss: ½d² where |d| < delta, else delta·(|d| − ½delta) (default delta 1, as PyTorch). */
export function huber(input: Tensor, target: Tensor, opts: RegressionLossOptions & { delta?: number } = {}): Tensor {
  const delta = checkPositive('huber', 'delta', opts.delta ?? 1);
  const { d, reduction } = prepare('huber', input, target, opts);
  const a = abs(d);
  const loss = where(lt(a, delta), mul(square(d), 0.5), mul(sub(a, 0.5 * delta), delta));
  return reduceLoss(loss, reduction);
}

/**
 * Smooth L1 (PyTorch SmoothL1Loss): ½d²/beta where |d| < beta, else |d| − ½beta; beta 0 is L1.
 * It equals huber / beta.
 */
export function smoothL1(input: Tensor, target: Tensor, opts: RegressionLossOptions & { beta?: number } = {}): Tensor {
  const beta = opts.beta ?? 1;
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0) throw new GradkitError('smoothL1', `beta must be a finite number >= 0, got ${String(beta)}`);
  const { d, reduction } = prepare('smoothL1', input, target, opts);
  const a = abs(d);
  if (beta === 0) return reduceLoss(a, reduction);
  const loss = where(lt(a, beta), mul(square(d), 0.5 / beta), sub(a, 0.5 * beta));
  return reduceLoss(loss, reduction);
}
