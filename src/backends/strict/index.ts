import { allocArray, dtypeOfArray, type DataArray, type DType } from '../../core/dtype.js';
import { GradkitError } from '../../core/errors.js';
import type { Backend, MemoryInfo } from '../../backend/backend.js';
import type { Handle } from '../../backend/handle.js';
import { registerBackend } from '../../backend/registry.js';
import { referenceKernels } from '../reference/index.js';
import { StrictBuffer, checkBuffer, toHandle, unwrapBuffer } from './buffer.js';
import { strictKernels } from './kernels.js';

/**
 * The strict backend: the reference kernels behind real opaque handles, for tests. It is what a
 * GPU backend looks like to the rest of gradkit — values reachable only through the Backend
 * interface, every buffer freed explicitly — with checks a GPU would not make: a kernel given a
 * host array, another backend's handle or a freed handle throws naming the kernel and argument;
 * readSync/read return copies (so writing into them has no effect, and tests catch code that
 * tries); upload/write copy; every live buffer is counted. Run any suite on it with
 * GRADKIT_BACKEND=strict (`npm run test:backends`). Never the default (priority below reference).
 */

/** Allocation counters of a strict backend since it was created. */
export interface StrictStats {
  /** Buffers ever allocated (alloc, upload, kernel outputs). */
  allocations: number;
  frees: number;
  /** Live buffers and bytes now (same as memory()). */
  buffers: number;
  bytes: number;
  /** Most live buffers / bytes at any moment. */
  peakBuffers: number;
  peakBytes: number;
}

/** The strict test backend: reference kernels behind opaque, counted handles (see src/backend/README.md). */
export interface StrictBackend extends Backend {
  readonly name: 'strict';
  /** Every buffer not yet freed (tensor buffers and kernel outputs in flight alike) and its bytes. */
  memory(): MemoryInfo;
  stats(): StrictStats;
}

/** Options of createStrictBackend. */
export interface StrictOptions {
  /**
   * Read like a GPU: `readSync` throws and `syncReads` is false, so every per-step read goes
   * the asynchronous way (hooks the Trainer awaits, checks settled at the next read). Tests run
   * the GPU code paths on the CPU with it, against the same reference kernels.
   */
  asyncReads?: boolean;
}

/** A new strict backend instance (handles from another instance are refused). */
export function createStrictBackend(opts: StrictOptions = {}): StrictBackend {
  const asyncReads = opts.asyncReads === true;
  // Identity of this instance: handles of another strict backend are refused.
  const owner = {};
  const counts = { allocations: 0, frees: 0, buffers: 0, bytes: 0, peakBuffers: 0, peakBytes: 0 };

  const adopt = (data: DataArray): Handle => {
    const b = new StrictBuffer(owner, dtypeOfArray(data), data.length, data);
    counts.allocations++;
    counts.buffers++;
    counts.bytes += b.bytes;
    counts.peakBuffers = Math.max(counts.peakBuffers, counts.buffers);
    counts.peakBytes = Math.max(counts.peakBytes, counts.bytes);
    return toHandle(b);
  };

  return {
    name: 'strict',
    kernels: strictKernels({ owner, adopt }, referenceKernels),
    alloc: (dtype: DType, size: number) => adopt(allocArray(dtype, size)),
    upload(data: DataArray) {
      if (!ArrayBuffer.isView(data)) {
        throw new GradkitError('strict backend', `upload got ${data === null ? 'null' : typeof data}, not a typed array`);
      }
      // A copy, so a caller that changes its array after uploading (against the contract) is caught by the tests.
      return adopt(data.slice());
    },
    write(handle: Handle, data: ArrayLike<number>) {
      const dst = unwrapBuffer(owner, handle, 'write');
      if (data.length !== dst.length) {
        throw new GradkitError('strict backend', `write: ${data.length} values into a buffer of ${dst.length}`);
      }
      dst.set(data);
    },
    read: async (handle: Handle) => unwrapBuffer(owner, handle, 'read').slice(),
    // A copy: code that writes into readSync's result (instead of t.assign) has no effect here.
    readSync: (handle: Handle) => {
      if (asyncReads) throw new GradkitError('readSync', 'this strict backend reads asynchronously only, like a GPU; use `await t.data()`');
      return unwrapBuffer(owner, handle, 'readSync').slice();
    },
    syncReads: !asyncReads,
    // The tensor constructor asks dtypeOf first: a host array passed to new Tensor()/wrap() lands here.
    dtypeOf: (handle: Handle) => checkBuffer(owner, handle, 'dtypeOf (new Tensor/wrap of a kernel output)').dtype,
    sizeOf: (handle: Handle) => checkBuffer(owner, handle, 'sizeOf').size,
    free(handle: Handle) {
      if (handle instanceof StrictBuffer && handle.owner === owner && handle.freed) {
        throw new GradkitError('strict backend', `free got ${handle} a second time (double free: two owners think they hold it)`);
      }
      const b = checkBuffer(owner, handle, 'free');
      b.markFreed();
      counts.frees++;
      counts.buffers--;
      counts.bytes -= b.bytes;
    },
    memory: () => ({ buffers: counts.buffers, bytes: counts.bytes }),
    stats: () => ({ ...counts }),
    describe: () => `strict (reference kernels behind checked opaque handles${asyncReads ? ', asynchronous reads only' : ''}; for tests)`,
  };
}

/** True for a backend made by createStrictBackend (e.g. `getBackend()` under GRADKIT_BACKEND=strict). */
export function isStrictBackend(b: Backend): b is StrictBackend {
  return b.name === 'strict' && typeof (b as Partial<StrictBackend>).stats === 'function';
}

// Below reference (0): only chosen by name (setBackend('strict'), GRADKIT_BACKEND=strict).
// The asynchronous variant is not registered: suites that loop over every backend read
// synchronously. Tests register it under their own name (test/train/async-reads.test.ts).
registerBackend('strict', () => createStrictBackend(), -10);
