import { dtypeOfArray, isFloat, type DataArray, type DType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { sizeOf, type Shape } from '../core/shape.js';
import { getBackend } from '../backend/registry.js';
import { runBackward, type BackwardOptions, type GradNode } from '../autograd/engine.js';
import { formatTensor } from './format.js';

/** Nested JavaScript arrays of numbers or booleans, as accepted by `tensor()`; the nesting gives the shape. */
export type NestedArray = number | boolean | NestedArray[];

/**
 * An N-d array of float32/float64/int32/bool values in a contiguous row-major buffer owned by
 * the backend. Tensors are values: ops return new tensors and never change their inputs
 * (optimizers and initializers write parameters in place through `assign`).
 *
 * Memory is the garbage collector's job: buffers are plain typed arrays, so a tensor that is
 * no longer referenced is freed like any object, and users never dispose anything.
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** The backend buffer. Read it with dataSync()/data(); write only through assign(). */
  buffer: DataArray;
  /** Accumulated gradient after backward(), for leaves that require it (and retainGrad tensors). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it is part of a graph that needs gradients. */
  node: GradNode | null = null;
  /** Optional name, used in diagnostics and error messages (parameters are named by nn). */
  name: string | undefined;
  private _requiresGrad = false;
  private _retainsGrad = false;

  constructor(buffer: DataArray, shape: Shape, opts: { requiresGrad?: boolean; name?: string } = {}) {
    if (sizeOf(shape) !== buffer.length) {
      throw new GradkitError('Tensor', `shape ${fmtShape(shape)} holds ${sizeOf(shape)} elements but the buffer has ${buffer.length}`);
    }
    this.buffer = buffer;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtypeOfArray(buffer);
    this.name = opts.name;
    if (opts.requiresGrad) this.requiresGrad = true;
  }

  get size(): number {
    return this.buffer.length;
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
    return getBackend().readSync(this.buffer).slice();
  }

  /** A copy of the values; async so a GPU backend can download without blocking. */
  async data(): Promise<DataArray> {
    return (await getBackend().read(this.buffer)).slice();
  }

  /** Nested JS arrays (booleans for bool tensors); a number for a 0-d tensor. */
  toArray(): NestedArray {
    const values = this.dataSync();
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
    return this.buffer[0];
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
    return new Tensor(this.buffer, this.shape, { name: this.name });
  }

  /**
   * Swaps the storage for another buffer of the same length, possibly of another dtype (e.g.
   * Module.to('float64') keeps tensor identity so optimizers and fields stay valid).
   */
  replaceBuffer(buffer: DataArray): this {
    if (buffer.length !== this.size) {
      throw new GradkitError('replaceBuffer', `new buffer has ${buffer.length} values, tensor of shape ${fmtShape(this.shape)} needs ${this.size}`);
    }
    this.buffer = buffer;
    (this as { dtype: DType }).dtype = dtypeOfArray(buffer);
    return this;
  }

  /** Overwrites this tensor's values in place (optimizers, initializers). Not recorded by autograd. */
  assign(values: Tensor | DataArray | ArrayLike<number>): this {
    const src = values instanceof Tensor ? values.buffer : values;
    if (values instanceof Tensor && values.size !== this.size) {
      throw new GradkitError('assign', `cannot assign a tensor of shape ${fmtShape(values.shape)} to one of shape ${fmtShape(this.shape)}`);
    }
    if (src.length !== this.size) {
      throw new GradkitError('assign', `expected ${this.size} values for shape ${fmtShape(this.shape)}, got ${src.length}`);
    }
    this.buffer.set(src as ArrayLike<number>);
    return this;
  }

  toString(): string {
    return formatTensor(this);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
