import { allocArray, dtypeOfArray, type DataArray, type DType } from '../../core/dtype.js';
import type { Backend } from '../../backend/backend.js';
import type { Handle } from '../../backend/handle.js';
import type { Kernels } from '../../backend/kernels.js';
import { Resident, ScratchFull, type Buf, type WasmRuntime } from './runtime.js';

/**
 * The wasm backend's two kinds of buffer (see index.ts): a plain typed array, GC-owned as on the
 * reference backend, or a Resident block of wasm memory, which the wasm fast kernels produce and
 * take by address. This file is where the two meet the rest of the backend:
 *
 * - `residentKernels` wraps the kernel table once. Kernels that know resident blocks (the wasm
 *   fast kernels, listed in `aware`) get handles as they are; every other kernel (reference, JS
 *   fast paths) gets arrays: a resident block becomes a view of its memory, made at the call
 *   (memory.grow replaces the buffer, so a view is never kept). Results that alias wasm memory
 *   (a kernel returning a view it was given) are copied out, so a plain array never points into
 *   a block that will be freed. A fast kernel that finds no scratch memory (ScratchFull, the
 *   2 GiB cap) reruns on its reference kernel.
 * - `residentBuffers` is the buffer half of the Backend: resident blocks are freed (returned to
 *   the heap) by backend.free, which scopes, dispose and the GC safety net call.
 */
const asBuf = (h: Handle): Buf => h as unknown as Buf;
const asHandle = (b: Buf): Handle => b as unknown as Handle;

type AnyKernel = (...args: unknown[]) => unknown;

export function residentKernels(rt: WasmRuntime, kernels: Record<string, unknown>, aware: ReadonlySet<string>, fallback: Record<string, unknown>): Kernels {
  const memory = rt.memory;
  const toArray = (v: unknown): unknown => {
    if (v instanceof Resident) return rt.residentView(v);
    if (Array.isArray(v) && v.some((e) => e instanceof Resident)) return v.map((e) => (e instanceof Resident ? rt.residentView(e) : e));
    return v;
  };
  const own = (v: unknown): unknown => {
    if (ArrayBuffer.isView(v)) {
      const buf = (v as DataArray).buffer;
      return buf === memory.buffer || (typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer) ? (v as DataArray).slice() : v;
    }
    if (v !== null && typeof v === 'object' && !(v instanceof Resident) && Object.getPrototypeOf(v) === Object.prototype) {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) o[k] = own(o[k]);
    }
    return v;
  };
  const out: Record<string, unknown> = {};
  for (const [name, k] of Object.entries(kernels)) {
    if (typeof k !== 'function') {
      out[name] = k;
      continue;
    }
    const kernel = k as AnyKernel;
    if (aware.has(name)) {
      const ref = fallback[name] as AnyKernel;
      out[name] = (...args: unknown[]) => {
        try {
          return own(kernel(...args));
        } catch (e) {
          if (!(e instanceof ScratchFull)) throw e;
          rt.reset();
          return own(ref(...args.map(toArray)));
        }
      };
    } else {
      out[name] = (...args: unknown[]) => own(kernel(...args.map(toArray)));
    }
  }
  return out as unknown as Kernels;
}

/** The buffer half of the wasm backend: plain arrays as on the CPU backends, plus resident blocks. */
export function residentBuffers(rt: WasmRuntime): Omit<Backend, 'name' | 'kernels'> {
  const array = (h: Handle): DataArray => rt.array(asBuf(h));
  return {
    // Plain arrays are garbage: free is asked only for the handles needsFree names.
    garbageCollected: true,
    needsFree: (h: Handle) => asBuf(h) instanceof Resident,
    alloc: (dtype: DType, size: number) => asHandle(allocArray(dtype, size)),
    upload: (data: DataArray) => asHandle(data),
    write(handle: Handle, data: ArrayLike<number>) {
      array(handle).set(data);
    },
    read: async (handle: Handle) => array(handle).slice(),
    // A resident block is copied out: the caller may keep the result past the block's free.
    readSync: (handle: Handle) => {
      const b = asBuf(handle);
      return b instanceof Resident ? rt.residentView(b).slice() : b;
    },
    dtypeOf: (handle: Handle) => {
      const b = asBuf(handle);
      return b instanceof Resident ? b.dtype : dtypeOfArray(b);
    },
    sizeOf: (handle: Handle) => asBuf(handle).length,
    persist: (handle: Handle) => {
      const r = rt.persist(asBuf(handle));
      return r === null ? null : asHandle(r);
    },
    free(handle: Handle) {
      const b = asBuf(handle);
      if (b instanceof Resident) rt.freeResident(b);
    },
  };
}
