/**
 * Discriminative learning rates (ULMFiT, fastai): early layers hold generic features and need
 * only small adjustments, the new head needs to learn from scratch, so learning rates grow
 * from the input to the output. These helpers build optimizer parameter groups
 * `{ params, lr }` from depth or from name patterns; pass them straight to an optimizer.
 */
import { GradkitError } from '../core/errors.js';
import type { AnyModule } from '../nn/module.js';
import type { Parameter } from '../nn/parameter.js';
import { units } from './select.js';

/** A parameter group for an optimizer: its parameters with their own learning rate and weight decay. */
export interface LrGroup {
  params: Parameter[];
  lr: number;
  weightDecay?: number;
}

/** Options of `layerwiseLrGroups`: the head's rate, the per-unit decay, the unit kind and frozen-parameter handling. */
export interface LayerwiseLrOptions {
  /** Learning rate of the last unit (the head). */
  baseLr: number;
  /** Each unit's rate is the next one's times decay (default 0.5): unit i of k gets baseLr·decay^(k−1−i). */
  decay?: number;
  /** 'child' (default): one group per direct child; 'layer': one per module owning parameters. */
  unit?: 'child' | 'layer';
  /** Leave out frozen parameters (requiresGrad false); default false, so unfreezing later needs no new optimizer. */
  trainableOnly?: boolean;
  weightDecay?: number;
}

function checkLr(op: string, what: string, lr: number): void {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) throw new GradkitError(op, `${what} must be a finite number >= 0, got ${String(lr)}`);
}

/**
 * One group per unit (direct child by default), learning rate decaying geometrically from the
 * head towards the input. Units without parameters are skipped (they do not count in the depth).
 *
 * ```ts
 * const opt = new optim.Adam(transfer.layerwiseLrGroups(model, { baseLr: 1e-3, decay: 0.5 }));
 * ```
 */
export function layerwiseLrGroups(model: AnyModule, opts: LayerwiseLrOptions): LrGroup[] {
  const op = 'layerwiseLrGroups';
  if (opts === null || typeof opts !== 'object') throw new GradkitError(op, 'needs options { baseLr, decay? }');
  checkLr(op, 'baseLr', opts.baseLr);
  const decay = opts.decay ?? 0.5;
  if (!(typeof decay === 'number' && decay > 0 && Number.isFinite(decay))) throw new GradkitError(op, `decay must be a positive number, got ${String(decay)}`);
  const keep = (p: Parameter): boolean => !opts.trainableOnly || p.requiresGrad;
  const seen = new Set<Parameter>();
  const groups: Parameter[][] = [];
  for (const [, m] of units(model, opts.unit ?? 'child')) {
    const ps = m.parameters({ recurse: (opts.unit ?? 'child') === 'child' }).filter((p) => !seen.has(p) && keep(p));
    ps.forEach((p) => seen.add(p));
    if (ps.length > 0) groups.push(ps);
  }
  // Parameters the model owns directly (not inside a child) go with the head.
  const own = model.parameters({ recurse: false }).filter((p) => !seen.has(p) && keep(p));
  if ((opts.unit ?? 'child') === 'child' && own.length > 0) groups.push(own);
  if (groups.length === 0) throw new GradkitError(op, `${model.constructor.name} has no ${opts.trainableOnly ? 'trainable ' : ''}parameters`);
  return groups.map((params, i) => ({
    params,
    lr: opts.baseLr * decay ** (groups.length - 1 - i),
    ...(opts.weightDecay !== undefined ? { weightDecay: opts.weightDecay } : {}),
  }));
}

/** A rule of the name-based grouping: parameters whose names match the pattern get this learning rate and weight decay. */
export interface LrRule {
  /** A name prefix ('stem', 'stages.0') or a regular expression tested against full parameter names. */
  pattern: string | RegExp;
  lr: number;
  weightDecay?: number;
}

/**
 * Groups by name: each parameter goes to the first rule whose pattern matches its name, the rest
 * to a default group with `defaultLr`. A rule that matches nothing is an error (likely a typo).
 *
 * ```ts
 * const groups = transfer.lrGroupsByName(resnet, [{ pattern: 'stem', lr: 1e-5 }, { pattern: /^stages\.[01]\./, lr: 1e-4 }], { defaultLr: 1e-3 });
 * ```
 */
export function lrGroupsByName(model: AnyModule, rules: readonly LrRule[], opts: { defaultLr: number; trainableOnly?: boolean }): LrGroup[] {
  const op = 'lrGroupsByName';
  if (!Array.isArray(rules)) throw new GradkitError(op, 'rules must be an array of { pattern, lr }');
  if (opts === null || typeof opts !== 'object') throw new GradkitError(op, 'needs options { defaultLr }');
  checkLr(op, 'defaultLr', opts.defaultLr);
  rules.forEach((r, i) => {
    if (!(typeof r.pattern === 'string' || r.pattern instanceof RegExp)) throw new GradkitError(op, `rule ${i}: pattern must be a name prefix or a RegExp`);
    checkLr(op, `rule ${i} lr`, r.lr);
  });
  const matches = (name: string, p: string | RegExp): boolean =>
    typeof p === 'string' ? p === '' || name === p || name.startsWith(`${p}.`) : p.test(name);
  const buckets = rules.map(() => [] as Parameter[]);
  const rest: Parameter[] = [];
  for (const [name, p] of model.namedParameters()) {
    if (opts.trainableOnly && !p.requiresGrad) continue;
    const i = rules.findIndex((r) => matches(name, r.pattern));
    (i < 0 ? rest : buckets[i]).push(p);
  }
  buckets.forEach((b, i) => {
    if (b.length === 0) throw new GradkitError(op, `rule ${i} (pattern ${String(rules[i].pattern)}) matches no parameter of ${model.constructor.name}; names look like ${[...model.namedParameters()].slice(0, 3).map(([n]) => n).join(', ')}`);
  });
  const groups: LrGroup[] = buckets.map((params, i) => ({ params, lr: rules[i].lr, ...(rules[i].weightDecay !== undefined ? { weightDecay: rules[i].weightDecay } : {}) }));
  if (rest.length > 0) groups.push({ params: rest, lr: opts.defaultLr });
  return groups;
}
