/**
 * A safetensors-like container: 8-byte little-endian header length N, N bytes of JSON header,
 * then the raw tensor bytes. The header maps each tensor name to { dtype, shape, data_offsets }
 * (offsets relative to the start of the data block) and may carry `__metadata__`, a map of
 * strings. Decoding validates everything (lengths, dtypes, shapes, offsets that tile the data
 * block exactly) so a truncated or corrupted file fails with a message, never with garbage.
 * Tensor bytes are little-endian; the header is padded with spaces to a multiple of 8 bytes.
 * Every file written carries a CRC-32C integrity record (src/core/integrity.ts), verified on
 * decode whenever present.
 */
import { GradkitError } from '../core/errors.js';
import type { DataArray, DType } from '../core/dtype.js';
import { INTEGRITY_KEY, checkIntegrity, integrityRecord, type IntegrityStatus, type LayoutEntry } from '../core/integrity.js';

const OP = 'tensorFile';
const CODES: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };
const FROM_CODE: Record<string, DType> = { F32: 'float32', F64: 'float64', I32: 'int32', BOOL: 'bool' };
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };
/** Larger headers are refused: a corrupted length must not make us allocate gigabytes. */
const MAX_HEADER = 100 * 1024 * 1024;

/** One tensor as stored in a tensor file: dtype, shape and raw elements. */
export interface StoredTensor {
  dtype: DType;
  shape: number[];
  data: DataArray;
}

// Typed arrays use the host's byte order; every platform gradkit targets is little-endian.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function dtypeOf(a: DataArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}

/** Encodes named arrays (with shapes) and string metadata into one byte array, with its integrity record. */
export function encodeTensorFile(tensors: Map<string, { shape: readonly number[]; data: DataArray }>, metadata: Record<string, string> = {}): Uint8Array {
  if (!LITTLE_ENDIAN) throw new GradkitError(OP, 'writing needs a little-endian host');
  if (Object.prototype.hasOwnProperty.call(metadata, INTEGRITY_KEY)) throw new GradkitError(OP, `metadata key '${INTEGRITY_KEY}' is reserved (the encoder writes it)`);
  const header: Record<string, unknown> = { __metadata__: metadata };
  const layout: LayoutEntry[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new GradkitError(OP, "a tensor may not be called '__metadata__'");
    const dtype = dtypeOf(t.data);
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new GradkitError(OP, `tensor '${name}' has shape [${t.shape.join(', ')}] but ${t.data.length} values`);
    const bytes = t.data.length * BYTES[dtype];
    header[name] = { dtype: CODES[dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    layout.push({ name, dtype: CODES[dtype], shape: [...t.shape], begin: offset, end: offset + bytes });
    offset += bytes;
  }
  const bytesOf = (name: string): Uint8Array => {
    const d = tensors.get(name)!.data;
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  };
  header.__metadata__ = { ...metadata, [INTEGRITY_KEY]: integrityRecord(layout, metadata, bytesOf) };
  let json = JSON.stringify(header);
  const raw = new TextEncoder().encode(json);
  const padded = Math.ceil(raw.length / 8) * 8;
  json += ' '.repeat(padded - raw.length);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    const b = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(b, at);
    at += b.length;
  }
  return out;
}

export interface DecodedTensorFile {
  tensors: Map<string, StoredTensor>;
  /** The `__metadata__` strings, without the integrity record. */
  metadata: Record<string, string>;
  /** 'verified': the file had an integrity record and every CRC matched; 'absent': it had none (written before the check existed, or not by gradkit). */
  integrity: IntegrityStatus;
}

/**
 * Decodes bytes written by encodeTensorFile (or any safetensors file using F32/F64/I32/BOOL).
 * `describe` names what a metadata key holds, for the integrity error (e.g. the counters).
 */
export function decodeTensorFile(bytes: Uint8Array, what = 'file', describe?: Record<string, string>): DecodedTensorFile {
  const fail = (msg: string): never => {
    throw new GradkitError(OP, `${what} is not a valid tensor file: ${msg}`);
  };
  if (!(bytes instanceof Uint8Array)) fail(`expected bytes (Uint8Array), got ${typeof bytes}`);
  if (!LITTLE_ENDIAN) fail('reading needs a little-endian host');
  if (bytes.length < 8) fail(`it holds ${bytes.length} bytes, fewer than the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(Math.min(MAX_HEADER, bytes.length - 8))) fail(`the header length ${n64} exceeds the ${bytes.length - 8} bytes after it (truncated or corrupted)`);
  const n = Number(n64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object');
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: [string, StoredTensor & { begin: number; end: number }][] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) fail('__metadata__ must be an object of strings');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') fail(`__metadata__.${k} must be a string, got ${typeof s}`);
        metadata[k] = s as string;
      }
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e === null || typeof e !== 'object') fail(`entry '${name}' is not an object`);
    const dtype = FROM_CODE[String(e.dtype)];
    if (dtype === undefined) fail(`tensor '${name}' has dtype ${JSON.stringify(e.dtype)}; expected one of ${Object.keys(FROM_CODE).join(', ')}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${name}' has shape ${JSON.stringify(e.shape)}; expected non-negative integers`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0) || offs[0] > offs[1]) {
      fail(`tensor '${name}' has data_offsets ${JSON.stringify(offs)}; expected [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = offs as [number, number];
    const shape = e.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== size * BYTES[dtype]) fail(`tensor '${name}' (${String(e.dtype)} [${shape.join(', ')}]) needs ${size * BYTES[dtype]} bytes but data_offsets span ${end - begin}`);
    if (end > dataLength) fail(`tensor '${name}' ends at byte ${end} but the data block has ${dataLength} bytes (truncated?)`);
    entries.push([name, { dtype, shape, data: new Uint8Array(0), begin, end }]);
  }
  // The tensors must tile the data block exactly: no overlap, no hole, nothing trailing.
  const sorted = [...entries].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let at = 0;
  for (const [name, e] of sorted) {
    if (e.begin !== at) fail(`tensor '${name}' starts at byte ${e.begin} but the previous tensor ends at ${at} (overlap or hole)`);
    at = e.end;
  }
  if (at !== dataLength) fail(`the tensors cover ${at} bytes but the data block has ${dataLength}`);
  const layout = entries.map(([name, e]) => ({ name, dtype: CODES[e.dtype], shape: e.shape, begin: e.begin, end: e.end }));
  const corrupt = (msg: string): never => {
    throw new GradkitError(OP, `${what}: ${msg}`);
  };
  const integrity = checkIntegrity(layout, metadata, bytes.subarray(dataStart), corrupt, describe);
  delete metadata[INTEGRITY_KEY];
  const tensors = new Map<string, StoredTensor>();
  for (const [name, e] of entries) {
    // Copy into a fresh, aligned buffer (the data block need not be aligned for Float64Array).
    const chunk = bytes.slice(dataStart + e.begin, dataStart + e.end);
    const data = e.dtype === 'float32' ? new Float32Array(chunk.buffer) : e.dtype === 'float64' ? new Float64Array(chunk.buffer) : e.dtype === 'int32' ? new Int32Array(chunk.buffer) : chunk;
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata, integrity };
}
