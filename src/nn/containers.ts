import { GradkitError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module, type AnyModule } from './module.js';
import { ReLU } from './activation.js';
import { Conv2d, MaxPool2d } from './conv.js';

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

  /** Replaces the i-th module (used by fuseBatchNorm). */
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

  /**
   * Runs the chain. A layer with a bias directly followed by a plain ReLU (neither with hooks)
   * runs as one fused bias-add + relu kernel: the same values, one pass over the activation
   * instead of two in each direction; a Conv2d → ReLU → MaxPool2d triple pools first and then
   * adds the bias and applies relu on the pooled tensor (the same values again, see below).
   * Hooks (e.g. activation statistics) see the usual calls.
   */
  override forward(x: Tensor): Tensor {
    let h: any = x;
    const list = this._list;
    for (let i = 0; i < list.length; i++) {
      const m = list[i];
      const next = list[i + 1];
      if (next !== undefined && isPlain(next, ReLU) && fusesRelu(m) && !m.hasHooks()) {
        const pool = list[i + 2];
        if (pool !== undefined && m instanceof Conv2d && isPlain(pool, MaxPool2d)) {
          // conv → +b → relu → maxpool equals conv → maxpool → +b → relu: max commutes with adding
          // a per-channel constant and with relu (both monotonic, and float rounding never swaps
          // two values), so the bias-add and relu run on the pooled tensor. The one difference:
          // where rounding x + b makes two window entries equal, the plain order sends the
          // gradient to the first of them and this one to the larger x — both valid subgradients.
          h = m.biasActForward(h, 'relu', (y) => (pool as MaxPool2d).forward(y));
          i += 2;
        } else {
          h = (m as unknown as BiasActLayer).biasActForward(h, 'relu');
          i++;
        }
      } else {
        h = m.call(h);
      }
    }
    return h as Tensor;
  }
}

/** A module of exactly this class (a subclass may change forward) with no hooks. */
function isPlain(m: AnyModule, cls: { prototype: object }): boolean {
  return Object.getPrototypeOf(m) === cls.prototype && !m.hasHooks();
}

interface BiasActLayer {
  bias: Tensor | null;
  biasActForward(x: Tensor, act: 'relu'): Tensor;
}

/**
 * Whether m's own class (not just a base class: a subclass may change forward) defines
 * biasActForward, and m has a bias to fuse.
 */
function fusesRelu(m: AnyModule): boolean {
  const proto = Object.getPrototypeOf(m) as object;
  return Object.prototype.hasOwnProperty.call(proto, 'biasActForward') && (m as unknown as BiasActLayer).bias != null;
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
