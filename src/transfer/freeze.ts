/**
 * Freezing for transfer learning. A frozen parameter has requiresGrad = false, so backward
 * computes no gradient for it and optimizers leave it untouched. A frozen BatchNorm must also
 * stop updating its running statistics (the common trap: in train mode it would keep adapting
 * mean/variance to the new data, silently changing the "frozen" features), so it is held in
 * eval mode even when `model.train()` is called later.
 *
 * Holding works without changes to nn: Module.train() sets `training` on every module, so the
 * frozen BatchNorm's `training` field becomes an accessor that reads false and remembers what
 * train()/eval() asked for; unfreezing restores a plain field with that remembered mode.
 */
import { GradkitError } from '../core/errors.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/normalization.js';
import type { AnyModule } from '../nn/module.js';
import { select, type Selector } from './select.js';

/** Options of `freeze`: whether the selected BatchNorm layers are held in eval mode. */
export interface FreezeOptions {
  /**
   * 'eval' (default): selected BatchNorm layers are held in eval mode (running statistics
   * frozen too); 'train': leave their mode alone (statistics keep adapting to the new data).
   */
  batchNorm?: 'eval' | 'train';
}

/** What `freeze`/`unfreeze` changed: the parameters and the BatchNorm layers affected. */
export interface FreezeResult {
  /** Names of the parameters whose requiresGrad changed or was confirmed. */
  parameters: string[];
  /** Names of the BatchNorm layers now held in eval mode (freeze) or released (unfreeze). */
  batchNorms: string[];
}

/** The mode train()/eval() last asked for, for each BatchNorm we hold in eval. */
const held = new WeakMap<AnyModule, { requested: boolean }>();

function isBatchNorm(m: AnyModule): boolean {
  return m instanceof BatchNorm1d || m instanceof BatchNorm2d;
}

/** True when `m` is a BatchNorm held in eval mode by freeze(). */
export function isHeldInEval(m: AnyModule): boolean {
  return held.has(m);
}

function hold(m: AnyModule): void {
  if (held.has(m)) return;
  const state = { requested: m.training };
  held.set(m, state);
  Object.defineProperty(m, 'training', {
    configurable: true,
    enumerable: true,
    get: () => false,
    set: (v: boolean) => {
      state.requested = v;
    },
  });
}

function release(m: AnyModule): void {
  const state = held.get(m);
  if (state === undefined) return;
  held.delete(m);
  Object.defineProperty(m, 'training', { configurable: true, enumerable: true, writable: true, value: state.requested });
}

function checkModel(op: string, model: AnyModule): void {
  if (model === null || typeof model !== 'object' || typeof (model as AnyModule).namedModules !== 'function') {
    throw new GradkitError(op, `expected an nn.Module as the model, got ${model === null ? 'null' : typeof model}`);
  }
}

function checkOpts(op: string, opts: FreezeOptions): 'eval' | 'train' {
  const bn = opts.batchNorm ?? 'eval';
  if (bn !== 'eval' && bn !== 'train') throw new GradkitError(op, `batchNorm must be 'eval' or 'train', got '${String(bn)}'`);
  return bn;
}

/**
 * Freezes the selected part of `model` (all of it when no selector is given).
 *
 * ```ts
 * transfer.freeze(model, 'features');          // by name prefix
 * transfer.freeze(model, { upTo: -1 });        // every child but the last (the head)
 * transfer.freeze(model, model.stages.at(0));  // a module
 * transfer.freeze(model, (name) => name.startsWith('stem') || name.startsWith('stages.0'));
 * ```
 */
export function freeze(model: AnyModule, selector: Selector = model, opts: FreezeOptions = {}): FreezeResult {
  const op = 'freeze';
  checkModel(op, model);
  const bn = checkOpts(op, opts);
  const { parameters, modules } = select(op, model, selector);
  for (const [, p] of parameters) {
    p.requiresGrad = false;
    // A gradient left from before would otherwise still be applied by an optimizer that reads .grad.
    p.grad = null;
  }
  const batchNorms: string[] = [];
  if (bn === 'eval') {
    for (const [n, m] of modules) {
      if (isBatchNorm(m)) {
        hold(m);
        batchNorms.push(n);
      }
    }
  }
  return { parameters: parameters.map(([n]) => n), batchNorms };
}

/** Undoes freeze() on the selected part (all of it by default): parameters train again, BatchNorms follow train()/eval() again. */
export function unfreeze(model: AnyModule, selector: Selector = model): FreezeResult {
  const op = 'unfreeze';
  checkModel(op, model);
  const { parameters, modules } = select(op, model, selector);
  for (const [, p] of parameters) p.requiresGrad = true;
  const batchNorms: string[] = [];
  for (const [n, m] of modules) {
    if (held.has(m)) {
      release(m);
      batchNorms.push(n);
    }
  }
  return { parameters: parameters.map(([n]) => n), batchNorms };
}

/** The parameters that will train (requiresGrad), e.g. to give an optimizer only those. */
export function trainableParameters(model: AnyModule): ReturnType<AnyModule['parameters']> {
  return model.parameters().filter((p) => p.requiresGrad);
}
