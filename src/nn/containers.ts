import { GradkitError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module, type AnyModule } from './module.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- the chain passes whatever each module returns */

/**
 * Runs its modules in order, each one's output feeding the next. Children are named '0', '1', …
 * (so parameters are 'layers.0.weight' when a Sequential is a field called `layers`).
 *
 * ```ts
 * const mlp = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 1));
 * ```
 */
export class Sequential extends Module<[Tensor], Tensor> {
  private readonly _list: AnyModule[] = [];

  constructor(...modules: AnyModule[]) {
    super();
    for (const m of modules) this.append(m);
  }

  append(module: AnyModule): this {
    this.registerModule(String(this._list.length), module);
    this._list.push(module);
    return this;
  }

  /** Replaces the i-th module (used by fuseBatchNorm and fuse). */
  set(i: number, module: AnyModule): this {
    this.at(i);
    const j = i < 0 ? this._list.length + i : i;
    this.registerModule(String(j), module);
    this._list[j] = module;
    return this;
  }

  get length(): number {
    return this._list.length;
  }

  /** The i-th module (negative counts from the end). */
  at(i: number): AnyModule {
    const j = i < 0 ? this._list.length + i : i;
    const m = this._list[j];
    if (m === undefined) throw new GradkitError('Sequential.at', `index ${i} is out of range for ${this._list.length} modules`);
    return m;
  }

  [Symbol.iterator](): Iterator<AnyModule> {
    return this._list[Symbol.iterator]();
  }

  /** Runs the chain: each module's output is the next one's input (nn.fuse merges layers beforehand). */
  override forward(x: Tensor): Tensor {
    let h: any = x;
    for (const m of this._list) h = m.call(h);
    return h as Tensor;
  }
}

/** A list of submodules that are registered (their parameters are the owner's) but not chained. */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<never[], never> {
  private readonly _list: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  append(module: M): this {
    this.registerModule(String(this._list.length), module);
    this._list.push(module);
    return this;
  }

  get length(): number {
    return this._list.length;
  }

  at(i: number): M {
    const j = i < 0 ? this._list.length + i : i;
    const m = this._list[j];
    if (m === undefined) throw new GradkitError('ModuleList.at', `index ${i} is out of range for ${this._list.length} modules`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this._list[Symbol.iterator]();
  }
}

/** Submodules by name (names follow the same rules as fields: non-empty, no '.'). */
export class ModuleDict<M extends AnyModule = AnyModule> extends Module<never[], never> {
  private readonly _dict = new Map<string, M>();

  constructor(modules: Record<string, M> | Iterable<[string, M]> = {}) {
    super();
    const entries = Symbol.iterator in modules ? (modules as Iterable<[string, M]>) : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
  }

  set(name: string, module: M): this {
    this.registerModule(name, module);
    this._dict.set(name, module);
    return this;
  }

  get(name: string): M {
    const m = this._dict.get(name);
    if (m === undefined) throw new GradkitError('ModuleDict.get', `no module named '${name}'; have ${[...this._dict.keys()].join(', ') || 'none'}`);
    return m;
  }

  has(name: string): boolean {
    return this._dict.has(name);
  }

  keys(): IterableIterator<string> {
    return this._dict.keys();
  }

  values(): IterableIterator<M> {
    return this._dict.values();
  }

  entries(): IterableIterator<[string, M]> {
    return this._dict.entries();
  }

  get size(): number {
    return this._dict.size;
  }
}
