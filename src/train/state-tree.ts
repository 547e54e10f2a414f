/**
 * Turns a training state (nested objects, arrays, numbers, strings, Maps, typed arrays, Tensors)
 * into JSON plus a list of binary arrays, and back. Binary values become `{ $array: id }` /
 * `{ $tensor: id }` references so they can sit in a tensor file as raw bytes; Maps become
 * `{ $map: [[key, value], …] }`; NaN and ±Infinity (an RNG's empty normal slot, a "best so far"
 * that starts at Infinity) become `{ $num: 'NaN' }` because JSON cannot hold them.
 */
import { GradkitError } from '../core/errors.js';
import type { DataArray } from '../core/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { readSync } from '../tensor/host.js';

export interface PackedArray {
  shape: number[];
  data: DataArray;
}

const isTyped = (v: unknown): v is DataArray =>
  v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array || v instanceof Uint8Array;

/** Packs `value`; binary leaves are added to `arrays` under `${prefix}${n}` names. */
export function packState(value: unknown, arrays: Map<string, PackedArray>, prefix: string, path = 'state'): unknown {
  if (value instanceof Tensor) {
    const id = `${prefix}${arrays.size}`;
    arrays.set(id, { shape: [...value.shape], data: readSync(value).slice() });
    return { $tensor: id };
  }
  if (isTyped(value)) {
    const id = `${prefix}${arrays.size}`;
    arrays.set(id, { shape: [value.length], data: value.slice() });
    return { $array: id };
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : { $num: String(value) };
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Map) {
    return { $map: [...value].map(([k, v]) => [k, packState(v, arrays, prefix, `${path}.${String(k)}`)]) };
  }
  if (Array.isArray(value)) return value.map((v, i) => packState(v, arrays, prefix, `${path}[${i}]`));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k.startsWith('$')) throw new GradkitError('packState', `${path} has key '${k}'; keys starting with '$' are reserved`);
      if (v === undefined) continue;
      out[k] = packState(v, arrays, prefix, `${path}.${k}`);
    }
    return out;
  }
  throw new GradkitError('packState', `${path} is a ${typeof value}, which a checkpoint cannot hold`);
}

/** Inverse of packState: resolves references against the decoded arrays. */
export function unpackState(json: unknown, arrays: Map<string, PackedArray>, path = 'state'): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) return json.map((v, i) => unpackState(v, arrays, `${path}[${i}]`));
  const o = json as Record<string, unknown>;
  const ref = (key: string): PackedArray => {
    const a = arrays.get(String(o[key]));
    if (a === undefined) throw new GradkitError('unpackState', `${path} refers to array '${String(o[key])}', which the checkpoint does not hold`);
    return a;
  };
  if ('$tensor' in o) {
    const a = ref('$tensor');
    return Tensor.fromArray(a.data, a.shape);
  }
  if ('$array' in o) return ref('$array').data;
  if ('$num' in o) return Number(o.$num);
  if ('$map' in o) {
    if (!Array.isArray(o.$map)) throw new GradkitError('unpackState', `${path}.$map must be an array of [key, value] pairs`);
    return new Map((o.$map as [string, unknown][]).map(([k, v]) => [k, unpackState(v, arrays, `${path}.${k}`)]));
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = unpackState(v, arrays, `${path}.${k}`);
  return out;
}
