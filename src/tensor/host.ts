import type { DataArray } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Handle } from '../backend/handle.js';
import { getBackend, withBackend } from '../backend/registry.js';
import { Tensor } from './tensor.js';
import { tensorMemory } from './storage.js';
import type { Awaitable } from '../core/awaitable.js';
import { deferCheck } from './deferred-checks.js';
import { keep } from './lifetime.js';

/**
 * The one place where code outside the backends touches tensor values on the host. Everything
 * else passes opaque handles to kernels; a call here is a visible host round-trip (a download
 * on a GPU), so hot paths (every step, every batch) should not need one.
 */

/**
 * The values of `t`, synchronously, on CPU backends (a GPU backend throws naming `await t.data()`).
 * May be the backend's own storage: read it, never write it (write with `t.assign`).
 */
export function readSync(t: Tensor): DataArray {
  const copy = hostCopies?.get(t.ownHandle);
  return copy !== undefined ? copy : t.backend.readSync(t.ownHandle);
}

/** Host copies that readSync answers from while withHostCopies runs (GPU tensors only). */
let hostCopies: Map<Handle, DataArray> | null = null;

/**
 * Downloads `tensors` (all reads issued at once, one round-trip), then runs `fn` with readSync
 * answering for exactly those tensors from the copies: synchronous code that reads a fixed set
 * of tensors (checkpoint encoding, state dicts) runs unchanged over GPU tensors. On CPU backends
 * nothing is copied. Tensors outside the set still refuse readSync on a GPU.
 */
export async function withHostCopies<T>(tensors: Iterable<Tensor>, fn: () => T): Promise<T> {
  const pending = new Map<Handle, Promise<DataArray>>();
  for (const t of tensors) if (!canReadSync(t) && !pending.has(t.ownHandle)) pending.set(t.ownHandle, t.backend.read(t.ownHandle));
  const handles = [...pending.keys()];
  const values = await Promise.all(pending.values());
  const before = hostCopies;
  const copies = new Map(before ?? []);
  handles.forEach((h, i) => copies.set(h, values[i]));
  hostCopies = copies;
  try {
    return fn();
  } finally {
    hostCopies = before;
  }
}

/** The values of `t` as a new array (downloads on a GPU backend; settles deferred input checks). */
export function read(t: Tensor): Promise<DataArray> {
  return t.data();
}

/** True when `t`'s backend (or the current one) reads synchronously: every CPU backend, no GPU one. */
export function canReadSync(t?: Tensor): boolean {
  return (t?.backend ?? getBackend()).syncReads !== false;
}

/**
 * The values of `t` now on a CPU backend (read-only, as readSync), a promise of them on a GPU
 * backend. Per-step code written with `andThen` (src/core/awaitable.ts) stays synchronous on
 * the CPU and becomes a hook the Trainer awaits on a GPU. The read is issued before this
 * returns, so `t` may be disposed at once.
 */
export function readNow(t: Tensor): Awaitable<DataArray> {
  return canReadSync(t) ? readSync(t) : read(t);
}

/**
 * An input check whose verdict a kernel computed into `flags`: `failed(flags)` says whether the
 * input is bad, `message(flags, extras)` words the error (the extras, e.g. the labels, are read
 * only then). A CPU backend reads and throws now; a GPU backend keeps views of the tensors and
 * throws at the next asynchronous read (see deferred-checks.ts).
 */
export function checkOnDevice(
  op: string,
  flags: Tensor,
  extras: readonly Tensor[],
  verdict: { failed: (flags: DataArray) => boolean; message: (flags: DataArray, extras: DataArray[]) => string },
): void {
  if (canReadSync(flags)) {
    const f = readSync(flags);
    if (verdict.failed(f)) throw new GradkitError(op, verdict.message(f, extras.map(readSync)));
    return;
  }
  const held = [flags, ...extras].map((t) => keep(t.view(t.shape)));
  deferCheck({
    op,
    verdict: async () => {
      const reads = held.map((t) => t.backend.read(t.ownHandle));
      for (const t of held) t.dispose();
      const [f, ...rest] = await Promise.all(reads);
      return verdict.failed(f) ? verdict.message(f, rest) : null;
    },
  });
}

/**
 * `t` on the named backend (PyTorch's `.to(device)`): `t` itself when it is there already, else
 * a copy uploaded from its values (`t` must be readable synchronously: a CPU backend).
 */
export function toBackend(t: Tensor, backend: string): Tensor {
  if (t.backend === withBackend(backend, getBackend)) return t;
  const values = readSync(t).slice();
  return withBackend(backend, () => Tensor.fromArray(values, t.shape));
}

/** The single value of a one-element tensor. */
export function item(t: Tensor): number {
  if (t.size !== 1) throw new GradkitError('item', `only one-element tensors can be converted to a number; shape is ${fmtShape(t.shape)}`);
  return readSync(t)[0];
}

/** Overwrites t's values from the host (same count). */
export function write(t: Tensor, values: ArrayLike<number>): Tensor {
  return t.assign(values);
}

/** A tensor holding `data` on the current backend (adopts the array on CPU backends: do not change it afterwards). */
export function fromArray(data: DataArray, shape: Shape = [data.length], opts: { requiresGrad?: boolean; name?: string } = {}): Tensor {
  return Tensor.fromArray(data, shape, opts);
}

/** Live memory on the current backend: tensor buffers, and every buffer where the backend counts them. */
export interface MemoryReport {
  backend: string;
  /** Buffers held by tensors that are neither disposed nor garbage-collected. */
  tensorBuffers: number;
  tensorBytes: number;
  /** Every live buffer the backend holds (kernel outputs in flight included), where it counts them. */
  backendBuffers?: number;
  backendBytes?: number;
}

/** How much memory tensors hold now on the current backend (see MemoryReport). */
export function memory(): MemoryReport {
  const backend = getBackend();
  const tensors = tensorMemory(backend);
  const report: MemoryReport = { backend: backend.name, tensorBuffers: tensors.buffers, tensorBytes: tensors.bytes };
  const own = backend.memory?.();
  if (own !== undefined) {
    report.backendBuffers = own.buffers;
    report.backendBytes = own.bytes;
  }
  return report;
}
