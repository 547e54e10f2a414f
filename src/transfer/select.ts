/**
 * Which part of a model a transfer-learning call acts on. A selector is a module inside the
 * model, a dotted name prefix ('features', 'stages.0', 'fc.weight'), a predicate over named
 * modules, or `{ upTo: k }`: the first k units of the model (direct children by default, or
 * parameterized layers), like `list(model.children())[:k]` in PyTorch. Negative k counts from
 * the end (`{ upTo: -1 }`: everything but the last child, fastai's freeze_to(-1)); a string
 * names the first unit NOT included.
 */
import { GradkitError } from '../core/errors.js';
import type { AnyModule } from '../nn/module.js';
import type { Parameter } from '../nn/parameter.js';

/** A selector for the first units of a model: up to an index or up to a named unit, counting children or layers. */
export interface UpTo {
  /** Units [0, k) are selected (k < 0 counts from the end), or the units before the one named k. */
  upTo: number | string;
  /** 'child' (default): the model's direct children; 'layer': modules that own parameters directly, in order. */
  unit?: 'child' | 'layer';
}

/** Picks part of a model: a module, a dotted name, a predicate on (name, module), or everything up to a point. */
export type Selector = AnyModule | string | ((name: string, module: AnyModule) => boolean) | UpTo;

/** The parameters and modules a Selector picked, with their dotted names. */
export interface Selection {
  /** Selected parameters with their full dotted names. */
  parameters: [string, Parameter][];
  /** Selected modules (whole subtrees) with their names: what BatchNorm handling looks at. */
  modules: [string, AnyModule][];
}

const under = (name: string, prefix: string): boolean => prefix === '' || name === prefix || name.startsWith(`${prefix}.`);

/** The units `{ upTo }` counts: direct children, or modules that own parameters themselves. */
export function units(model: AnyModule, unit: 'child' | 'layer' = 'child'): [string, AnyModule][] {
  if (unit === 'child') return [...model.namedChildren()];
  if (unit === 'layer') return [...model.namedModules()].filter(([, m]) => m.parameters({ recurse: false }).length > 0);
  throw new GradkitError('select', `unit must be 'child' or 'layer', got '${String(unit)}'`);
}

function selectUpTo(op: string, model: AnyModule, sel: UpTo): string[] {
  const list = units(model, sel.unit ?? 'child');
  const names = list.map(([n]) => n);
  let k: number;
  if (typeof sel.upTo === 'string') {
    k = names.indexOf(sel.upTo);
    if (k < 0) throw new GradkitError(op, `{ upTo: '${sel.upTo}' }: no ${sel.unit ?? 'child'} of that name; have ${names.join(', ') || 'none'}`);
  } else {
    if (!Number.isInteger(sel.upTo) || Math.abs(sel.upTo) > list.length) {
      throw new GradkitError(op, `{ upTo: ${sel.upTo} } must be an integer between -${list.length} and ${list.length} (the model has ${list.length} ${sel.unit ?? 'child'} units)`);
    }
    k = sel.upTo < 0 ? list.length + sel.upTo : sel.upTo;
  }
  return names.slice(0, k);
}

/** Resolves a selector against a model; a selector that matches nothing is an error (a typo must not silently freeze nothing). */
export function select(op: string, model: AnyModule, selector: Selector): Selection {
  const all = [...model.namedModules()];
  let roots: string[];
  let paramPrefix: string | null = null;
  // { upTo: 0 } legitimately selects nothing; other selectors that match nothing are typos.
  let allowEmpty = false;
  if (typeof selector === 'string') {
    roots = all.filter(([n]) => under(n, selector)).map(([n]) => n);
    paramPrefix = selector;
  } else if (typeof selector === 'function') {
    roots = all.filter(([n, m]) => selector(n, m)).map(([n]) => n);
  } else if (selector !== null && typeof selector === 'object' && 'upTo' in selector && !('namedModules' in selector)) {
    roots = selectUpTo(op, model, selector);
    allowEmpty = true;
  } else if (selector !== null && typeof selector === 'object' && typeof (selector as AnyModule).namedModules === 'function') {
    const hit = all.find(([, m]) => m === selector);
    if (hit === undefined) throw new GradkitError(op, `the module given (${selector.constructor.name}) is not part of this ${model.constructor.name}`);
    roots = [hit[0]];
  } else {
    throw new GradkitError(op, `selector must be a module, a name prefix, a predicate (name, module) => boolean or { upTo: k }, got ${selector === null ? 'null' : typeof selector}`);
  }
  const modules = all.filter(([n]) => roots.some((r) => under(n, r)));
  const inModule = (name: string): boolean => roots.some((r) => under(name, r) && name !== r);
  const parameters = [...model.namedParameters()].filter(([n]) => inModule(n) || (paramPrefix !== null && under(n, paramPrefix)));
  if (modules.length === 0 && parameters.length === 0 && !allowEmpty) {
    const children = [...model.namedChildren()].map(([n]) => n);
    throw new GradkitError(op, `selector ${typeof selector === 'string' ? `'${selector}'` : typeof selector === 'function' ? '(predicate)' : JSON.stringify(selector)} matches nothing in ${model.constructor.name}; its children are ${children.join(', ') || 'none'}`);
  }
  return { parameters, modules };
}
