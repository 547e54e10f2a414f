/**
 * The safetensors format (Hugging Face), so weights move between gradkit and the Python
 * ecosystem without pickle:
 *
 *   8 bytes   N, the header length, unsigned little-endian 64-bit
 *   N bytes   UTF-8 JSON: { name: { dtype, shape, data_offsets: [begin, end] }, ...,
 *                           "__metadata__"?: { string: string } }   (may end in padding spaces)
 *   rest      the data buffer; each tensor's raw little-endian bytes at [begin, end) of it
 *
 * Reading trusts nothing: every length, offset, dtype and shape is checked against the file
 * before a byte of tensor data is read, and the tensors must tile the buffer exactly (no
 * overlap, no hole, nothing unaccounted for). Any problem is a GradkitError naming the tensor;
 * nothing is returned half-loaded. Dtypes gradkit has no type for are widened on load (F16 and
 * BF16 to float32, small integers to int32; I64/U32/U64 only when every value fits in int32).
 *
 * gradkit's own files (model files) also carry a CRC-32C integrity record in `__metadata__`
 * (src/core/integrity.ts): written on request, verified on every load where present, and not
 * returned among the metadata.
 */
import type { DType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { INTEGRITY_KEY, checkIntegrity, integrityRecord, type IntegrityStatus } from '../core/integrity.js';
import { Tensor } from '../tensor/tensor.js';
import { findDuplicateKey } from './json-keys.js';
import { readSync } from '../tensor/host.js';

/** The header of a very large real model is a few MB; a corrupted length must not make us read or allocate gigabytes. */
const MAX_HEADER_BYTES = 100_000_000;

type Reader = (view: DataView, at: number) => number;

interface DtypeInfo {
  bytes: number;
  /** The gradkit dtype it loads as; null: known to safetensors but not loadable here. */
  as: DType | null;
  read?: Reader;
  /** Integer types wider than int32: values must be checked to fit. */
  checkInt32?: boolean;
}

function f16(view: DataView, at: number): number {
  const h = view.getUint16(at, true);
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

// bfloat16 is the top half of a float32.
const bf16Scratch = new DataView(new ArrayBuffer(4));
function bf16(view: DataView, at: number): number {
  bf16Scratch.setUint32(0, view.getUint16(at, true) << 16, true);
  return bf16Scratch.getFloat32(0, true);
}

const DTYPES: Record<string, DtypeInfo> = {
  F64: { bytes: 8, as: 'float64', read: (v, a) => v.getFloat64(a, true) },
  F32: { bytes: 4, as: 'float32', read: (v, a) => v.getFloat32(a, true) },
  F16: { bytes: 2, as: 'float32', read: f16 },
  BF16: { bytes: 2, as: 'float32', read: bf16 },
  I64: { bytes: 8, as: 'int32', read: (v, a) => Number(v.getBigInt64(a, true)), checkInt32: true },
  U64: { bytes: 8, as: 'int32', read: (v, a) => Number(v.getBigUint64(a, true)), checkInt32: true },
  I32: { bytes: 4, as: 'int32', read: (v, a) => v.getInt32(a, true) },
  U32: { bytes: 4, as: 'int32', read: (v, a) => v.getUint32(a, true), checkInt32: true },
  I16: { bytes: 2, as: 'int32', read: (v, a) => v.getInt16(a, true) },
  U16: { bytes: 2, as: 'int32', read: (v, a) => v.getUint16(a, true) },
  I8: { bytes: 1, as: 'int32', read: (v, a) => v.getInt8(a) },
  U8: { bytes: 1, as: 'int32', read: (v, a) => v.getUint8(a) },
  BOOL: { bytes: 1, as: 'bool', read: (v, a) => v.getUint8(a) },
  F8_E4M3: { bytes: 1, as: null },
  F8_E5M2: { bytes: 1, as: null },
  F8_E8M0: { bytes: 1, as: null },
};

const CODE_OF: Record<DType, string> = { float64: 'F64', float32: 'F32', int32: 'I32', bool: 'BOOL' };
const BYTES_OF: Record<DType, number> = { float64: 8, float32: 4, int32: 4, bool: 1 };

/** The string-to-string pairs of a safetensors file's `__metadata__`. */
export type SafetensorsMetadata = Record<string, string>;

/** A safetensors file as read: tensors by name, metadata, the original dtype codes and the integrity status. */
export interface SafetensorsContents {
  /** Tensors by name, in the order of their data in the file. */
  tensors: Record<string, Tensor>;
  /** The `__metadata__` string pairs ({} when the file has none). */
  metadata: SafetensorsMetadata;
  /** The dtype code each tensor had in the file ('F16', 'I64', ...), before widening. */
  storedDtypes: Record<string, string>;
  /** 'verified': the file carried a gradkit integrity record and every CRC matched; 'absent': it had none. */
  integrity: IntegrityStatus;
}

/** Options of writing a safetensors file: whether to add gradkit's integrity record. */
export interface SaveSafetensorsOptions {
  /** Add gradkit's CRC-32C integrity record to `__metadata__` (default false: plain safetensors). */
  integrity?: boolean;
}

/** Options of reading a safetensors file: the path named in errors. */
export interface LoadSafetensorsOptions {
  /** The file's path, put in front of every error. */
  path?: string;
}

/** Sets a key even if it is '__proto__' (plain assignment would change the prototype). */
function setOwn<V>(obj: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isHostLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/**
 * Encodes tensors (and optional string metadata) as safetensors bytes. float64 tensors come
 * first in the buffer, then 4-byte, then 1-byte types, so every tensor starts aligned to its
 * element size (readers can view it without copying).
 *
 * ```ts
 * const bytes = io.saveSafetensors({ 'fc.weight': w, 'fc.bias': b }, { framework: 'gradkit' });
 * ```
 */
export function saveSafetensors(tensors: Record<string, Tensor> | Map<string, Tensor>, metadata?: SafetensorsMetadata, opts: SaveSafetensorsOptions = {}): Uint8Array {
  const op = 'saveSafetensors';
  if (tensors === null || typeof tensors !== 'object') throw new GradkitError(op, `expected tensors as a Record or Map of name → Tensor, got ${tensors === null ? 'null' : typeof tensors}`);
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw new GradkitError(op, 'metadata must be an object of string → string');
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new GradkitError(op, `metadata '${k}' must be a string (safetensors allows only strings; JSON.stringify objects), got ${typeof v}`);
    }
    if (Object.prototype.hasOwnProperty.call(metadata, INTEGRITY_KEY)) throw new GradkitError(op, `metadata key '${INTEGRITY_KEY}' is reserved; pass { integrity: true } to have it written`);
  }
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new GradkitError(op, "no tensor may be called '__metadata__' (the name is reserved for metadata)");
    if (!(t instanceof Tensor)) throw new GradkitError(op, `'${name}' is not a Tensor (got ${t === null ? 'null' : typeof t})`);
  }
  if (!isHostLittleEndian()) throw new GradkitError(op, 'writing needs a little-endian host');
  const ordered = entries
    .map(([name, t], i) => ({ name, t, i }))
    .sort((a, b) => BYTES_OF[b.t.dtype] - BYTES_OF[a.t.dtype] || a.i - b.i);
  const header: Record<string, unknown> = {};
  const meta: SafetensorsMetadata = { ...metadata };
  if (Object.keys(meta).length > 0 || opts.integrity === true) setOwn(header, '__metadata__', meta);
  const layout = [];
  let offset = 0;
  for (const { name, t } of ordered) {
    const bytes = t.size * BYTES_OF[t.dtype];
    setOwn(header, name, { dtype: CODE_OF[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes] });
    layout.push({ name, dtype: CODE_OF[t.dtype], shape: [...t.shape], begin: offset, end: offset + bytes, t });
    offset += bytes;
  }
  if (opts.integrity === true) {
    const byName = new Map(layout.map((e) => [e.name, e.t]));
    const bytesOf = (name: string): Uint8Array => {
      const d = readSync(byName.get(name)!);
      return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    };
    setOwn(meta, INTEGRITY_KEY, integrityRecord(layout, { ...metadata }, bytesOf));
  }
  const enc = new TextEncoder();
  let json = enc.encode(JSON.stringify(header));
  // Pad with spaces so the data buffer starts 8-byte aligned in the file.
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const { t } of ordered) {
    const data = readSync(t);
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return out;
}

