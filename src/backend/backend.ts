import type { DataArray, DType } from '../core/dtype.js';
import type { Handle } from './handle.js';
import type { Kernels } from './kernels.js';

/** Live buffers a backend holds and their bytes (see `memory()` in the package entry). */
export interface MemoryInfo {
  buffers: number;
  bytes: number;
}

/**
 * A backend: where tensor buffers live and which code runs kernels. Buffers are opaque handles
 * (see handle.ts): the backend allocates them, uploads host values into them, reads them back
 * (asynchronously; synchronously only where the buffers are in this thread's memory) and frees
 * them. Tensors hold one reference-counted handle each (src/tensor/storage.ts) and call `free`
 * when the last tensor sharing it is disposed, leaves a scope, or is garbage-collected.
 *
 * Adding a backend = one folder under src/backends/ implementing this interface and `Kernels`,
 * registered with `registerBackend` (see src/backend/README.md).
 */
export interface Backend {
  readonly name: string;
  readonly kernels: Kernels;
  /** A new zero-filled buffer of `size` elements. */
  alloc(dtype: DType, size: number): Handle;
  /**
   * A buffer holding `data` (whose array type gives the dtype). The backend may adopt the array
   * instead of copying it: the caller hands it over and must not change it afterwards.
   */
  upload(data: DataArray): Handle;
  /** Overwrites a buffer with host values (same length; converted to the buffer's dtype). */
  write(handle: Handle, data: ArrayLike<number>): void;
  /** The values, as a new array (async so that a GPU backend can download without blocking). */
  read(handle: Handle): Promise<DataArray>;
  /**
   * The values, synchronously: CPU backends only (a GPU backend throws naming `await t.data()`).
   * CPU backends may return their own storage: callers treat the result as read-only.
   */
  readSync(handle: Handle): DataArray;
  /**
   * False where `readSync` throws (GPU backends): code that reads values per step then returns a
   * promise (see `readNow` in src/tensor/host.ts) instead of blocking. Absent = true. `read` must
   * capture the buffer's contents when called (a GPU enqueues the copy at once), so that the
   * caller may free the buffer before the promise resolves.
   */
  readonly syncReads?: boolean;
  /** False where float64 buffers are refused (WGSL has no f64): wide accumulations use float32 there. Absent = true. */
  readonly float64?: boolean;
  /** dtype and element count of a buffer. */
  dtypeOf(handle: Handle): DType;
  sizeOf(handle: Handle): number;
  /** Releases a buffer; it must not be used afterwards. */
  free(handle: Handle): void;
  /**
   * Every live buffer and its bytes, kernel outputs included, where the backend counts them
   * (strict, wasm, GPU). Garbage-collected CPU backends leave it out: tensors' buffers are
   * counted by the tensor layer (`memory()` in the package entry) and the rest is ordinary garbage.
   */
  memory?(): MemoryInfo;
  /**
   * True when buffers are ordinary garbage-collected JS objects (the CPU backends' typed
   * arrays): `free` is then a no-op and the GC safety net holds only counts, never buffers.
   */
  readonly garbageCollected?: boolean;
  /**
   * On a garbage-collected backend, the handles that still need `free` (the wasm backend's
   * resident blocks of wasm memory, next to its plain arrays): their tensors call it as on any
   * other backend, and the GC safety net holds the handle (a small object) to free it. Absent =
   * none does.
   */
  needsFree?(handle: Handle): boolean;
  /**
   * A copy of a long-lived buffer (parameters, optimizer slots) placed where this backend's
   * kernels use it without a copy per call (the wasm backend's resident memory), or null when
   * it stays where it is. The tensor layer moves the buffer's storage to the copy (every tensor
   * sharing it follows); the old buffer is the caller's to drop. Absent = buffers never move.
   */
  persist?(handle: Handle): Handle | null;
  /** Free worker threads etc. Tensors stay readable. */
  dispose?(): void;
  /** A human-readable description (SIMD flavour, threads) for reports. */
  describe?(): string;
}
