/**
 * The integrity record itself (src/core/integrity.ts): independent of key order in the file
 * (JSON.parse puts integer-like names first), safe for odd names, and strict about its own form.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io, tensor } from '../../src/index.js';
import { decodeTensorFile, encodeTensorFile } from '../../src/train/tensor-file.js';
import { flip, layout, replaceInHeader } from '../io/integrity-helpers.js';

function sample(): Uint8Array {
  const t = new Map([
    ['b', { shape: [2], data: new Float32Array([1, 2]) }],
    ['10', { shape: [1], data: new Int32Array([7]) }],
    ['2', { shape: [3], data: new Float64Array([0.5, -1, 3]) }],
    ['empty', { shape: [0], data: new Float32Array(0) }],
  ]);
  return encodeTensorFile(t, { note: 'x', '7': 'seven' });
}

test('integrity record: integer-like names verify; the record is not returned as metadata', () => {
  const { tensors, metadata, integrity } = decodeTensorFile(sample(), 'f');
  assert.equal(integrity, 'verified');
  assert.deepEqual(Object.keys(metadata).sort(), ['7', 'note']);
  assert.deepEqual([...tensors.get('2')!.data], [0.5, -1, 3]);
});

test("integrity record: a safetensors tensor named '__proto__' is recorded and checked like any other", () => {
  const bytes = io.saveSafetensors(new Map([['__proto__', tensor([4, 5])], ['1', tensor([6])]]), undefined, { integrity: true });
  const back = io.loadSafetensors(bytes);
  assert.equal(back.integrity, 'verified');
  assert.deepEqual([...Object.getOwnPropertyDescriptor(back.tensors, '__proto__')!.value.dataSync()], [4, 5]);
  assert.throws(() => io.loadSafetensors(flip(bytes, layout(bytes).tensors.get('__proto__')!.begin), { path: 'p' }), /p: tensor '__proto__' fails its CRC-32C check/);
});

test('integrity record: a damaged record is refused, even when only its spelling changed', () => {
  const bytes = sample();
  const rec = (layout(bytes).header.__metadata__ as Record<string, string>)['gradkit.integrity'];
  const crc = JSON.parse(rec).tensors.b as string;
  const letter = crc.search(/[a-f]/);
  assert.ok(letter >= 0, `the CRC ${crc} has a hex letter to upper-case`);
  // Upper-case hex means the same number but is not what the writer wrote.
  const upper = crc.slice(0, letter) + crc[letter].toUpperCase() + crc.slice(letter + 1);
  assert.throws(() => decodeTensorFile(replaceInHeader(bytes, `"b\\":\\"${crc}`, `"b\\":\\"${upper}`), 'f'), /f: the integrity record .* is damaged \('tensors' is not a map of 8-digit hex CRCs/);
  assert.throws(() => decodeTensorFile(replaceInHeader(bytes, 'crc32c', 'crc32x'), 'f'), /algorithm "crc32x"/);
  assert.throws(() => decodeTensorFile(flip(bytes, layout(bytes).tensors.get('10')!.begin), 'f'), /f: tensor '10' fails its CRC-32C check/);
  assert.throws(() => encodeTensorFile(new Map(), { 'gradkit.integrity': 'x' }), /reserved/);
});
