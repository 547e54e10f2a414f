import { dtypeOfArray, isFloat, type DataArray, type DType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { sizeOf, type Shape } from '../core/shape.js';
import type { Handle } from '../backend/handle.js';
import { getBackend } from '../backend/registry.js';
import { runBackward, type BackwardOptions, type GradNode } from '../autograd/engine.js';
import { formatTensor } from './format.js';
import { trackInScope } from './scope.js';
import { Storage } from './storage.js';
import { settleChecks } from './deferred-checks.js';

/**
 * The safety net for buffers nobody disposed: when a tensor is garbage-collected, its reference
 * to the shared storage is dropped (CPU backends would free the array anyway; a GPU or wasm
 * heap backend needs the free call).
 */
const collected = new FinalizationRegistry<{ release(): void }>((token) => {
  // A throw here would be an uncaught exception in a cleanup task, killing the process over
  // bookkeeping: report it once instead (it means a buffer was freed twice, a backend bug).
  try {
    token.release();
  } catch (e) {
    if (!reportedCleanupError) console.error(`gradkit: freeing a collected tensor's buffer failed: ${e instanceof Error ? e.message : String(e)}`);
    reportedCleanupError = true;
  }
});
let reportedCleanupError = false;

/** Nested JavaScript arrays of numbers or booleans, as accepted by `tensor()`; the nesting gives the shape. */
export type NestedArray = number | boolean | NestedArray[];

/**
 * An N-d array of float32/float64/int32/bool values in a contiguous row-major buffer owned by
 * a backend and reached through an opaque handle. Tensors are values: ops return new tensors
 * and never change their inputs (optimizers and initializers write parameters in place through
 * `assign`). Read values with `await t.data()` (or `dataSync()` on CPU backends).
 *
 * Memory: users of the Trainer, nn and optim never free anything. The Trainer runs each step in
 * a scope that disposes every tensor that does not escape; outside it, `scope(fn)` does the same
 * and `t.dispose()` frees one tensor now; a tensor nobody disposed is freed when it is
 * garbage-collected.
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  private storage: Storage;
  private disposed = false;
  /** Accumulated gradient after backward(), for leaves that require it (and retainGrad tensors). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it is part of a graph that needs gradients. */
  node: GradNode | null = null;
  /** Optional name, used in diagnostics and error messages (parameters are named by nn). */
  name: string | undefined;
  private _requiresGrad = false;
  private _retainsGrad = false;

  /**
   * Wraps a backend buffer (a kernel's output) or, given a Storage, shares one with another
   * tensor. Host values become tensors through `tensor()` / `fromArray()` instead.
   */
  constructor(source: Handle | Storage, shape: Shape, opts: { requiresGrad?: boolean; name?: string } = {}) {
    let storage: Storage;
    if (source instanceof Storage) {
      storage = source.retain();
    } else {
      const backend = getBackend();
      storage = new Storage(backend, source, backend.dtypeOf(source), backend.sizeOf(source));
    }
    if (sizeOf(shape) !== storage.size) {
      storage.release();
      throw new GradkitError('Tensor', `shape ${fmtShape(shape)} holds ${sizeOf(shape)} elements but the buffer has ${storage.size}`);
    }
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = storage.dtype;
    this.name = opts.name;
    if (opts.requiresGrad) this.requiresGrad = true;
    collected.register(this, storage.collectToken, this);
    trackInScope(this);
  }

  /**
   * A tensor holding `data` on the current backend (the array's type gives the dtype). The
   * backend may adopt the array: do not change it afterwards.
   */
  static fromArray(data: DataArray, shape: Shape, opts: { requiresGrad?: boolean; name?: string } = {}): Tensor {
    dtypeOfArray(data); // one clear error for a Uint16Array and the like
    if (sizeOf(shape) !== data.length) {
      throw new GradkitError('Tensor', `shape ${fmtShape(shape)} holds ${sizeOf(shape)} elements but the data has ${data.length}`);
    }
    return new Tensor(getBackend().upload(data), shape, opts);
  }

  /**
   * The opaque backend buffer, to pass to the current backend's kernels. A tensor of another
   * backend is one clear error here (PyTorch's "expected all tensors to be on the same device"),
   * not a foreign handle deep inside a kernel. Read values through the host module.
   */
  get handle(): Handle {
    const h = this.ownHandle;
    const current = getBackend();
    if (this.storage.backend !== current) {
      const mine = this.storage.backend.name;
      throw new GradkitError('backend', `a tensor${this.name ? ` ('${this.name}')` : ''} of shape ${fmtShape(this.shape)} on backend '${mine}' was used while the current backend is '${current.name}'; move it with toBackend(t, '${current.name}') or select '${mine}' (setBackend/withBackend)`);
    }
    return h;
  }

  /** The buffer on this tensor's own backend, whichever backend is current (reads, writes, dispose). */
  get ownHandle(): Handle {
    if (this.disposed) throw new GradkitError('Tensor', `this tensor${this.name ? ` ('${this.name}')` : ''} of shape ${fmtShape(this.shape)} was disposed (by dispose(), Module/Optimizer.dispose() or the end of its scope); keep() it or return it from its scope to use it later`);
    return this.storage.handle;
  }

  /** The backend that owns this tensor's buffer. */
  get backend(): Storage['backend'] {
    return this.storage.backend;
  }

  /** True once dispose() ran (directly or at the end of a scope). */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** True when autograd recorded this tensor (it carries a graph to back-propagate through). */
  get recorded(): boolean {
    return this.node !== null;
  }

  /**
   * Frees this tensor's buffer now (once no other tensor shares it). Using the tensor afterwards
   * is an error. Normal training code never needs this: scopes and the garbage collector do it.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    collected.unregister(this);
    this.storage.release();
  }

  get size(): number {
    return this.storage.size;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Whether gradients flow to (and are kept for) this tensor. Only float leaves can be set. */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  set requiresGrad(value: boolean) {
    if (value && !isFloat(this.dtype)) {
      throw new GradkitError('requiresGrad', `only float tensors can require gradients; this tensor is ${this.dtype}`);
    }
    if (this.node !== null && !value) {
      throw new GradkitError('requiresGrad', 'cannot turn off requiresGrad on a non-leaf tensor; use detach()');
    }
    this._requiresGrad = value;
  }

  /** Marks graph output as requiring grad (used by the autograd recorder only). */
  markRequiresGrad(): void {
    this._requiresGrad = true;
  }

  /** Keeps `.grad` for this non-leaf tensor during backward (like PyTorch's retain_grad). */
  retainGrad(): this {
    this._retainsGrad = true;
    return this;
  }

  get retainsGrad(): boolean {
    return this._retainsGrad;
  }

  get isLeaf(): boolean {
    return this.node === null;
  }

  /** A copy of the values, synchronously (CPU backends). */
  dataSync(): DataArray {
    return this.storage.backend.readSync(this.ownHandle).slice();
  }

  /** A copy of the values; async so a GPU backend can download without blocking. */
  async data(): Promise<DataArray> {
    // The read is issued before anything is awaited: the caller may dispose the tensor at once.
    // Input checks a GPU backend could not read synchronously settle with it (deferred-checks.ts).
    const [values] = await Promise.all([this.storage.backend.read(this.ownHandle), settleChecks()]);
    return values;
  }

  /** Nested JS arrays (booleans for bool tensors), synchronously (CPU backends); a number for a 0-d tensor. */
  toArray(): NestedArray {
    return this.nest(this.dataSync());
  }

  /** Nested JS arrays, read asynchronously like `data()` (any backend; tfjs's `array()`). */
  async array(): Promise<NestedArray> {
    return this.nest(await this.data());
  }

  private nest(values: DataArray): NestedArray {
    const asValue = (v: number): number | boolean => (this.dtype === 'bool' ? v !== 0 : v);
    if (this.shape.length === 0) return asValue(values[0]);
    const build = (dim: number, offset: number): NestedArray[] => {
      const n = this.shape[dim];
      const inner = sizeOf(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) {
        out.push(dim === this.shape.length - 1 ? asValue(values[offset + i]) : build(dim + 1, offset + i * inner));
      }
      return out;
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) {
      throw new GradkitError('item', `only one-element tensors can be converted to a number; shape is ${fmtShape(this.shape)}`);
    }
    return this.storage.backend.readSync(this.ownHandle)[0];
  }

  /**
   * Back-propagates from this tensor. Without a seed the tensor must hold one element (a loss);
   * otherwise pass a gradient of the same shape. Leaves that require grad accumulate `.grad`.
   */
  backward(seed?: Tensor, opts: BackwardOptions = {}): void {
    runBackward(this, seed, opts);
  }

  /** Same values, cut from the graph (shares the buffer). */
  detach(): Tensor {
    return this.view(this.shape);
  }

  /** Another tensor over the same buffer with another shape of the same size (no autograd). */
  view(shape: Shape): Tensor {
    this.ownHandle; // refuse a disposed tensor
    return new Tensor(this.storage, shape, { name: this.name });
  }

  /**
   * Swaps the storage for another buffer of the same length, possibly of another dtype (e.g.
   * Module.to('float64') keeps tensor identity so optimizers and fields stay valid). Takes
   * over the buffer of `from`, which must not be used afterwards.
   */
  replaceStorage(from: Tensor): this {
    if (from.size !== this.size) {
      throw new GradkitError('replaceStorage', `new buffer has ${from.size} values, tensor of shape ${fmtShape(this.shape)} needs ${this.size}`);
    }
    const next = from.storage.retain();
    from.dispose();
    collected.unregister(this);
    this.storage.release();
    this.storage = next;
    collected.register(this, next.collectToken, this);
    (this as { dtype: DType }).dtype = next.dtype;
    return this;
  }

  /**
   * Moves this tensor's buffer to where its backend keeps long-lived state (the wasm backend's
   * resident memory: its fast kernels then read it in place, and optimizers step it in place).
   * Values, shape and identity are unchanged, and every tensor sharing the buffer follows.
   * Parameters and optimizer slots call it; on other backends it does nothing. Returns this.
   */
  persist(): this {
    void this.ownHandle; // a disposed tensor says so rather than moving its views' buffer
    this.storage.persist();
    return this;
  }

  /** Overwrites this tensor's values in place (optimizers, initializers). Not recorded by autograd. */
  assign(values: Tensor | ArrayLike<number>): this {
    if (values instanceof Tensor) {
      if (values.size !== this.size) {
        throw new GradkitError('assign', `cannot assign a tensor of shape ${fmtShape(values.shape)} to one of shape ${fmtShape(this.shape)}`);
      }
      if (values.backend !== this.backend) {
        throw new GradkitError('assign', `cannot assign a tensor on backend '${values.backend.name}' to one on '${this.backend.name}'`);
      }
      this.backend.kernels.copyInto(this.ownHandle, values.ownHandle);
      return this;
    }
    if (values.length !== this.size) {
      throw new GradkitError('assign', `expected ${this.size} values for shape ${fmtShape(this.shape)}, got ${values.length}`);
    }
    this.backend.write(this.ownHandle, values);
    return this;
  }

  toString(): string {
    return formatTensor(this);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

