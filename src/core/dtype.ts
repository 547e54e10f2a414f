import { GradkitError } from './errors.js';

/**
 * Element types. float32 is the working type; float64 exists so gradient checks can take
 * finite differences without float32 round-off drowning the signal; int32 holds indices and
 * labels; bool holds comparison results (stored as bytes).
 */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';
/** The floating-point dtypes: those that can hold gradients and learnable parameters. */
export type FloatDType = 'float32' | 'float64';

/** The typed arrays that hold a tensor's elements, one per dtype (bool is stored as Uint8Array). */
export type DataArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export type ArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int32'
      ? Int32Array
      : Uint8Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype === 'float32' || dtype === 'float64';
}

export const BYTES_PER_ELEMENT: Readonly<Record<DType, number>> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/**
 * The largest tensor gradkit allocates: 2 GiB. Typed arrays may go a little further on 64-bit
 * engines, but a single buffer this large already exceeds what browsers and wasm memory hold,
 * and past it the engine throws a bare RangeError deep inside a kernel.
 */
export const MAX_TENSOR_BYTES = 2 ** 31;

/** Bytes as a person reads them: '36.0 GB', '512.0 MB', '900 bytes' (decimal units). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} bytes`;
}

/** Null when `size` elements of `dtype` fit one tensor, else the reason ('needs 36.0 GB; …'). */
export function tensorTooLarge(dtype: DType, size: number): string | null {
  const bytes = size * BYTES_PER_ELEMENT[dtype];
  return bytes > MAX_TENSOR_BYTES ? `needs ${formatBytes(bytes)}; one tensor can hold at most 2 GiB` : null;
}

export function allocArray(dtype: DType, size: number): DataArray {
  const tooLarge = tensorTooLarge(dtype, size);
  if (tooLarge !== null) throw new GradkitError('alloc', `a ${dtype} tensor of ${size} elements ${tooLarge}; use smaller layers or batches`);
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
  }
}

export function dtypeOfArray(a: DataArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  // Anything else (a Uint16Array passed to new Tensor) would be mislabelled as bool.
  const name = (a as object)?.constructor?.name ?? typeof a;
  throw new GradkitError('Tensor', `unsupported buffer type ${name}; expected Float32Array, Float64Array, Int32Array or Uint8Array`);
}

/** Converts a buffer to another dtype (a copy; same object back when nothing changes). */
export function castArray(a: DataArray, dtype: DType): DataArray {
  if (dtypeOfArray(a) === dtype) return a;
  const out = allocArray(dtype, a.length);
  if (dtype === 'bool') {
    for (let i = 0; i < a.length; i++) out[i] = a[i] !== 0 ? 1 : 0;
  } else if (dtype === 'int32') {
    for (let i = 0; i < a.length; i++) out[i] = Math.trunc(a[i]);
  } else {
    out.set(a);
  }
  return out;
}

/**
 * Result type of a binary arithmetic op (PyTorch-like promotion): any float64 → float64,
 * else any float32 → float32, else int32 (bool counts as int32 in arithmetic).
 */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === 'float64' || b === 'float64') return 'float64';
  if (a === 'float32' || b === 'float32') return 'float32';
  return 'int32';
}

export function checkDType(op: string, dtype: string): DType {
  if (!(DTYPES as readonly string[]).includes(dtype)) {
    throw new GradkitError(op, `unknown dtype '${dtype}'; expected one of ${DTYPES.join(', ')}`);
  }
  return dtype as DType;
}
