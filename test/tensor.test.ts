import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../src/index.js';
import { assertClose, assertThrowsMsg } from './helpers.js';

test('tensor from nested arrays infers shape and dtype', () => {
  const t = g.tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.dtype, 'float32');
  assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(g.tensor([true, false]).dtype, 'bool');
  assert.deepEqual(g.tensor([true, false]).toArray(), [true, false]);
  assert.equal(g.tensor(new Int32Array([1, 2])).dtype, 'int32');
  assert.equal(g.scalar(3).item(), 3);
  assert.deepEqual(g.scalar(3).shape, []);
});

test('ragged arrays, bad shapes and non-integer int32 data are rejected with the position', () => {
  assertThrowsMsg(() => g.tensor([[1, 2], [3]]), /ragged/, /\[1\]/);
  assertThrowsMsg(() => g.tensor([1, 2, 3], { shape: [2, 2] }), /shape \[2, 2\] needs 4/);
  assertThrowsMsg(() => g.zeros([2, -1]), /non-negative/);
  assertThrowsMsg(() => g.tensor([1.5], { dtype: 'int32' }), /not an integer/);
  assertThrowsMsg(() => g.tensor([1], { dtype: 'float16' as g.DType }), /unknown dtype 'float16'/);
});

test('creation functions', () => {
  assert.deepEqual(g.zeros([2]).toArray(), [0, 0]);
  assert.deepEqual(g.ones([2], { dtype: 'int32' }).toArray(), [1, 1]);
  assert.deepEqual(g.full([2], 7).toArray(), [7, 7]);
  assert.deepEqual(g.arange(5).toArray(), [0, 1, 2, 3, 4]);
  assert.deepEqual(g.arange(1, 2, 0.25).toArray(), [1, 1.25, 1.5, 1.75]);
  assert.deepEqual(g.linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(g.eye(2, 3).toArray(), [[1, 0, 0], [0, 1, 0]]);
  const z = g.zerosLike(g.ones([3, 2], { dtype: 'float64' }));
  assert.equal(z.dtype, 'float64');
  assert.deepEqual(z.shape, [3, 2]);
  assertThrowsMsg(() => g.arange(0, 1, 0), /step/);
});

test('random tensors are reproducible from a seed and statistically right', () => {
  const a = g.randn([1000], { seed: 7 }).dataSync();
  const b = g.randn([1000], { seed: 7 }).dataSync();
  assert.deepEqual(a, b);
  const c = g.randn([1000], { seed: 8 }).dataSync();
  assert.notDeepEqual(a, c);
  const big = g.randn([200000], { seed: 1, mean: 2, std: 3 });
  assertClose([big.mean().item()], [2], { atol: 0.03 });
  assertClose([big.std().item()], [3], { atol: 0.03 });
  const u = g.rand([200000], { seed: 2, low: -1, high: 1 });
  assertClose([u.mean().item(), u.var().item()], [0, 1 / 3], { atol: 0.01 });
  const ints = g.randint(0, 10, [10000], { seed: 3 });
  assert.equal(ints.dtype, 'int32');
  const vals = ints.dataSync();
  assert.ok(vals.every((v) => v >= 0 && v < 10));
  assert.equal(new Set(vals).size, 10);
});

test('Random.split gives independent, reproducible streams; state round-trips', () => {
  const r = new g.Random(42);
  const child = r.split();
  const r2 = new g.Random(42);
  const child2 = r2.split();
  assert.equal(child.next(), child2.next());
  assert.notEqual(child.next(), r.next());
  const s = r.getState();
  const x = [r.next(), r.normal()];
  r.setState(s);
  assert.deepEqual([r.next(), r.normal()], x);
  g.manualSeed(5);
  const p = g.rand([3]).dataSync();
  g.manualSeed(5);
  assert.deepEqual(g.rand([3]).dataSync(), p);
});

test('Random.fillUniform gives exactly the draws of uniform(), in order, and leaves the generator where they would', () => {
  for (const [low, high] of [[0, 1], [-2.5, 7], [3, 3]]) {
    for (const Ctor of [Float32Array, Float64Array]) {
      const a = new g.Random(11), b = new g.Random(11);
      a.next(); // mid-stream, not from a fresh seed
      b.next();
      const out = new Ctor(1001);
      a.fillUniform(out, low, high);
      const want = new Ctor(1001).map(() => b.uniform(low, high));
      assert.deepEqual(out, want, `${Ctor.name} [${low}, ${high})`);
      assert.equal(a.nextUint32(), b.nextUint32(), 'same state afterwards');
    }
  }
  // rand() fills in bulk: the same values as drawing one by one from the same seed.
  const r = new g.Random(9);
  const one = Float32Array.from({ length: 500 }, () => r.uniform(-1, 2));
  assert.deepEqual(g.rand([500], { seed: 9, low: -1, high: 2 }).dataSync(), one);
});

test('data() is async, dataSync() copies, toString is readable', async () => {
  const t = g.tensor([[1.5, -2], [3, 4]]);
  assert.deepEqual([...(await t.data())], [1.5, -2, 3, 4]);
  const d = t.dataSync();
  d[0] = 100;
  assert.equal(t.dataSync()[0], 1.5);
  const s = t.toString();
  assert.match(s, /tensor\(\[\[ 1\.5000, -2\.0000\],/);
  assert.match(s, /shape=\[2, 2\], dtype=float32/);
  const big = g.zeros([100, 100]).toString();
  assert.match(big, /\.\.\./);
  assertThrowsMsg(() => t.item(), /one-element/);
});

test('creation rejects non-finite bounds, unknown dtypes and values an int32 cannot hold', () => {
  assertThrowsMsg(() => g.linspace(0, NaN, 3), /^linspace:/, /finite/, /NaN/);
  assertThrowsMsg(() => g.rand([2], { low: 0, high: Infinity }), /^rand:/, /finite/, /Infinity/);
  assertThrowsMsg(() => g.randn([2], { mean: NaN }), /^randn:/, /mean must be finite, got NaN/);
  assertThrowsMsg(() => g.randn([2], { dtype: 'int32' }), /^randn:/, /float32 or float64, got int32/, /randint/);
  assertThrowsMsg(() => g.zeros([2], { dtype: 'float16' as g.DType }), /^full:/, /unknown dtype 'float16'/);
  assertThrowsMsg(() => g.eye(2, 2, { dtype: 'int64' as g.DType }), /^eye:/, /unknown dtype 'int64'/);
  assertThrowsMsg(() => g.full([2], 1.5, { dtype: 'int32' }), /^full:/, /1\.5 is not an integer/);
  assertThrowsMsg(() => g.arange(0, 2, 0.5, { dtype: 'int32' }), /^arange:/, /step \(0\.5\) must be integers/);
  assertThrowsMsg(() => g.tensor(new Float32Array([1, 2.5]), { dtype: 'int32' }), /^tensor:/, /2\.5 at flat index 1/);
  // What stays allowed: integral floats to int32, NaN fills in float tensors.
  assert.deepEqual(g.tensor(new Float64Array([1, -2]), { dtype: 'int32' }).toArray(), [1, -2]);
  assert.ok(Number.isNaN(g.full([1], NaN).item()));
  assert.deepEqual(g.arange(0, 6, 2, { dtype: 'int32' }).toArray(), [0, 2, 4]);
});

test('method sugar calls the same ops as the functions', () => {
  const x = g.tensor([-1.5, 0.25, 2]);
  const pairs: [g.Tensor, g.Tensor][] = [
    [x.expm1(), g.expm1(x)], [x.reciprocal(), g.reciprocal(x)], [x.softplus(), g.softplus(x)], [x.erf(), g.erf(x)],
    [x.floor(), g.floor(x)], [x.ceil(), g.ceil(x)], [x.round(), g.round(x)], [x.abs().sqrt(), g.sqrt(g.abs(x))],
    [x.gt(0).logicalNot(), g.logicalNot(g.gt(x, 0))], [x.gt(0).logicalAnd(x.lt(1)), g.logicalAnd(g.gt(x, 0), g.lt(x, 1))],
    [x.gt(0).logicalOr(x.lt(-1)), g.logicalOr(g.gt(x, 0), g.lt(x, -1))], [x.clamp(0, 1), g.clamp(x, 0, 1)],
    [x.logSumExp(), g.logSumExp(x)], [x.reshape([3, 1]).T, g.transpose(g.reshape(x, [3, 1]))],
  ];
  for (const [a, b] of pairs) {
    assert.deepEqual(a.shape, b.shape);
    assert.deepEqual(a.toArray(), b.toArray());
  }
});

test('toString shows 0-d, bool, int and non-finite values', () => {
  assert.match(g.scalar(2.5).toString(), /^tensor\(2\.5000, shape=\[\], dtype=float32\)$/);
  assert.match(g.tensor([true, false]).toString(), /\[ true, false\]/);
  assert.match(g.tensor([1, -20], { dtype: 'int32' }).toString(), /\[  1, -20\]/);
  assert.match(g.tensor([NaN, Infinity, -Infinity]).toString(), /nan/);
  assert.match(g.tensor([NaN, Infinity, -Infinity]).toString(), /-inf/);
  assert.match(g.tensor([1e-7, 1e7]).toString(), /1\.0000e-7/);
  assert.match(g.zeros([2, 0]).toString(), /shape=\[2, 0\]/);
  assert.match(g.tensor([1], { requiresGrad: true }).toString(), /requiresGrad=true/);
});

test('bool tensors hold only truth values; mixed booleans and numbers are numeric', () => {
  const mixed = g.tensor([true, 2]);
  assert.equal(mixed.dtype, 'float32');
  assert.deepEqual(mixed.toArray(), [1, 2]);
  const forced = g.tensor([0, 2, -1], { dtype: 'bool' });
  assert.deepEqual([...forced.dataSync()], [0, 1, 1]);
  assert.deepEqual(g.eq(forced, g.tensor([false, true, true])).toArray(), [true, true, true]);
  assert.equal(g.tensor([[true], [false]]).dtype, 'bool');
  assert.equal(g.tensor([]).dtype, 'float32');
});

test('toString of a large tensor shows the edges of every axis, aligned, and skips the middle', () => {
  const s = g.arange(2000).reshape([2, 1000]).toString();
  assert.match(s, /\[\[ {3}0\.0000, {4}1\.0000, {4}2\.0000, \.\.\., {2}997\.0000, {2}998\.0000, {2}999\.0000\],/);
  assert.match(s, /\[1000\.0000, 1001\.0000, 1002\.0000, \.\.\., 1997\.0000, 1998\.0000, 1999\.0000\]\]/);
  assert.doesNotMatch(s, /500\.0000/);
  assert.match(g.zeros([0]).toString(), /^tensor\(\[\], shape=\[0\]/);
});

test('typed arrays: other integer types widen to int32; byte data must say its dtype', () => {
  assert.equal(g.tensor(new Uint16Array([300, 2])).dtype, 'int32');
  assert.deepEqual(g.tensor(new Int8Array([-3, 4])).toArray(), [-3, 4]);
  assert.deepEqual(g.tensor(new Uint8ClampedArray([255])).toArray(), [255]);
  assert.deepEqual(g.tensor(new Uint16Array([1, 0]), { dtype: 'bool' }).toArray(), [true, false]);
  assert.deepEqual(g.tensor(new Uint8Array([1, 0])).toArray(), [true, false]);
  assert.deepEqual(g.tensor(new Uint8Array([0, 255]), { dtype: 'float32' }).toArray(), [0, 255]);
  assertThrowsMsg(() => g.tensor(new Uint8Array([0, 255])), /^tensor:/, /value 255 at index 1 is not 0\/1/, /dtype/);
  assertThrowsMsg(() => g.tensor(new Uint32Array([2 ** 32 - 1])), /^tensor:/, /does not fit in int32/);
  assertThrowsMsg(() => g.tensor(new BigInt64Array(1) as unknown as Float32Array), /^tensor:/, /unsupported array type BigInt64Array/);
});

test('an explicit bool dtype turns any byte into a truth value', () => {
  assert.deepEqual([...g.tensor(new Uint8Array([0, 7]), { dtype: 'bool' }).dataSync()], [0, 1]);
});

test('Tensor.fromArray and the Tensor constructor reject buffers they cannot label', () => {
  assertThrowsMsg(() => g.Tensor.fromArray(new Uint16Array(2) as unknown as Float32Array, [2]), /^Tensor:/, /unsupported buffer type Uint16Array/);
  assertThrowsMsg(() => g.Tensor.fromArray(new Float32Array(3), [2]), /^Tensor:/, /shape \[2\] holds 2 elements but the data has 3/);
  // A kernel's output wrapped with the wrong shape: the constructor checks the buffer's size.
  assertThrowsMsg(() => new g.Tensor(g.getBackend().upload(new Float32Array(3)), [2]), /^Tensor:/, /shape \[2\] holds 2 elements but the buffer has 3/);
});
