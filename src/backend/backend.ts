import type { DataArray, DType } from '../core/dtype.js';
import type { Kernels } from './kernels.js';

/**
 * A backend: where tensor buffers live and which code runs kernels. CPU backends keep buffers
 * as typed arrays in JS memory (so the garbage collector frees them); a GPU backend would hand
 * out its own buffers and override read/readSync.
 */
export interface Backend {
  readonly name: string;
  readonly kernels: Kernels;
  alloc(dtype: DType, size: number): DataArray;
  /** Reads a buffer back (async so that a GPU backend can download). */
  read(buffer: DataArray): Promise<DataArray>;
  /** Synchronous read; CPU backends only. */
  readSync(buffer: DataArray): DataArray;
  /** Free worker threads etc. Tensors stay readable. */
  dispose?(): void;
  /** A human-readable description (SIMD flavour, threads) for reports. */
  describe?(): string;
}
