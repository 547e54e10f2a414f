import { BYTES_PER_ELEMENT, type DType } from '../core/dtype.js';
import type { Backend, MemoryInfo } from '../backend/backend.js';
import type { Handle } from '../backend/handle.js';

/**
 * One backend buffer shared by the tensors that alias it (a tensor and its detach(), reshape
 * views...), with a reference count: the buffer is freed when the last of them is disposed,
 * leaves a scope, or is garbage-collected (the FinalizationRegistry in tensor.ts is the safety
 * net). The ledger counts live tensor buffers per backend for `memory()`.
 */
export class Storage {
  private refs = 1;

  constructor(
    readonly backend: Backend,
    readonly handle: Handle,
    readonly dtype: DType,
    readonly size: number,
  ) {
    const entry = ledgerFor(backend);
    entry.buffers++;
    entry.bytes += size * BYTES_PER_ELEMENT[dtype];
  }

  get live(): boolean {
    return this.refs > 0;
  }

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (this.refs <= 0) return;
    if (--this.refs > 0) return;
    const entry = ledgerFor(this.backend);
    entry.buffers--;
    entry.bytes -= this.size * BYTES_PER_ELEMENT[this.dtype];
    this.backend.free(this.handle);
  }
}

const ledger = new Map<Backend, MemoryInfo>();

function ledgerFor(backend: Backend): MemoryInfo {
  let entry = ledger.get(backend);
  if (entry === undefined) {
    entry = { buffers: 0, bytes: 0 };
    ledger.set(backend, entry);
  }
  return entry;
}

/** Live tensor buffers on `backend` (tensors not yet disposed or collected) and their bytes. */
export function tensorMemory(backend: Backend): MemoryInfo {
  const entry = ledger.get(backend);
  return entry === undefined ? { buffers: 0, bytes: 0 } : { ...entry };
}
