/**
 * Shared by the integrity tests: the legacy fixtures (test/fixtures/legacy/, written before the
 * integrity record existed), the same files re-written by today's encoders, and byte surgery on
 * the safetensors layout (8-byte header length, JSON header, data block).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, withBackend } from '../../src/index.js';
import { decodeCheckpoint, encodeCheckpoint, memoryStorage } from '../../src/train/index.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const LEGACY = path.join(ROOT, 'test/fixtures/legacy');

export function readLegacy(rel: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(path.join(LEGACY, rel)));
}

export interface Layout {
  /** Byte index where the data block starts (8 + header length). */
  dataStart: number;
  headerText: string;
  header: Record<string, unknown>;
  /** Tensors by name: absolute [begin, end) byte ranges in the file. */
  tensors: Map<string, { begin: number; end: number }>;
}

export function layout(bytes: Uint8Array): Layout {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  const header = JSON.parse(headerText) as Record<string, unknown>;
  const tensors = new Map<string, { begin: number; end: number }>();
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    const [b, e] = (v as { data_offsets: [number, number] }).data_offsets;
    tensors.set(k, { begin: 8 + n + b, end: 8 + n + e });
  }
  return { dataStart: 8 + n, headerText, header, tensors };
}

/** A copy with byte `at` XORed with `mask`. */
export function flip(bytes: Uint8Array, at: number, mask = 0x01): Uint8Array {
  const out = bytes.slice();
  out[at] ^= mask;
  return out;
}

/** A copy with one header substring replaced by another of the same byte length (the layout stays valid). */
export function replaceInHeader(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const { dataStart, headerText } = layout(bytes);
  const i = headerText.indexOf(from);
  if (i < 0) throw new Error(`'${from}' is not in the header`);
  const next = headerText.slice(0, i) + to + headerText.slice(i + from.length);
  const enc = new TextEncoder().encode(next);
  if (enc.length !== dataStart - 8) throw new Error('replacement changed the header length');
  const out = bytes.slice();
  out.set(enc, 8);
  return out;
}

/** The legacy checkpoint re-written by today's encoder. */
export function currentCheckpoint(): Uint8Array {
  // A file-format round trip: on a CPU backend whatever backend the suite runs on.
  return withBackend('reference', () => encodeCheckpoint(decodeCheckpoint(readLegacy('run/last.ckpt'), 'legacy last.ckpt', { onWarning: () => {} })));
}

/** The legacy model file re-written by today's saveModel (same architecture and weights). */
export function currentModelFile(): Uint8Array {
  const loaded = io.loadModel(readLegacy('model.safetensors'), { onWarning: () => {} });
  return io.saveModel(loaded.model, { architecture: loaded.architecture as unknown as io.Json, preprocessing: null });
}

/** A memory run folder 'run' (config, preprocessing, last.ckpt in today's format). */
export function currentRunFolder(): ReturnType<typeof memoryStorage> {
  const storage = memoryStorage();
  for (const f of ['config.json', 'preprocessing.json']) storage.writeAtomic(`run/${f}`, readLegacy(`run/${f}`));
  storage.writeAtomic('run/last.ckpt', currentCheckpoint());
  return storage;
}

/** Asserts that `fn` throws a one-line GradkitError matching every pattern. */
export function oneLineError(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: Error) => {
    assert.equal(e.name, 'GradkitError', e.stack);
    assert.ok(!e.message.includes('\n'), `not one line: ${e.message}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}