interface Entry {
  name: string;
  code: string;
  info: DtypeInfo;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Decodes safetensors bytes. Throws a GradkitError for a truncated file, a header length beyond
 * the file, a header that is not UTF-8 JSON, duplicate names, an unknown or unsupported dtype,
 * a bad shape, offsets out of range or not matching the shape, overlapping offsets, holes,
 * and a buffer longer than the tensors.
 *
 * ```ts
 * const { tensors, metadata } = io.loadSafetensors(bytes);
 * ```
 */
export function loadSafetensors(bytes: Uint8Array, opts: LoadSafetensorsOptions = {}): SafetensorsContents {
  const op = 'loadSafetensors';
  const where = opts.path === undefined ? '' : `${opts.path}: `;
  const fail = (msg: string): never => {
    throw new GradkitError(op, `${where}${msg}`);
  };
  if (!(bytes instanceof Uint8Array)) fail(`expected the file's bytes as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  if (bytes.length < 8) fail(`the file has ${bytes.length} bytes, fewer than the 8-byte header length (truncated)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) fail(`the header length ${n64} goes beyond the ${bytes.length - 8} bytes after it (truncated or corrupted file)`);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`the header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (n < 2) fail(`the header length is ${n}; a header is at least '{}'`);

  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('the header is not valid UTF-8');
  }
  if (text[0] !== '{') fail(`the header must be a JSON object starting with '{', got ${JSON.stringify(text.slice(0, 16))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object');
  const dup = findDuplicateKey(text);
  if (dup !== null) fail(`the header names ${dup} twice; names must be unique`);

  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: SafetensorsMetadata = {};
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) fail('__metadata__ must be an object of string → string');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') fail(`__metadata__ '${k}' must be a string, got ${s === null ? 'null' : typeof s}`);
        setOwn(metadata, k, s as string);
      }
      continue;
    }
    entries.push(parseEntry(name, v, dataLength, fail));
  }

  // The tensors must tile the buffer exactly: sorted by offset, each begins where the last ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev = '';
  for (const e of sorted) {
    if (e.begin < at) fail(`tensor '${e.name}' data_offsets [${e.begin}, ${e.end}] overlap tensor '${prev}', which ends at byte ${at}`);
    if (e.begin > at) fail(`tensor '${e.name}' starts at byte ${e.begin} but the data before it ends at ${at}: a hole of ${e.begin - at} unaccounted bytes`);
    at = e.end;
    prev = e.name;
  }
  if (at !== dataLength) fail(`the tensors cover ${at} bytes of the data buffer but it has ${dataLength} (trailing bytes that belong to no tensor)`);
  // Checked before a value is decoded: a damaged file never yields tensors.
  const layout = entries.map((e) => ({ name: e.name, dtype: e.code, shape: e.shape, begin: e.begin, end: e.end }));
  const integrity = checkIntegrity(layout, metadata, bytes.subarray(dataStart), fail);
  delete metadata[INTEGRITY_KEY];

  const tensors: Record<string, Tensor> = {};
  const storedDtypes: Record<string, string> = {};
  for (const e of sorted) {
    setOwn(tensors, e.name, decodeTensor(e, view, dataStart, fail));
    setOwn(storedDtypes, e.name, e.code);
  }
  return { tensors, metadata, storedDtypes, integrity };
}

