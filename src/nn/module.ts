import { isFloat, type FloatDType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { castTo } from '../ops/util.js';
import { readSync } from '../tensor/host.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { Parameter } from './parameter.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- containers hold modules of any signature */

/** Any module, whatever its forward signature (what containers hold). */
export type AnyModule = Module<any[], any>;

/** Called after forward with the module, its inputs and its output; a non-undefined return replaces the output. */
export type ForwardHook<In extends unknown[] = any[], Out = any> = (module: AnyModule, inputs: In, output: Out) => Out | void;
/** Called before forward; a non-undefined return replaces the inputs. */
export type ForwardPreHook<In extends unknown[] = any[]> = (module: AnyModule, inputs: In) => In | void;

// Stored hooks are untyped so that Module<In, Out> stays assignable to AnyModule.
type StoredHook = (module: AnyModule, inputs: any[], output: any) => unknown;
type StoredPreHook = (module: AnyModule, inputs: any[]) => unknown;

/** A copy of t's values on its backend (the cast kernel always copies), cut from any graph. */
function copyOf(t: Tensor): Tensor {
  return new Tensor(t.backend.kernels.cast(t.handle, t.dtype), t.shape);
}

/** A state dict: dotted names ('layers.0.weight') to tensors, in registration order. */
export type StateDict = Map<string, Tensor>;

/** Options of `Module.loadStateDict`. */
export interface LoadStateDictOptions {
  /** Require the keys to match exactly (default true). Shape mismatches are always an error. */
  strict?: boolean;
}

/** The keys `loadStateDict` could not match: the model's entries missing from the dict, and dict entries the model does not have. */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * Base class of every layer and model. A module owns named parameters, buffers (persistent ones
 * go into the state dict, non-persistent ones do not) and submodules, and a `training` flag that
 * layers such as Dropout and BatchNorm read.
 *
 * Registration is explicit (`registerParameter`, `registerBuffer`, `registerModule`) or by plain
 * assignment, PyTorch style: a field holding a `Parameter` or a `Module` is picked up under the
 * field's name the next time the module is walked, and re-assigning a registered field (a new
 * Parameter for `weight`, a new Tensor for a buffer) updates the registration.
 *
 * ```ts
 * class MLP extends nn.Module {
 *   fc1 = new nn.Linear(784, 128);
 *   fc2 = new nn.Linear(128, 10);
 *   forward(x: Tensor): Tensor { return this.fc2.call(this.fc1.call(x).relu()); }
 * }
 * const y = new MLP().call(x);   // call() runs forward plus the hooks
 * ```
 */
