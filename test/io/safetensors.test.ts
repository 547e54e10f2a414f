import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GradkitError, Random, Tensor, tensor } from '../../src/index.js';
import { loadSafetensors, saveSafetensors } from '../../src/io/index.js';
import { assertThrowsMsg } from '../helpers.js';

const enc = new TextEncoder();

/** Builds a file by hand: header JSON (unpadded unless given) + raw data bytes. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const h = enc.encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function sample(): Record<string, Tensor> {
  return {
    'fc.weight': tensor([[1.5, -2], [3, 4.25]]),
    'fc.bias': tensor([0.1, -0.2], { dtype: 'float64' }),
    steps: tensor([7, -3, 2147483647], { dtype: 'int32' }),
    mask: tensor([true, false, true]),
    empty: Tensor.fromArray(new Float32Array(0), [0, 3]),
    scalar: tensor(2.5),
  };
}

test('safetensors: round trip keeps names, dtypes, shapes, values and metadata', () => {
  const t = sample();
  const bytes = saveSafetensors(t, { framework: 'gradkit', note: 'ünïcode' });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0, 'header padded to 8 bytes');
  const back = loadSafetensors(bytes);
  assert.deepEqual(back.metadata, { framework: 'gradkit', note: 'ünïcode' });
  assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(t).sort());
  for (const [k, v] of Object.entries(t)) {
    const w = back.tensors[k];
    assert.equal(w.dtype, v.dtype, k);
    assert.deepEqual(w.shape, v.shape, k);
    assert.deepEqual([...w.dataSync()], [...v.dataSync()], k);
  }
  assert.equal(back.storedDtypes['fc.bias'], 'F64');
  assert.equal(back.storedDtypes.mask, 'BOOL');
});

test('safetensors: float64 data comes first so each tensor is aligned to its element size', () => {
  const bytes = saveSafetensors({ a: tensor([1, 2, 3]), b: tensor([true]), c: tensor([1], { dtype: 'float64' }) });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { data_offsets: number[] }>;
  assert.deepEqual(header.c.data_offsets, [0, 8]);
  assert.deepEqual(header.a.data_offsets, [8, 20]);
  assert.deepEqual(header.b.data_offsets, [20, 21]);
  assert.equal(header.__metadata__, undefined, 'no empty __metadata__ written');
});

test('safetensors: a file written byte by byte (as Python writes it) loads', () => {
  // Header: {"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"},
  //          "h":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},"i":{"dtype":"I64","shape":[1],"data_offsets":[12,20]},
  //          "b":{"dtype":"BF16","shape":[1],"data_offsets":[20,22]}}  padded with spaces to a multiple of 8.
  let json = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"},'
    + '"h":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},"i":{"dtype":"I64","shape":[1],"data_offsets":[12,20]},'
    + '"b":{"dtype":"BF16","shape":[1],"data_offsets":[20,22]}}';
  while (json.length % 8 !== 0) json += ' ';
  const bytes: number[] = [];
  let n = json.length;
  for (let i = 0; i < 8; i++) { bytes.push(n & 0xff); n = Math.floor(n / 256); }
  for (const ch of json) bytes.push(ch.charCodeAt(0));
  // F32 1.0 = 0x3f800000, -2.0 = 0xc0000000, little-endian.
  bytes.push(0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0);
  // F16 1.5 = 0x3e00, -0.25 = 0xb400.
  bytes.push(0x00, 0x3e, 0x00, 0xb4);
  // I64 -5 = 0xfffffffffffffffb.
  bytes.push(0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
  // BF16 3.0 = top half of 0x40400000.
  bytes.push(0x40, 0x40);
  const { tensors, metadata, storedDtypes } = loadSafetensors(new Uint8Array(bytes));
  assert.deepEqual(metadata, { format: 'pt' });
  assert.deepEqual([...tensors.w.dataSync()], [1, -2]);
  assert.equal(tensors.w.dtype, 'float32');
  assert.deepEqual([...tensors.h.dataSync()], [1.5, -0.25]);
  assert.equal(tensors.h.dtype, 'float32');
  assert.deepEqual([...tensors.i.dataSync()], [-5]);
  assert.equal(tensors.i.dtype, 'int32');
  assert.deepEqual([...tensors.b.dataSync()], [3]);
  assert.deepEqual(storedDtypes, { w: 'F32', h: 'F16', i: 'I64', b: 'BF16' });
});

test('safetensors: a name like __proto__ is kept as an ordinary tensor name', () => {
  const back = loadSafetensors(rawFile({ ['__proto__']: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(new Float32Array([9]).buffer), '{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'));
  assert.deepEqual(Object.keys(back.tensors), ['__proto__']);
  assert.equal(Object.getPrototypeOf(back.tensors), Object.prototype);
});

test('safetensors: save rejects bad input with named errors', () => {
  assertThrowsMsg(() => saveSafetensors({ __metadata__: tensor([1]) }), /saveSafetensors/, /__metadata__/);
  assertThrowsMsg(() => saveSafetensors({ a: [1, 2] as unknown as Tensor }), /'a' is not a Tensor/);
  assertThrowsMsg(() => saveSafetensors({ a: tensor([1]) }, { n: 3 as unknown as string }), /metadata 'n' must be a string/);
});

const f32 = (xs: number[]): Uint8Array => new Uint8Array(new Float32Array(xs).buffer);

test('safetensors: every kind of corrupt file is a GradkitError naming the problem', () => {
  const ok = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const cases: [string, Uint8Array, RegExp[]][] = [
    ['too short', new Uint8Array(5), [/5 bytes/, /truncated/]],
    ['header length beyond file', (() => { const b = rawFile({ w: ok }, f32([1, 2])); new DataView(b.buffer).setBigUint64(0, 10_000n, true); return b; })(), [/header length 10000 goes beyond/]],
    ['huge header length', (() => { const b = rawFile({ w: ok }, f32([1, 2])); new DataView(b.buffer).setBigUint64(0, 2n ** 63n, true); return b; })(), [/goes beyond/]],
    ['invalid JSON', rawFile(null, new Uint8Array(0), '{"w": {'), [/not valid JSON/]],
    ['not an object', rawFile(null, new Uint8Array(0), '[1, 2]'), [/JSON object/]],
    ['invalid UTF-8', rawFile(null, new Uint8Array(0), '{}').map((x, i) => (i === 8 ? 0xff : x)), [/UTF-8/]],
    ['duplicate names', rawFile(null, f32([1, 2, 3, 4]), '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}'), [/'w'/, /twice/]],
    ['unknown dtype', rawFile({ w: { ...ok, dtype: 'F128' } }, f32([1, 2])), [/'w'/, /unknown dtype 'F128'/]],
    ['unsupported dtype', rawFile({ w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)), [/'w'/, /F8_E4M3/, /cannot load/]],
    ['shape/bytes mismatch', rawFile({ w: { ...ok, shape: [3] } }, f32([1, 2])), [/'w'/, /needs 12 bytes/, /span 8/]],
    ['negative dim', rawFile({ w: { ...ok, shape: [-2] } }, f32([1, 2])), [/'w'/, /shape \[-2\]/]],
    ['fractional offset', rawFile({ w: { ...ok, data_offsets: [0, 7.5] } }, f32([1, 2])), [/'w'/, /data_offsets/]],
    ['begin after end', rawFile({ w: { ...ok, data_offsets: [8, 0] } }, f32([1, 2])), [/'w'/, /begin after end/]],
    ['offsets out of range', rawFile({ w: { ...ok, data_offsets: [4, 12] } }, f32([1, 2])), [/'w'/, /beyond the 8-byte data buffer/]],
    ['overlap', rawFile({ a: ok, b: { ...ok, data_offsets: [4, 12] } }, f32([1, 2, 3])), [/'b'/, /overlap tensor 'a'/]],
    ['hole', rawFile({ a: { ...ok, data_offsets: [4, 12] } }, f32([1, 2, 3])), [/'a'/, /hole of 4/]],
    ['trailing bytes', rawFile({ a: ok }, f32([1, 2, 3])), [/cover 8 bytes/, /has 12/]],
    ['extra field', rawFile({ a: { ...ok, stride: 1 } }, f32([1, 2])), [/'a'/, /unknown field/, /stride/]],
    ['entry not object', rawFile({ a: 3 }), [/'a'/, /must be an object/]],
    ['metadata not strings', rawFile({ __metadata__: { epochs: 3 } }), [/__metadata__ 'epochs' must be a string/]],
    ['bool not 0/1', rawFile({ m: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, new Uint8Array([1, 7])), [/'m'/, /byte 7/]],
    ['I64 too large', rawFile({ i: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(new BigInt64Array([2n ** 40n]).buffer)), [/'i'/, /does not fit in int32/]],
  ];
  for (const [what, bytes, patterns] of cases) {
    try {
      assertThrowsMsg(() => loadSafetensors(bytes), /loadSafetensors/, ...patterns);
    } catch (e) {
      throw new Error(`case '${what}': ${(e as Error).message}`);
    }
  }
  assertThrowsMsg(() => loadSafetensors('abc' as unknown as Uint8Array), /Uint8Array/);
});

test('safetensors fuzz: 3000 seeded mutations each load consistently or throw a GradkitError', () => {
  const base = saveSafetensors({ a: tensor([[1, 2, 3], [4, 5, 6]]), b: tensor([1, 2], { dtype: 'float64' }), c: tensor([3, 4], { dtype: 'int32' }), d: tensor([true, false]) }, { k: 'v' });
  const n = Number(new DataView(base.buffer).getBigUint64(0, true));
  const headerText = new TextDecoder().decode(base.subarray(8, 8 + n));
  const rng = new Random(6);
  let loaded = 0;
  let rejected = 0;
  const digits = '0123456789';
  for (let iter = 0; iter < 3000; iter++) {
    let bytes = base.slice();
    const kind = iter % 5;
    if (kind === 0) {
      // Bit flips anywhere (header length, JSON, data).
      for (let k = 0, m = 1 + rng.int(0, 4); k < m; k++) {
        const i = rng.int(0, bytes.length);
        bytes[i] ^= 1 << rng.int(0, 8);
      }
    } else if (kind === 1) {
      bytes = bytes.slice(0, rng.int(0, bytes.length));
    } else if (kind === 2) {
      // Edit a digit in the header (shapes, offsets) to another digit.
      const positions = [...headerText].flatMap((ch, i) => (digits.includes(ch) ? [i] : []));
      const p = positions[rng.int(0, positions.length)];
      bytes[8 + p] = digits.charCodeAt(rng.int(0, 10));
    } else if (kind === 3) {
      // Overwrite the header length with a nearby or random value.
      const v = rng.uniform() < 0.5 ? n + rng.int(-16, 17) : Math.floor(rng.uniform() * 2 ** 40);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(Math.max(0, v)), true);
    } else {
      // Append or delete bytes in the middle of the file.
      const i = rng.int(0, bytes.length);
      const cut = rng.int(1, 9);
      bytes = rng.uniform() < 0.5
        ? new Uint8Array([...bytes.subarray(0, i), ...new Uint8Array(cut).fill(rng.int(0, 256)), ...bytes.subarray(i)])
        : new Uint8Array([...bytes.subarray(0, i), ...bytes.subarray(i + cut)]);
    }
    try {
      const r = loadSafetensors(bytes);
      // A file that loads must be self-consistent: every tensor's buffer matches its shape.
      for (const t of Object.values(r.tensors)) assert.equal(t.size, t.shape.reduce((a, b) => a * b, 1));
      loaded++;
    } catch (e) {
      if (!(e instanceof GradkitError)) throw new Error(`mutation ${iter} (kind ${kind}) threw ${(e as Error).name}: ${(e as Error).message}`);
      rejected++;
    }
  }
  assert.equal(loaded + rejected, 3000);
  assert.ok(rejected > 1000, `most mutations should be rejected (rejected ${rejected})`);
  assert.ok(loaded > 0, 'some mutations (e.g. flips in the data) should still load');
});