function parseEntry(name: string, v: unknown, dataLength: number, fail: (msg: string) => never): Entry {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`tensor '${name}' must be an object { dtype, shape, data_offsets }, got ${JSON.stringify(v)}`);
  const e = v as Record<string, unknown>;
  const extra = Object.keys(e).filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
  if (extra.length > 0) fail(`tensor '${name}' has unknown field(s) ${extra.join(', ')}; expected only dtype, shape, data_offsets`);
  if (typeof e.dtype !== 'string') fail(`tensor '${name}' has no dtype string (got ${JSON.stringify(e.dtype)})`);
  const code = e.dtype as string;
  const info = Object.prototype.hasOwnProperty.call(DTYPES, code) ? DTYPES[code] : undefined;
  if (info === undefined) fail(`tensor '${name}' has unknown dtype '${code}'; known: ${Object.keys(DTYPES).join(', ')}`);
  if (info!.as === null) fail(`tensor '${name}' has dtype '${code}', which gradkit cannot load (no such element type); convert it to F32 first`);
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor '${name}' has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`);
  }
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(`tensor '${name}' has data_offsets ${JSON.stringify(offs)}; expected [begin, end], two non-negative integers`);
  }
  const [begin, end] = offs as [number, number];
  if (begin > end) fail(`tensor '${name}' has data_offsets [${begin}, ${end}] with begin after end`);
  if (end > dataLength) fail(`tensor '${name}' data_offsets [${begin}, ${end}] go beyond the ${dataLength}-byte data buffer (truncated file?)`);
  // The size is checked against the (already bounded) byte span, so a huge shape cannot overflow into a match.
  let size = 1;
  for (const d of shape as number[]) size *= d;
  const need = size * info!.bytes;
  if (need !== end - begin) fail(`tensor '${name}' (${code} ${fmtShape(shape as number[])}) needs ${need} bytes but its data_offsets [${begin}, ${end}] span ${end - begin}`);
  return { name, code, info: info!, shape: shape as number[], begin, end };
}

function decodeTensor(e: Entry, view: DataView, dataStart: number, fail: (msg: string) => never): Tensor {
  const size = (e.end - e.begin) / e.info.bytes;
  const at = dataStart + e.begin;
  const as = e.info.as as DType;
  const read = e.info.read as Reader;
  // Fast path: same element type on a little-endian host is a byte copy (into a fresh, aligned buffer).
  if (e.code === 'F32' || e.code === 'F64' || e.code === 'I32') {
    if (isHostLittleEndian()) {
      const chunk = new Uint8Array(view.buffer, view.byteOffset + at, e.end - e.begin).slice();
      const data = e.code === 'F32' ? new Float32Array(chunk.buffer) : e.code === 'F64' ? new Float64Array(chunk.buffer) : new Int32Array(chunk.buffer);
      return Tensor.fromArray(data, e.shape);
    }
  }
  const out = as === 'float64' ? new Float64Array(size) : as === 'float32' ? new Float32Array(size) : as === 'int32' ? new Int32Array(size) : new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    const x = read(view, at + i * e.info.bytes);
    if (e.info.checkInt32 && (x > 2147483647 || x < -2147483648)) fail(`tensor '${e.name}' (${e.code}) holds ${x} at element ${i}, which does not fit in int32`);
    if (as === 'bool' && x > 1) fail(`tensor '${e.name}' (BOOL) holds byte ${x} at element ${i}; booleans must be 0 or 1`);
    out[i] = x;
  }
  return Tensor.fromArray(out, e.shape);
}
