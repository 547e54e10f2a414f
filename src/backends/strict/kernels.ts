import { dtypeOfArray, type DataArray } from '../../core/dtype.js';
import { GradkitError } from '../../core/errors.js';
import type { Kernels } from '../../backend/kernels.js';
import { unwrapBuffer } from './buffer.js';

/** What the kernel wrapper needs from its backend: who owns the handles, and how outputs become handles. */
export interface KernelHost {
  readonly owner: object;
  /** Adopts a kernel's fresh output array as a new counted buffer. */
  adopt(data: DataArray): unknown;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/**
 * True for an argument that holds buffers (concat's inputs) rather than numbers (a shape, a
 * permutation, pad widths): any element that is an object other than a nested number array.
 */
const isBufferList = (v: readonly unknown[]): boolean =>
  v.some((e) => e !== null && typeof e === 'object' && !Array.isArray(e));

/**
 * Classifies one kernel argument and unwraps it. Kernel arguments are, by the Kernels contract,
 * buffers (or null for optional ones, or arrays of buffers), numbers, strings, booleans, number
 * arrays (shapes, axes, pads) and plain parameter objects (MatmulParams...). Anything else that
 * is an object (a typed array, another backend's handle object) stands where a buffer belongs —
 * host data has no place in a kernel call — and is refused with the kernel and position named.
 */
function unwrapArg(host: KernelHost, kernel: string, pos: number, arg: unknown, inputs: DataArray[]): unknown {
  const where = `kernel ${kernel}, argument ${pos}`;
  if (arg === null || arg === undefined || typeof arg !== 'object') return arg;
  if (Array.isArray(arg)) {
    if (!isBufferList(arg)) return arg;
    return arg.map((h, j) => {
      const data = unwrapBuffer(host.owner, h, `${where}[${j}]`);
      inputs.push(data);
      return data;
    });
  }
  // Parameter objects (MatmulParams, Conv2dParams...) hold only numbers and flags; a plain object
  // holding anything else stands where a buffer belongs (another backend's handle record).
  if (isPlainObject(arg) && Object.values(arg).every((v) => v === null || typeof v !== 'object')) return arg;
  const data = unwrapBuffer(host.owner, arg, where);
  inputs.push(data);
  return data;
}

/** Turns every typed array in a kernel's result (alone, or as fields of a result object) into a new handle. */
function wrapResult(host: KernelHost, kernel: string, result: unknown, inputs: readonly DataArray[]): unknown {
  const adopt = (data: DataArray, field: string): unknown => {
    // The contract says outputs are new buffers the caller owns; an output that is an input's
    // array would make two handles share values (and a free of one break the other).
    if (inputs.includes(data)) {
      throw new GradkitError('strict backend', `kernel ${kernel} returned one of its input buffers${field} instead of a new buffer`);
    }
    dtypeOfArray(data);
    return host.adopt(data);
  };
  if (ArrayBuffer.isView(result)) return adopt(result as DataArray, '');
  if (Array.isArray(result)) return result.map((r, i) => (ArrayBuffer.isView(r) ? adopt(r as DataArray, ` (element ${i})`) : r));
  if (isPlainObject(result)) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(result)) {
      out[key] = ArrayBuffer.isView(value) ? adopt(value as DataArray, ` (field ${key})`) : value;
    }
    return out;
  }
  return result; // in-place kernels: undefined (copyInto) or a boolean (the optional fused optimizer steps)
}

/**
 * The given typed-array kernels behind strict handles: every handle argument (arrays of handles
 * and null included) is checked and unwrapped, every typed-array output wrapped in a new counted
 * handle. Generic over the table, so a kernel added to the reference backend is strict at once.
 */
export function strictKernels(host: KernelHost, kernels: Kernels<DataArray>): Kernels {
  const table: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(kernels) as [string, unknown][]) {
    if (typeof fn !== 'function') continue;
    const impl = fn as (...args: unknown[]) => unknown;
    table[name] = (...args: unknown[]): unknown => {
      const inputs: DataArray[] = [];
      const raw = args.map((a, i) => unwrapArg(host, name, i + 1, a, inputs));
      return wrapResult(host, name, impl.apply(kernels, raw), inputs);
    };
  }
  return table as unknown as Kernels;
}
