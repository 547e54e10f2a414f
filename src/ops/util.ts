import { castArray, isFloat, promoteTypes, type DataArray, type DType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { shapesEqual, type Shape } from '../core/shape.js';
import type { Handle } from '../backend/handle.js';
import type { Kernels } from '../backend/kernels.js';
import { getBackend } from '../backend/registry.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOnDevice } from '../tensor/host.js';

/** What ops accept where a tensor is expected: a Tensor or a plain number. */
export type TensorLike = Tensor | number;

export function kernels(): Kernels {
  return getBackend().kernels;
}

/** A kernel's output buffer as a tensor of `shape`. */
export function wrap(handle: Handle, shape: Shape): Tensor {
  return new Tensor(handle, shape);
}

/** Host values (indices, masks, scalars an op computed) as a tensor on the current backend. */
export function upload(data: DataArray, shape: Shape = [data.length]): Tensor {
  return Tensor.fromArray(data, shape);
}

/** Checks a tensor argument, naming the op and the argument in the error. */
export function checkTensor(op: string, name: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) {
    throw new GradkitError(op, `${name} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  }
  return x;
}

/** Checks that a list argument (shape, perm, bounds) is an array, before anything indexes into it. */
export function checkArray<T>(op: string, name: string, v: unknown): readonly T[] {
  if (!Array.isArray(v)) throw new GradkitError(op, `${name} must be an array, got ${v === null ? 'null' : typeof v === 'object' ? 'an object' : JSON.stringify(v)}`);
  return v as readonly T[];
}

/**
 * Turns a number into a 0-d tensor of `like`'s dtype (numbers are "weak": 2 * float32 stays
 * float32; an integer number with an int tensor stays int32, a fractional one gives float32).
 */
export function toTensor(op: string, x: TensorLike, like: DType): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== 'number') throw new GradkitError(op, `expected a Tensor or a number, got ${x === null ? 'null' : typeof x}`);
  let dtype: DType = like === 'bool' ? 'int32' : like;
  if (!isFloat(dtype) && !Number.isInteger(x)) dtype = 'float32';
  return Tensor.fromArray(castArray(new Float64Array([x]), dtype), []);
}

/**
 * The dtype for an accumulation that should not round (norms, running averages): float64, or
 * float32 on a backend without float64 (a GPU), where the result is then float32-accurate.
 */
export function wideFloat(t: Tensor): 'float64' | 'float32' {
  return t.backend.float64 === false ? 'float32' : 'float64';
}

/**
 * int32 [2] from Kernels.checkLabels: [labels that are not ignoreIndex, first position holding
 * something other than an integer in [0, classes) nor ignoreIndex (−1 when none)].
 */
export function labelFlags(labels: Tensor, classes: number, ignoreIndex: number | null): Tensor {
  return wrap(kernels().checkLabels(labels.handle, classes, ignoreIndex), [2]);
}

/**
 * Validates int32 labels (or indices) against [0, classes) on the device and returns the flags
 * of labelFlags. A bad one throws `op: describe(value, position)`, at once on a CPU backend and
 * at the next asynchronous read on a GPU (checkOnDevice); `quoted` holds the values the message
 * names (the labels themselves unless they were rewritten, e.g. wrapped negative indices).
 */
export function checkLabelsOnDevice(
  op: string, labels: Tensor, classes: number, ignoreIndex: number | null,
  describe: (value: number, position: number) => string, quoted: Tensor = labels,
): Tensor {
  const flags = labelFlags(labels, classes, ignoreIndex);
  checkOnDevice(op, flags, [quoted], {
    failed: (f) => f[1] >= 0,
    message: (f, [values]) => describe(values[f[1]], f[1]),
  });
  return flags;
}

/** Casts (copying only when needed); not differentiable across int/float boundaries. */
export function castTo(t: Tensor, dtype: DType): Tensor {
  return t.dtype === dtype ? t : new Tensor(kernels().cast(t.handle, dtype), t.shape);
}

export function requireFloat(op: string, t: Tensor): void {
  if (!isFloat(t.dtype)) {
    throw new GradkitError(op, `expected a float tensor, got ${t.dtype} (cast it with .cast('float32'))`);
  }
}

/** Resolves the dtype of a binary op on tensors/numbers. */
export function binaryTypes(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor, DType] {
  const da = a instanceof Tensor ? a.dtype : undefined;
  const db = b instanceof Tensor ? b.dtype : undefined;
  if (da === undefined && db === undefined) throw new GradkitError(op, 'at least one argument must be a Tensor');
  const ta = toTensor(op, a, da ?? db!);
  const tb = toTensor(op, b, db ?? da!);
  const dtype = promoteTypes(ta.dtype, tb.dtype);
  return [ta, tb, dtype];
}

/**
 * Sums a gradient back to the shape of a broadcast input: leading axes that broadcasting added
 * are summed away, and axes where the input had size 1 are summed with keepDims.
 */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  if (lead < 0) throw new GradkitError('sumToShape', `cannot reduce ${fmtShape(g.shape)} to ${fmtShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = kernels().reduce('sum', g.handle, g.shape, axes);
  return wrap(summed, shape);
}

/**
 * Throws `op: message(extras)` when any element of the bool `mask` is set: the mask is reduced
 * to one flag on the backend, so only that number crosses to the host (the extras, which name
 * the culprit, are read only on failure). At once on a CPU backend, at the next asynchronous
 * read on a GPU (checkOnDevice).
 */
export function checkNoneSet(op: string, mask: Tensor, extras: readonly Tensor[], message: (extras: DataArray[]) => string): void {
  if (mask.size === 0) return;
  const asInt = castTo(mask, 'int32');
  const flag = wrap(kernels().reduce('max', asInt.handle, asInt.shape, asInt.shape.map((_, i) => i)), []);
  checkOnDevice(op, flag, extras, { failed: (f) => f[0] !== 0, message: (_, ex) => message(ex) });
}
