/**
 * The integrity record of gradkit's tensor files (checkpoints, model files): CRC-32C checksums
 * stored as JSON in the safetensors `__metadata__` under 'gradkit.integrity', so a file damaged
 * after it was written (a flipped bit on disk, a hand edit of a counter) is refused on load
 * instead of silently giving wrong weights.
 *
 *   { "algorithm": "crc32c",
 *     "layout":   "<crc>",              the tensor table (names, dtypes, shapes, offsets) and the metadata keys
 *     "metadata": { key: "<crc>" },     each metadata value (UTF-8)
 *     "tensors":  { name: "<crc>" } }   each tensor's bytes in the data block
 *
 * CRCs are 8 lowercase hex digits. CRC-32C detects every error burst up to 32 bits, so every
 * single changed byte in a tensor or a metadata value is caught, not just most. The record does
 * not checksum the header's JSON text itself (it lives inside it), but everything the header
 * means; the record is checked to be in its canonical form, so no byte of it can change unseen.
 * The 8-byte length prefix and padding are structure: a change there breaks the parse.
 */
import { crc32c } from './crc32c.js';
import { GradkitError } from './errors.js';

export const INTEGRITY_KEY = 'gradkit.integrity';
const ALGORITHM = 'crc32c';

/** One tensor's entry in the header: offsets relative to the data block. */
export interface LayoutEntry {
  name: string;
  dtype: string;
  shape: readonly number[];
  begin: number;
  end: number;
}

interface IntegrityRecord {
  algorithm: string;
  layout: string;
  metadata: Record<string, string>;
  tensors: Record<string, string>;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const hex = (n: number): string => n.toString(16).padStart(8, '0');
const enc = new TextEncoder();

/** Independent of key order in the file: JSON.parse puts integer-like names first. */
function layoutCrc(entries: readonly LayoutEntry[], metadataKeys: readonly string[]): string {
  const table = [...entries].sort((a, b) => byCodeUnit(a.name, b.name)).map((e) => [e.name, e.dtype, [...e.shape], e.begin, e.end]);
  const keys = metadataKeys.filter((k) => k !== INTEGRITY_KEY).sort(byCodeUnit);
  return hex(crc32c(enc.encode(JSON.stringify([table, keys]))));
}

/** Builds the record's JSON string for a file about to be written; `bytesOf` gives a tensor's raw bytes. */
export function integrityRecord(entries: readonly LayoutEntry[], metadata: Record<string, string>, bytesOf: (name: string) => Uint8Array): string {
  // defineProperty, not assignment: a name like '__proto__' must become a key, not a prototype.
  const setOwn = (o: Record<string, string>, k: string, v: string): void => void Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  const meta: Record<string, string> = {};
  for (const k of Object.keys(metadata).sort(byCodeUnit)) if (k !== INTEGRITY_KEY) setOwn(meta, k, hex(crc32c(enc.encode(metadata[k]))));
  const tensors: Record<string, string> = {};
  for (const e of entries) setOwn(tensors, e.name, hex(crc32c(bytesOf(e.name))));
  const record: IntegrityRecord = { algorithm: ALGORITHM, layout: layoutCrc(entries, Object.keys(metadata)), metadata: meta, tensors };
  return JSON.stringify(record);
}

const HEX8 = /^[0-9a-f]{8}$/;

function parseRecord(text: string, fail: (msg: string) => never): IntegrityRecord {
  const bad = (why: string): never => fail(`the integrity record '__metadata__.${INTEGRITY_KEY}' is damaged (${why}; file corrupt)`);
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    bad('not JSON');
  }
  const o = r as Record<string, unknown>;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) bad('not an object');
  if (o.algorithm !== ALGORITHM) bad(`algorithm ${JSON.stringify(o.algorithm)}, expected "${ALGORITHM}"`);
  if (typeof o.layout !== 'string' || !HEX8.test(o.layout)) bad('no layout CRC');
  for (const k of ['metadata', 'tensors']) {
    const m = o[k] as Record<string, unknown>;
    if (m === null || typeof m !== 'object' || Array.isArray(m) || !Object.values(m).every((v) => typeof v === 'string' && HEX8.test(v))) bad(`'${k}' is not a map of 8-digit hex CRCs`);
  }
  // Only the canonical spelling is accepted, so no byte of the record can change without notice.
  if (JSON.stringify(o) !== text) bad('not in its canonical form');
  return o as unknown as IntegrityRecord;
}

/**
 * Verifies a decoded header and data block against the record (`metadata` still holds it).
 * Order: the record's own form, the layout, each metadata value, then each tensor (first
 * mismatch wins). `describe` adds what a metadata key holds to its error (e.g. the counters).
 * Throws through `fail` with one line naming the tensor or entry.
 */
export function verifyIntegrity(
  entries: readonly LayoutEntry[],
  metadata: Record<string, string>,
  data: Uint8Array,
  fail: (msg: string) => never,
  describe: Record<string, string> = {},
): void {
  const record = parseRecord(metadata[INTEGRITY_KEY], fail);
  const corrupt = (what: string): never => fail(`${what} fails its CRC-32C check (file corrupt); nothing was loaded — restore the file from a copy or re-create it`);
  const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
  if (layoutCrc(entries, Object.keys(metadata)) !== record.layout) corrupt("the header's tensor table (names, dtypes, shapes, offsets)");
  const keys = Object.keys(metadata).filter((k) => k !== INTEGRITY_KEY);
  if (keys.length !== Object.keys(record.metadata).length || !keys.every((k) => own(record.metadata, k))) corrupt("the header's metadata keys");
  for (const k of keys) {
    if (hex(crc32c(enc.encode(metadata[k]))) !== record.metadata[k]) corrupt(`the header entry '${k}'${describe[k] === undefined ? '' : ` (${describe[k]})`}`);
  }
  if (entries.length !== Object.keys(record.tensors).length || !entries.every((e) => own(record.tensors, e.name))) corrupt("the header's tensor list");
  for (const e of entries) {
    if (hex(crc32c(data.subarray(e.begin, e.end))) !== record.tensors[e.name]) corrupt(`tensor '${e.name}'`);
  }
}

/** What a decoder found: 'verified' (record present and every CRC matched) or 'absent' (no record). */
export type IntegrityStatus = 'verified' | 'absent';

/** Verifies when the record is present; reports 'absent' otherwise (the caller decides whether that is allowed). */
export function checkIntegrity(
  entries: readonly LayoutEntry[],
  metadata: Record<string, string>,
  data: Uint8Array,
  fail: (msg: string) => never,
  describe?: Record<string, string>,
): IntegrityStatus {
  if (!Object.prototype.hasOwnProperty.call(metadata, INTEGRITY_KEY)) return 'absent';
  verifyIntegrity(entries, metadata, data, fail, describe);
  return 'verified';
}

/** A warning sink for files written before the record existed. */
export type OnWarning = (message: string) => void;

const warnedOnce = new Set<string>();

/** The default sink: console.warn, once per distinct message (the message names the file). */
export function warnOnce(message: string): void {
  if (warnedOnce.has(message)) return;
  warnedOnce.add(message);
  console.warn(message);
}

/** Throws when a record was required: the writer of this format always adds one. */
export function missingRecord(op: string, what: string, format: string): never {
  throw new GradkitError(op, `${what} is ${format} but has no integrity record ('__metadata__.${INTEGRITY_KEY}'); the header was damaged (file corrupt) — restore the file from a copy or re-create it`);
}
