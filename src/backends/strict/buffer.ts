import { BYTES_PER_ELEMENT, type DataArray, type DType } from '../../core/dtype.js';
import { GradkitError } from '../../core/errors.js';
import type { Handle } from '../../backend/handle.js';

/**
 * The strict backend's buffers: real opaque objects, unlike the CPU backends whose handles are
 * their typed arrays. The values sit in a module-private WeakMap, so nothing outside this folder
 * can reach them except through the Backend interface (which copies); a freed buffer loses its
 * values, so a use after free cannot silently read stale data.
 */
const arrays = new WeakMap<StrictBuffer, DataArray>();

let nextId = 1;

/** One live or freed buffer of a strict backend. Holds no values itself (see `arrays`). */
export class StrictBuffer {
  readonly id = nextId++;
  private isFreed = false;

  constructor(
    /** The strict backend instance that owns it (handles never cross instances). */
    readonly owner: object,
    readonly dtype: DType,
    readonly size: number,
    data: DataArray,
  ) {
    arrays.set(this, data);
  }

  get freed(): boolean {
    return this.isFreed;
  }

  get bytes(): number {
    return this.size * BYTES_PER_ELEMENT[this.dtype];
  }

  toString(): string {
    return `strict buffer #${this.id} (${this.dtype}[${this.size}]${this.isFreed ? ', freed' : ''})`;
  }

  /** Marks the buffer freed and drops its values. Only the owning backend calls this. */
  markFreed(): void {
    this.isFreed = true;
    arrays.delete(this);
  }
}

/** A strict buffer seen as the opaque Handle the rest of gradkit passes around. */
export const toHandle = (b: StrictBuffer): Handle => b as unknown as Handle;

/** Describes a value that was passed where a strict handle belongs, for error messages. */
function describe(value: unknown): string {
  if (ArrayBuffer.isView(value)) {
    return `a host ${value.constructor.name} (a plain array or a CPU backend's buffer), not a strict handle`;
  }
  if (value === null) return 'null, not a strict handle';
  if (typeof value !== 'object') return `${typeof value} ${String(value)}, not a strict handle`;
  const ctor = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return `${ctor ? `a ${ctor} object` : 'an object'} (another backend's handle?), not a strict handle`;
}

/**
 * The array behind a handle of `owner`, or one clear error naming `where` (a kernel and argument
 * position, or a backend method) when the value is not a strict handle, belongs to another strict
 * backend, or was freed.
 */
export function unwrapBuffer(owner: object, value: unknown, where: string): DataArray {
  if (!(value instanceof StrictBuffer)) {
    throw new GradkitError('strict backend', `${where} got ${describe(value)}`);
  }
  if (value.owner !== owner) {
    throw new GradkitError('strict backend', `${where} got ${value}, which belongs to another strict backend instance`);
  }
  const data = arrays.get(value);
  if (value.freed || data === undefined) {
    throw new GradkitError('strict backend', `${where} got ${value} after it was freed (use after free)`);
  }
  return data;
}

/** The handle behind a value passed to a backend method (dtypeOf, free...), checked like a kernel argument. */
export function checkBuffer(owner: object, value: unknown, where: string): StrictBuffer {
  unwrapBuffer(owner, value, where);
  return value as StrictBuffer;
}
