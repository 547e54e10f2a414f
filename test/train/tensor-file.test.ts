import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, withBackend } from '../../src/index.js';
import { decodeTensorFile, encodeTensorFile, decodeCheckpoint } from '../../src/train/index.js';
import { packState, unpackState, type PackedArray } from '../../src/train/state-tree.js';

const sample = (): Map<string, { shape: number[]; data: Float32Array | Float64Array | Int32Array | Uint8Array }> =>
  new Map<string, { shape: number[]; data: Float32Array | Float64Array | Int32Array | Uint8Array }>([
    ['a', { shape: [2, 3], data: new Float32Array([1, -2, 3.5, NaN, Infinity, -0]) }],
    ['b', { shape: [3], data: new Float64Array([Math.PI, 1e-300, -1e300]) }],
    ['c', { shape: [], data: new Int32Array([-7]) }],
    ['d', { shape: [4], data: new Uint8Array([1, 0, 0, 1]) }],
    ['empty', { shape: [0, 5], data: new Float32Array(0) }],
  ]);

test('tensor file: every dtype round-trips bit for bit, with metadata', () => {
  const bytes = encodeTensorFile(sample(), { note: 'hi' });
  const header = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(header % 8, 0, 'header padded to 8 bytes');
  const { tensors, metadata } = decodeTensorFile(bytes);
  assert.equal(metadata.note, 'hi');
  for (const [k, v] of sample()) {
    const got = tensors.get(k)!;
    assert.deepEqual(got.shape, v.shape, k);
    assert.equal(got.data.constructor, v.data.constructor, k);
    assert.deepEqual(new Uint8Array(got.data.buffer, got.data.byteOffset, got.data.byteLength), new Uint8Array(v.data.buffer), k);
  }
  // The header is plain JSON a safetensors reader understands.
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + header)));
  assert.deepEqual(json.a, { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
  assert.deepEqual(json.b, { dtype: 'F64', shape: [3], data_offsets: [24, 48] });
});

test('tensor file: truncated, corrupted or inconsistent files are refused with the reason', () => {
  const bytes = encodeTensorFile(sample());
  const header = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.throws(() => decodeTensorFile(bytes.subarray(0, 5)), /fewer than the 8-byte header length/);
  assert.throws(() => decodeTensorFile(bytes.subarray(0, bytes.length - 4)), /tensor 'd' ends at byte 56 but the data block has 52 bytes \(truncated\?\)/);
  assert.throws(() => decodeTensorFile(bytes.subarray(0, 8 + header - 3)), /header length \d+ exceeds/);
  const extra = new Uint8Array(bytes.length + 4);
  extra.set(bytes);
  assert.throws(() => decodeTensorFile(extra), /the tensors cover 56 bytes but the data block has 60/);
  const edit = (f: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void): Uint8Array => {
    const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + header)));
    f(h);
    const hb = new TextEncoder().encode(JSON.stringify(h));
    const out = new Uint8Array(8 + hb.length + bytes.length - 8 - header);
    new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
    out.set(hb, 8);
    out.set(bytes.subarray(8 + header), 8 + hb.length);
    return out;
  };
  assert.throws(() => decodeTensorFile(edit((h) => (h.a.dtype = 'F16'))), /tensor 'a' has dtype "F16"; expected one of F32, F64, I32, BOOL/);
  assert.throws(() => decodeTensorFile(edit((h) => (h.a.shape = [2, 2]))), /tensor 'a' \(F32 \[2, 2\]\) needs 16 bytes but data_offsets span 24/);
  assert.throws(() => decodeTensorFile(edit((h) => (h.b.data_offsets = [16, 40]))), /overlap or hole/);
  assert.throws(() => decodeTensorFile(edit((h) => (h.c.shape = [-1]))), /shape \[-1\]; expected non-negative integers/);
  const garbage = bytes.slice();
  garbage[9] = 0x7b; // '{' then '{' → invalid JSON
  garbage[8] = 0x5b;
  assert.throws(() => decodeTensorFile(garbage), /header is not valid JSON/);
  assert.throws(() => decodeCheckpoint(bytes, 'x.ckpt'), /x\.ckpt is a tensor file but not a gradkit checkpoint/);
});

// A format test: on a CPU backend whatever backend the suite runs on (packing reads synchronously).
test('state tree: typed arrays, tensors, Maps and non-finite numbers survive packing', () => withBackend('reference', () => {
  const state = {
    rng: [1, 2, 3, 4, NaN],
    best: Infinity,
    worst: -Infinity,
    m: new Float32Array([1, 2]),
    nested: [{ v: new Float64Array([0.1]) }, null, 'x', true],
    dict: new Map([['w', Tensor.fromArray(new Float32Array([5, 6, 7, 8]), [2, 2])]]),
  };
  const arrays = new Map<string, PackedArray>();
  const json = JSON.parse(JSON.stringify(packState(state, arrays, 's/')));
  const back = unpackState(json, arrays) as typeof state;
  assert.ok(Number.isNaN(back.rng[4]));
  assert.equal(back.best, Infinity);
  assert.equal(back.worst, -Infinity);
  assert.deepEqual(back.m, new Float32Array([1, 2]));
  assert.deepEqual((back.nested[0] as { v: Float64Array }).v, new Float64Array([0.1]));
  assert.deepEqual(back.nested.slice(1), [null, 'x', true]);
  const w = back.dict.get('w')!;
  assert.deepEqual(w.shape, [2, 2]);
  assert.deepEqual(w.dataSync(), new Float32Array([5, 6, 7, 8]));
  assert.throws(() => packState({ $bad: 1 }, new Map(), 's/'), /keys starting with '\$' are reserved/);
  assert.throws(() => unpackState({ $array: 'nope' }, new Map()), /refers to array 'nope'/);
}));
