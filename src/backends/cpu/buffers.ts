import { allocArray, castArray, dtypeOfArray, type DataArray, type DType } from '../../core/dtype.js';
import type { Backend } from '../../backend/backend.js';
import type { Handle } from '../../backend/handle.js';
import type { Kernels } from '../../backend/kernels.js';

/**
 * The CPU backends (reference, wasm) keep each buffer as a plain typed array in JS memory, and
 * the array *is* the handle: no lookup, no copy, and the garbage collector frees it. These are
 * the only two casts between the two views; everything else in a CPU backend works on arrays.
 */
export const asArray = (h: Handle): DataArray => h as unknown as DataArray;
export const asHandle = (a: DataArray): Handle => a as unknown as Handle;

/** Kernels written over typed arrays, seen through handles (the same objects at run time). */
export function handleKernels(kernels: Kernels<DataArray>): Kernels {
  return kernels as unknown as Kernels;
}

/** The buffer half of a CPU backend: everything but its name and kernels. */
export const cpuBuffers: Omit<Backend, 'name' | 'kernels'> = {
  garbageCollected: true,
  alloc: (dtype: DType, size: number) => asHandle(allocArray(dtype, size)),
  upload: (data: DataArray) => asHandle(data),
  write(handle: Handle, data: ArrayLike<number>) {
    asArray(handle).set(data);
  },
  read: async (handle: Handle) => asArray(handle).slice(),
  readSync: (handle: Handle) => asArray(handle),
  dtypeOf: (handle: Handle) => dtypeOfArray(asArray(handle)),
  sizeOf: (handle: Handle) => asArray(handle).length,
  free() {
    // Garbage-collected: dropping the last reference is enough.
  },
};

/** The cast and copy kernels every CPU backend shares. */
export const cpuCopyKernels: Pick<Kernels<DataArray>, 'cast' | 'copyInto'> = {
  cast: (x, dtype) => (dtypeOfArray(x) === dtype ? x.slice() : castArray(x, dtype)),
  copyInto(dst, src) {
    if (dst.length !== src.length) throw new Error(`copyInto: ${src.length} values into a buffer of ${dst.length}`);
    dst.set(dtypeOfArray(dst) === dtypeOfArray(src) ? src : castArray(src, dtypeOfArray(dst)));
  },
};