export class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  /** True in training mode (the default); flipped by train()/eval(). */
  training = true;
  // Insertion-ordered registries. Values may be null (an absent bias keeps its slot, as in PyTorch).
  private readonly _params = new Map<string, Parameter | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();
  private readonly _modules = new Map<string, AnyModule | null>();
  private readonly _hooks = new Map<number, StoredHook>();
  private readonly _preHooks = new Map<number, StoredPreHook>();
  private _nextHookId = 0;

  /** The computation. Subclasses override it; run it through `call()` so hooks fire. */
  forward(..._inputs: In): Out {
    throw new GradkitError(this.constructor.name, 'this module has no forward(); containers such as ModuleList and ModuleDict are not callable');
  }

  /** Runs the pre-hooks, forward, then the forward hooks (in registration order). */
  call(...inputs: In): Out {
    let args = inputs;
    for (const h of this._preHooks.values()) {
      const r = h(this, args);
      if (r !== undefined) args = r as In;
    }
    let out = this.forward(...args);
    for (const h of this._hooks.values()) {
      const r = h(this, args, out);
      if (r !== undefined) out = r as Out;
    }
    return out;
  }

  /** Whether any forward hook or pre-hook is registered (a container may then not fuse this module's call away). */
  hasHooks(): boolean {
    return this._hooks.size > 0 || this._preHooks.size > 0;
  }

  /** Registers a hook that sees (module, inputs, output) after every call(); returns its remover. */
  registerForwardHook(hook: ForwardHook<In, Out>): () => void {
    const id = this._nextHookId++;
    this._hooks.set(id, hook as StoredHook);
    return () => void this._hooks.delete(id);
  }

  /** Registers a hook that sees (module, inputs) before every forward; returns its remover. */
  registerForwardPreHook(hook: ForwardPreHook<In>): () => void {
    const id = this._nextHookId++;
    this._preHooks.set(id, hook as StoredPreHook);
    return () => void this._preHooks.delete(id);
  }

  // ---- registration -------------------------------------------------------------------------

  private checkName(kind: string, name: string, own: Map<string, unknown>): void {
    if (typeof name !== 'string' || name.length === 0) {
      throw new GradkitError(`${kind}`, `name must be a non-empty string, got ${JSON.stringify(name)}`);
    }
    if (name.includes('.')) throw new GradkitError(kind, `name '${name}' must not contain '.' (dots separate submodule names)`);
    // A name that already means something else on the object (a method, 'training', a number
    // field) would make the field and the registration disagree.
    const existing = (this as unknown as Record<string, unknown>)[name];
    if (existing !== undefined && existing !== null && !(existing instanceof Tensor) && !(existing instanceof Module)) {
      throw new GradkitError(kind, `'${name}' is already an attribute of ${this.constructor.name} (a ${typeof existing}); choose another name`);
    }
    const taken: [string, Map<string, unknown>][] = [['parameter', this._params], ['buffer', this._buffers], ['submodule', this._modules]];
    for (const [what, map] of taken) {
      if (map !== own && map.has(name)) throw new GradkitError(kind, `'${name}' is already registered as a ${what} of ${this.constructor.name}`);
    }
  }

  /** Registers (or replaces) a parameter under `name`; null keeps the slot empty (e.g. no bias). */
  registerParameter<P extends Parameter | null>(name: string, param: P): P {
    this.checkName('registerParameter', name, this._params);
    if (param !== null && !(param instanceof Parameter)) {
      throw new GradkitError('registerParameter', `'${name}' must be a Parameter (wrap the tensor: new Parameter(t)) or null`);
    }
    this._params.set(name, param);
    this.updateField(name, param);
    if (param !== null && param.name === undefined) param.name = name;
    return param;
  }

  /**
   * Registers (or replaces) a buffer: state that is not trained (BatchNorm's running mean).
   * Persistent buffers (default) are saved in the state dict.
   */
  registerBuffer<T extends Tensor | null>(name: string, tensor: T, opts: { persistent?: boolean } = {}): T {
    this.checkName('registerBuffer', name, this._buffers);
    if (tensor !== null && !(tensor instanceof Tensor)) throw new GradkitError('registerBuffer', `'${name}' must be a Tensor or null`);
    // Buffers are state kept across steps (running statistics): a step's scope must not free them.
    if (tensor !== null) keep(tensor);
    this._buffers.set(name, tensor);
    this.updateField(name, tensor);
    if (opts.persistent === false) this._nonPersistent.add(name);
    else this._nonPersistent.delete(name);
    return tensor;
  }

  /** Registers (or replaces) a submodule under `name`. */
  registerModule<M extends AnyModule | null>(name: string, module: M): M {
    this.checkName('registerModule', name, this._modules);
    if (module !== null && !(module instanceof Module)) throw new GradkitError('registerModule', `'${name}' must be a Module or null`);
    this._modules.set(name, module);
    this.updateField(name, module);
    return module;
  }

  /** Keeps a same-named field in step with an explicit registration (sync() reads fields back). */
  private updateField(name: string, value: unknown): void {
    if (Object.prototype.hasOwnProperty.call(this, name)) (this as unknown as Record<string, unknown>)[name] = value;
  }

  /**
   * Picks up fields assigned PyTorch style. A field whose name is registered updates that
   * registration; an unregistered Parameter/Module field is registered under the field name
   * unless the same object is already registered under another name.
   */
  private sync(): void {
    const self = this as unknown as Record<string, unknown>;
    for (const key of Object.keys(self)) {
      if (key.startsWith('_')) continue;
      const v = self[key];
      if (this._params.has(key)) {
        if (v === null || v instanceof Parameter) this._params.set(key, v);
        continue;
      }
      if (this._buffers.has(key)) {
        if (v instanceof Tensor) keep(v);
        if (v === null || v instanceof Tensor) this._buffers.set(key, v);
        continue;
      }
      if (this._modules.has(key)) {
        if (v === null || v instanceof Module) this._modules.set(key, v);
        continue;
      }
      if (v instanceof Parameter && ![...this._params.values()].includes(v)) this.registerParameter(key, v);
      else if (v instanceof Module && ![...this._modules.values()].includes(v)) this.registerModule(key, v);
    }
  }

  /** Removes a registered parameter, buffer or submodule (used by reparametrizations such as weightNorm). */
  unregister(name: string): void {
    this._params.delete(name);
    this._buffers.delete(name);
    this._nonPersistent.delete(name);
    this._modules.delete(name);
  }

  // ---- traversal ------------------------------------------------------------------------------

  /** Direct submodules with their names. */
  *namedChildren(): Generator<[string, AnyModule]> {
    this.sync();
    for (const [name, m] of this._modules) if (m !== null) yield [name, m];
  }

  *children(): Generator<AnyModule> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  /** This module and every descendant, depth first, each once, with dotted names ('' is this one). */
  *namedModules(prefix = '', seen: Set<AnyModule> = new Set()): Generator<[string, AnyModule]> {
    if (seen.has(this)) return;
    seen.add(this);
    yield [prefix, this];
    for (const [name, child] of this.namedChildren()) {
      yield* child.namedModules(prefix === '' ? name : `${prefix}.${name}`, seen);
    }
  }

  *modules(): Generator<AnyModule> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /** Parameters of this module and (by default) its descendants; a shared parameter appears once. */
  *namedParameters(opts: { recurse?: boolean } = {}): Generator<[string, Parameter]> {
    const seen = new Set<Parameter>();
    const mods: Iterable<[string, AnyModule]> = opts.recurse === false ? [['', this]] : this.namedModules();
    for (const [prefix, m] of mods) {
      m.sync();
      for (const [name, p] of m._params) {
        if (p === null || seen.has(p)) continue;
        seen.add(p);
        yield [prefix === '' ? name : `${prefix}.${name}`, p];
      }
    }
  }

  /** All parameters as an array (what optimizers take). */
  parameters(opts: { recurse?: boolean } = {}): Parameter[] {
    return [...this.namedParameters(opts)].map(([, p]) => p);
  }

  *namedBuffers(opts: { recurse?: boolean } = {}): Generator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    const mods: Iterable<[string, AnyModule]> = opts.recurse === false ? [['', this]] : this.namedModules();
    for (const [prefix, m] of mods) {
      m.sync();
      for (const [name, b] of m._buffers) {
        if (b === null || seen.has(b)) continue;
        seen.add(b);
        yield [prefix === '' ? name : `${prefix}.${name}`, b];
      }
    }
  }

  buffers(opts: { recurse?: boolean } = {}): Tensor[] {
    return [...this.namedBuffers(opts)].map(([, b]) => b);
  }

  /** Number of scalar parameters: all, or only those with requiresGrad. */
  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (!opts.trainableOnly || p.requiresGrad) n += p.size;
    return n;
  }

  // ---- modes and bulk operations ---------------------------------------------------------------

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: Dropout is the identity, BatchNorm uses running statistics. */
  eval(): this {
    return this.train(false);
  }

  /** Calls fn on every descendant and then on this module (children first, as PyTorch does). */
  apply(fn: (m: AnyModule) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Sets requiresGrad on every parameter (false freezes the module for transfer learning:
   * optimizers skip parameters without gradients and numParameters({ trainableOnly }) drops them).
   */
  setRequiresGrad(value = true): this {
    for (const p of this.parameters()) p.requiresGrad = value;
    return this;
  }

  freeze(): this {
    return this.setRequiresGrad(false);
  }

  unfreeze(): this {
    return this.setRequiresGrad(true);
  }

  /** Drops every parameter's gradient (sets .grad to null, so the next backward starts fresh). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /**
   * Frees the buffers of every parameter, its gradient and every buffer of this module and its
   * children now, instead of when the garbage collector finds them (tfjs's `model.dispose()`).
   * Worth it where buffers live outside the JS heap (wasm memory, a GPU) and a process builds
   * many models in turn. The module cannot be used afterwards.
   */
  dispose(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
      p.dispose();
    }
    for (const b of this.buffers()) b.dispose();
  }

  /**
   * Converts every float parameter and float buffer to `dtype` in place, keeping tensor identity
   * (optimizers and fields holding them stay valid), like PyTorch's `module.to(dtype)`.
   * Gradients are dropped. Used mostly to run gradient checks in float64.
   */
  to(dtype: FloatDType): this {
    const convert = (t: Tensor): void => {
      if (!isFloat(t.dtype) || t.dtype === dtype) return;
      // The cast copy's buffer moves into t: same object, new storage and dtype.
      t.replaceStorage(castTo(t, dtype)).persist();
      t.grad = null;
    };
    for (const p of this.parameters()) convert(p);
    for (const b of this.buffers()) convert(b);
    return this;
  }

  // ---- state dict --------------------------------------------------------------------------------

  /**
   * Parameters and persistent buffers by dotted name, as copies (a saved state does not change
   * when training continues).
   */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    for (const [name, t] of this.stateTensors()) out.set(name, copyOf(t));
    return out;
  }

  /**
   * The tensors stateDict() copies, themselves (no copies): for code that reads them at once,
   * e.g. a checkpoint downloaded from a GPU. Writing into them changes the module.
   */
  stateTensors(): StateDict {
    const out: StateDict = new Map();
    for (const [prefix, m] of this.namedModules()) {
      m.sync();
      const full = (name: string): string => (prefix === '' ? name : `${prefix}.${name}`);
      for (const [name, p] of m._params) if (p !== null) out.set(full(name), p);
      for (const [name, b] of m._buffers) {
        if (b !== null && !m._nonPersistent.has(name)) out.set(full(name), b);
      }
    }
    return out;
  }

  /**
   * Copies values from `dict` (a Map or a plain object) into this module's parameters and
   * persistent buffers, in place. With strict (default) the keys must match exactly; any shape
   * mismatch is an error. The error lists every missing, unexpected and wrong-shaped key.
   */
  loadStateDict(dict: StateDict | Record<string, Tensor>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const entries = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const targets = new Map<string, Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      m.sync();
      const full = (name: string): string => (prefix === '' ? name : `${prefix}.${name}`);
      for (const [name, p] of m._params) if (p !== null) targets.set(full(name), p);
      for (const [name, b] of m._buffers) if (b !== null && !m._nonPersistent.has(name)) targets.set(full(name), b);
    }
    const missingKeys = [...targets.keys()].filter((k) => !entries.has(k));
    const unexpectedKeys = [...entries.keys()].filter((k) => !targets.has(k));
    const wrongShape: string[] = [];
    for (const [k, t] of targets) {
      const v = entries.get(k);
      if (v === undefined) continue;
      if (!(v instanceof Tensor)) wrongShape.push(`${k} (expected a Tensor, got ${typeof v})`);
      else if (!shapesEqual(v.shape, t.shape)) wrongShape.push(`${k} (checkpoint ${fmtShape(v.shape)}, model ${fmtShape(t.shape)})`);
    }
    const problems: string[] = [];
    if (strict && missingKeys.length > 0) problems.push(`missing keys: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length > 0) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    if (wrongShape.length > 0) problems.push(`wrong shapes: ${wrongShape.join(', ')}`);
    if (problems.length > 0) {
      throw new GradkitError('loadStateDict', `${this.constructor.name} cannot load this state dict; ${problems.join('; ')}`);
    }
    for (const [k, t] of targets) {
      const v = entries.get(k);
      // assign converts the dtype; a tensor from another backend (a checkpoint read elsewhere) goes through the host.
      if (v !== undefined) t.assign(v.backend === t.backend ? v : readSync(v));
    }
    return { missingKeys, unexpectedKeys };
  }

  // ---- printing ------------------------------------------------------------------------------------

  /** The part inside the parentheses of this module's repr, e.g. 'inFeatures=3, outFeatures=4'. */
  extraRepr(): string {
    return '';
  }

  /** PyTorch-style tree: `Sequential(\n  (0): Linear(inFeatures=3, outFeatures=4, bias=true)\n)`. */
  toString(): string {
    const children = [...this.namedChildren()];
    const extra = this.extraRepr();
    if (children.length === 0) return `${this.constructor.name}(${extra})`;
    const lines: string[] = [];
    if (extra !== '') lines.push(...extra.split('\n'));
    for (const [name, child] of children) {
      const body = child.toString().split('\n').join('\n  ');
      lines.push(`(${name}): ${body}`);
    }
    return `${this.constructor.name}(\n  ${lines.join('\n  ')}\n)`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
