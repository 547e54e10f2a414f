import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { expectClose, expectGrad, flat, FLOAT, NEEDS_FLOAT64, scalar } from '../helpers.js';
import { testAllBackends, testAllBackendsExcept } from './backends.js';

const f64 = { dtype: FLOAT };
const X = [-2, -0.5, 0, 0.5, 2];

// Expected values are the closed forms evaluated once (e^-2, tanh(1/2), ...), written out so
// the test does not share code with the kernels.
const UNARY_CASES: [string, (x: g.Tensor) => g.Tensor, number[], number[]][] = [
  ['neg', g.neg, X, [2, 0.5, -0, -0.5, -2]],
  ['abs', g.abs, X, [2, 0.5, 0, 0.5, 2]],
  ['square', g.square, X, [4, 0.25, 0, 0.25, 4]],
  ['relu', g.relu, X, [0, 0, 0, 0.5, 2]],
  ['exp', g.exp, X, [0.1353352832366127, 0.6065306597126334, 1, 1.6487212707001282, 7.38905609893065]],
  ['expm1', g.expm1, X, [-0.8646647167633873, -0.3934693402873666, 0, 0.6487212707001282, 6.38905609893065]],
  ['tanh', g.tanh, X, [-0.9640275800758169, -0.46211715726000974, 0, 0.46211715726000974, 0.9640275800758169]],
  ['sigmoid', g.sigmoid, X, [0.11920292202211755, 0.3775406687981454, 0.5, 0.6224593312018546, 0.8807970779778823]],
  ['softplus', g.softplus, X, [0.1269280110429725, 0.4740769841801067, 0.6931471805599453, 0.9740769841801067, 2.1269280110429727]],
  ['sin', g.sin, X, [-0.9092974268256817, -0.479425538604203, 0, 0.479425538604203, 0.9092974268256817]],
  ['cos', g.cos, X, [-0.4161468365471424, 0.8775825618903728, 1, 0.8775825618903728, -0.4161468365471424]],
  ['erf', g.erf, X, [-0.9953222650189527, -0.5204998778130465, 0, 0.5204998778130465, 0.9953222650189527]],
  ['sqrt', g.sqrt, [0, 0.25, 1, 4], [0, 0.5, 1, 2]],
  ['log', g.log, [0.5, 1, 2, 4], [-0.6931471805599453, 0, 0.6931471805599453, 1.3862943611198906]],
  ['log1p', g.log1p, [0.5, 1, 2, 4], [0.4054651081081644, 0.6931471805599453, 1.0986122886681096, 1.6094379124341003]],
  ['reciprocal', g.reciprocal, [-4, 0.5, 2], [-0.25, 2, 0.5]],
  ['sign', g.sign, X, [-1, -1, 0, 1, 1]],
  ['floor', g.floor, [-1.5, -0.5, 0.5, 1.5], [-2, -1, 0, 1]],
  ['ceil', g.ceil, [-1.5, -0.5, 0.5, 1.5], [-1, -0, 1, 2]],
];

testAllBackends('unary ops: forward values on hand-computed points (float32 and float64)', async () => {
  for (const [name, fn, input, expected] of UNARY_CASES) {
    await expectClose(fn(g.tensor(input)), expected, { atol: 1e-6, rtol: 1e-6, msg: `${name} float32` });
    // FLOAT: float64 on the CPU backends; on webgpu (no float64) the float32 case again, at its floor.
    const y64 = fn(g.tensor(input, f64));
    assert.equal(y64.dtype, FLOAT, `${name} keeps ${FLOAT}`);
    await expectClose(y64, expected, { atol: 1e-14, rtol: 1e-12, msg: `${name} ${FLOAT}` });
  }
});

testAllBackends('unary ops: 0-d and empty tensors keep their shape', async () => {
  const s = g.exp(g.scalar(1, f64));
  assert.deepEqual(s.shape, []);
  await expectClose(s, [Math.E], { atol: 1e-15 });
  const e = g.tanh(g.zeros([2, 0, 3]));
  assert.deepEqual(e.shape, [2, 0, 3]);
  assert.equal(e.size, 0);
});

testAllBackends('unary ops: NaN propagates instead of being hidden', async () => {
  for (const [name, fn] of UNARY_CASES) {
    if (name === 'sign') continue;
    const y0 = (await fn(g.tensor([NaN, 1])).data())[0];
    assert.ok(Number.isNaN(y0), `${name}(NaN) should be NaN, got ${y0}`);
  }
});

testAllBackends('stable forms: sigmoid, softplus and erf at large |x|', async () => {
  await expectClose(g.sigmoid(g.tensor([-800, 800], f64)), [0, 1], { atol: 1e-300 });
  await expectClose(g.softplus(g.tensor([-800, 800, 30], f64)), [0, 800, 30 + Math.log1p(Math.exp(-30))], { atol: 1e-12 });
  // erf(3) from tables: 0.9999779095030014
  await expectClose(g.erf(g.tensor([3, -6], f64)), [0.9999779095030014, -1], { atol: 1e-15 });
  // Either side of the series / continued-fraction switch at 2.5 (table values).
  await expectClose(g.erf(g.tensor([1.5, 2.4, 2.5, 2.6, 3.5, 1e-10], f64)),
    [0.9661051464753108, 0.999311486103355, 0.999593047982555, 0.9997639655834707, 0.9999992569016276, 1.1283791670955126e-10], { atol: 1e-15, rtol: 1e-14 });
});

// Each differentiable unary op with a sampler for a domain where it is smooth.
const pos = (seed: number, shape: number[]) => g.rand(shape, { low: 0.3, high: 2, seed, ...f64 });
const any = (seed: number, shape: number[]) => g.randn(shape, { seed, ...f64 });
const GRAD_CASES: [string, (x: g.Tensor) => g.Tensor, typeof pos][] = [
  ['neg', g.neg, any], ['abs', g.abs, any], ['sqrt', g.sqrt, pos], ['exp', g.exp, any], ['log', g.log, pos],
  ['log1p', g.log1p, pos], ['expm1', g.expm1, any], ['sin', g.sin, any], ['cos', g.cos, any], ['tanh', g.tanh, any],
  ['sigmoid', g.sigmoid, any], ['relu', g.relu, any], ['square', g.square, any], ['reciprocal', g.reciprocal, pos],
  ['softplus', g.softplus, any], ['erf', g.erf, any],
];

testAllBackends('unary ops: gradients match finite differences, also on transposed and sliced inputs', async () => {
  for (const [i, [name, fn, sample]] of GRAD_CASES.entries()) {
    await expectGrad(fn, [sample(10 + i, [2, 3])], { seed: i });
    // Non-contiguous: the op reads the transpose / a strided slice of the input.
    await expectGrad((x) => fn(x.transpose()), [sample(40 + i, [3, 2])], { seed: i });
    await expectGrad((x) => fn(x.slice([0, 1], [3, 4], [2, 2])), [sample(70 + i, [3, 4])], { seed: i });
    void name;
  }
});

testAllBackends('unary ops: gradients at hand-checked points', async () => {
  const x = g.tensor([-1, 0, 2], { ...f64, requiresGrad: true });
  g.relu(x).sum().backward();
  await expectClose(x.grad!, [0, 0, 1]); // relu'(0) = 0, as in PyTorch
  const y = g.tensor([-3, 0, 2], { ...f64, requiresGrad: true });
  g.abs(y).sum().backward();
  await expectClose(y.grad!, [-1, 0, 1]);
  const z = g.tensor([0], { ...f64, requiresGrad: true });
  g.sigmoid(z).sum().backward();
  await expectClose(z.grad!, [0.25]);
  const w = g.tensor([0.5], { ...f64, requiresGrad: true });
  g.erf(w).sum().backward();
  await expectClose(w.grad!, [(2 / Math.sqrt(Math.PI)) * Math.exp(-0.25)], { atol: 1e-14 });
});

testAllBackends('piecewise-constant ops do not require grad', async () => {
  const x = g.tensor([1.5, -2.5], { requiresGrad: true });
  for (const fn of [g.sign, g.floor, g.ceil, g.round]) assert.equal(fn(x).requiresGrad, false);
  assert.deepEqual(flat(await g.round(g.tensor([0.4, 1.6, -1.6])).array()), [0, 2, -2]);
});

testAllBackends('binary ops: forward with broadcasting ([2,3] with [3], [2,1] and a number)', async () => {
  const a = g.tensor([[1, 2, 3], [4, 5, 6]]);
  const row = g.tensor([10, 20, 30]);
  const col = g.tensor([[2], [4]]);
  assert.deepEqual(await g.add(a, row).array(), [[11, 22, 33], [14, 25, 36]]);
  assert.deepEqual(await g.sub(a, col).array(), [[-1, 0, 1], [0, 1, 2]]);
  assert.deepEqual(await g.mul(a, col).array(), [[2, 4, 6], [16, 20, 24]]);
  assert.deepEqual(await g.div(a, col).array(), [[0.5, 1, 1.5], [1, 1.25, 1.5]]);
  assert.deepEqual(await g.pow(a, 2).array(), [[1, 4, 9], [16, 25, 36]]);
  assert.deepEqual(await g.pow(2, a).array(), [[2, 4, 8], [16, 32, 64]]);
  assert.deepEqual(await g.sub(10, a).array(), [[9, 8, 7], [6, 5, 4]]);
  assert.deepEqual(await g.maximum(a, col.mul(1.5)).array(), [[3, 3, 3], [6, 6, 6]]);
  assert.deepEqual(await g.minimum(a, g.tensor([2, 2, 7])).array(), [[1, 2, 3], [2, 2, 6]]);
  // [2,1] with [1,3] broadcasts both ways.
  assert.deepEqual(await g.add(col, g.tensor([[1, 2, 3]])).array(), [[3, 4, 5], [5, 6, 7]]);
  // 0-d with anything, and empty dims.
  assert.deepEqual(await g.mul(g.scalar(3), g.tensor([1, 2])).array(), [3, 6]);
  assert.deepEqual(g.add(g.zeros([0, 3]), row).shape, [0, 3]);
});

testAllBackends('binary ops: dtype rules (numbers are weak, int division is true division)', async () => {
  const i = g.tensor([1, 2, 3], { dtype: 'int32' });
  assert.equal(g.add(i, 1).dtype, 'int32');
  assert.equal(g.add(i, 1.5).dtype, 'float32');
  assert.deepEqual(await g.add(i, 1.5).array(), [2.5, 3.5, 4.5]);
  const d = g.div(i, 2);
  assert.equal(d.dtype, 'float32');
  assert.deepEqual(await d.array(), [0.5, 1, 1.5]);
  assert.equal(g.mul(g.tensor([1]), 2).dtype, 'float32');
  assert.equal(g.add(g.tensor([true]), g.tensor([true])).dtype, 'int32');
});

// Its subject is float64 promotion, which a backend without float64 cannot show.
testAllBackendsExcept('binary ops: dtype rules (float32 with float64 is float64)', { webgpu: NEEDS_FLOAT64.skip }, () => {
  assert.equal(g.mul(g.tensor([1], { dtype: 'float64' }), g.tensor([1])).dtype, 'float64');
});

const BINARY_GRAD: [string, (a: g.Tensor, b: g.Tensor) => g.Tensor, boolean][] = [
  ['add', g.add, false], ['sub', g.sub, false], ['mul', g.mul, false], ['div', g.div, true],
  ['pow', g.pow, true], ['maximum', g.maximum, false], ['minimum', g.minimum, false],
];

testAllBackends('binary ops: gradients with broadcasting and non-contiguous operands', async () => {
  const shapes: [number[], number[]][] = [[[2, 3], [2, 3]], [[2, 3], [3]], [[2, 1], [1, 3]], [[], [2, 2]], [[3, 1, 2], [4, 1]]];
  for (const [k, [name, fn, positive]] of BINARY_GRAD.entries()) {
    const sample = positive ? pos : any;
    for (const [j, [sa, sb]] of shapes.entries()) {
      const seed = 100 * k + j;
      await expectGrad(fn, [sample(seed, sa), sample(seed + 50, sb)], { seed });
    }
    // a is read transposed, b through a strided slice.
    await expectGrad((a, b) => fn(a.transpose(), b.slice([1], [6], [2])), [sample(k + 1, [3, 2]), sample(k + 2, [6])]);
    void name;
  }
});

testAllBackends('maximum/minimum split the gradient evenly on ties; pow(x, 0) has gradient 0 at x = 0', async () => {
  const a = g.tensor([1, 2, 3], { ...f64, requiresGrad: true });
  const b = g.tensor([1, 5, 0], { ...f64, requiresGrad: true });
  g.maximum(a, b).sum().backward();
  await expectClose(a.grad!, [0.5, 0, 1]);
  await expectClose(b.grad!, [0.5, 1, 0]);
  const c = g.tensor([1, 2], { ...f64, requiresGrad: true });
  g.minimum(c, 1).sum().backward();
  await expectClose(c.grad!, [0.5, 0]);
  const x = g.tensor([0, 2], { ...f64, requiresGrad: true });
  g.pow(x, 0).sum().backward();
  await expectClose(x.grad!, [0, 0]);
  // d/db a^b = a^b ln a; taken as 0 where a <= 0.
  const base = g.tensor([2, -1], f64);
  const e = g.tensor([3, 2], { ...f64, requiresGrad: true });
  g.pow(base, e).sum().backward();
  await expectClose(e.grad!, [8 * Math.log(2), 0], { atol: 1e-12 });
});

testAllBackends('comparisons and logical ops: bool results, broadcasting, NaN compares unequal', async () => {
  const a = g.tensor([[1, 2, 3], [4, 5, 6]]);
  const b = g.tensor([2, 2, 7]);
  const cases: [(x: g.TensorLike, y: g.TensorLike) => g.Tensor, boolean[][]][] = [
    [g.eq, [[false, true, false], [false, false, false]]],
    [g.ne, [[true, false, true], [true, true, true]]],
    [g.lt, [[true, false, true], [false, false, true]]],
    [g.le, [[true, true, true], [false, false, true]]],
    [g.gt, [[false, false, false], [true, true, false]]],
    [g.ge, [[false, true, false], [true, true, false]]],
  ];
  for (const [fn, expected] of cases) {
    const y = fn(a, b);
    assert.equal(y.dtype, 'bool');
    assert.deepEqual(await y.array(), expected, fn.name);
  }
  assert.deepEqual(await g.gt(a, 3).array(), [[false, false, false], [true, true, true]]);
  assert.deepEqual(await g.eq(g.tensor([NaN, 1]), g.tensor([NaN, 1])).array(), [false, true]);
  assert.deepEqual(await g.ne(g.tensor([NaN]), g.tensor([NaN])).array(), [true]);
  const p = g.tensor([true, true, false, false]);
  const q = g.tensor([true, false, true, false]);
  assert.deepEqual(await g.logicalAnd(p, q).array(), [true, false, false, false]);
  assert.deepEqual(await g.logicalOr(p, q).array(), [true, true, true, false]);
  assert.deepEqual(await g.logicalNot(p).array(), [false, false, true, true]);
  const x = g.tensor([1, 2], { requiresGrad: true });
  assert.equal(g.lt(x, 2).requiresGrad, false);
});

testAllBackends('where: forward with a broadcast condition, numbers for branches, and gradients', async () => {
  const cond = g.tensor([[true], [false]]);
  const a = g.tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(await g.where(cond, a, g.tensor([0, -1, -2])).array(), [[1, 2, 3], [0, -1, -2]]);
  assert.deepEqual(await g.where(g.tensor([true, false]), 1, 0).array(), [1, 0]);
  assert.deepEqual(await g.where(g.tensor([true, false]), 1.5, 0).array(), [1.5, 0]);
  // Made inside each f (the same seed every time): expectGrad replays f on the reference backend.
  const c2 = () => g.gt(g.randn([2, 3], { seed: 3 }), 0);
  await expectGrad((x, y) => g.where(c2(), x, y), [any(1, [2, 3]), any(2, [3])]);
  await expectGrad((x, y) => g.where(c2(), x.transpose(), y), [any(3, [3, 2]), any(4, [2, 1])]);
  const x = g.tensor([1, 2], { ...f64, requiresGrad: true });
  g.where(g.tensor([true, false]), x, 0).sum().backward();
  await expectClose(x.grad!, [1, 0]);
});

testAllBackends('clamp: both bounds, one bound, gradient only inside the range', async () => {
  const x = g.tensor([-2, -0.5, 0.5, 2]);
  assert.deepEqual(await g.clamp(x, -1, 1).array(), [-1, -0.5, 0.5, 1]);
  assert.deepEqual(await g.clamp(x, 0).array(), [0, 0, 0.5, 2]);
  assert.deepEqual(await g.clamp(x, undefined, 0).array(), [-2, -0.5, 0, 0]);
  const v = g.tensor([-2, -0.5, 0.5, 2], { ...f64, requiresGrad: true });
  g.clamp(v, -1, 1).sum().backward();
  await expectClose(v.grad!, [0, 1, 1, 0]);
  await expectGrad((t) => g.clamp(t, -0.5, 0.7), [any(5, [3, 3])]);
  await expectGrad((t) => g.clamp(t.transpose().slice([0, 1]), -0.5), [any(8, [3, 4])]);
  assert.ok(Number.isNaN(await scalar(g.clamp(g.tensor([NaN]), 0, 1))));
});

testAllBackends('cast: int casts truncate and cut the graph', async () => {
  const x = g.tensor([1.7, -1.7, 2.5], { requiresGrad: true });
  assert.deepEqual(await g.cast(x, 'int32').array(), [1, -1, 2]);
  assert.equal(g.cast(x, 'int32').requiresGrad, false);
});

testAllBackends('cast: to and from bool', async () => {
  assert.deepEqual(await g.cast(g.tensor([0, 2, -1]), 'bool').array(), [false, true, true]);
  assert.deepEqual(await g.cast(g.tensor([true, false]), 'float32').array(), [1, 0]);
});

// Its subject is a cast between float32 and float64, which a backend without float64 cannot make.
testAllBackendsExcept('cast: float casts carry gradients', { webgpu: NEEDS_FLOAT64.skip }, async () => {
  const x = g.tensor([1.7, -1.7, 2.5], { requiresGrad: true });
  const y = g.cast(x, 'float64');
  assert.equal(y.dtype, 'float64');
  y.mul(y).sum().backward();
  assert.equal(x.grad!.dtype, 'float32');
  await expectClose(x.grad!, [3.4, -3.4, 5], { atol: 1e-5 });
  await expectGrad((t) => g.cast(t, 'float64').square(), [g.randn([3], { seed: 6 })], { float64: false });
});

testAllBackends('where between two bool tensors stays bool', async () => {
  const y = g.where(g.tensor([true, false]), g.tensor([false, false]), g.tensor([true, true]));
  assert.equal(y.dtype, 'bool');
  assert.deepEqual(await y.array(), [false, true]);
});

/** Row-major multi-index of flat position i in `shape`. */
function unravel(i: number, shape: number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

testAllBackends('broadcasting fuzz: random shapes (ranks 0-4, size-1 and size-0 dims) against a per-index oracle', async () => {
  const rng = new g.Random(77);
  for (let trial = 0; trial < 60; trial++) {
    const rank = rng.int(0, 5);
    const out = Array.from({ length: rank }, () => (rng.next() < 0.05 ? 0 : rng.int(1, 4)));
    // Each operand drops some leading axes and sets some others to 1.
    const operand = () => out.slice(rng.int(0, rank + 1)).map((d) => (rng.next() < 0.3 ? 1 : d));
    const sa = operand();
    const sb = operand();
    const a = g.randn(sa, { rng, ...f64 });
    const b = g.randn(sb, { rng, ...f64 });
    const y = g.sub(g.mul(a, 3), b);
    const expectShape = Array.from({ length: Math.max(sa.length, sb.length) }, (_, i) => {
      const da = sa[sa.length - Math.max(sa.length, sb.length) + i] ?? 1;
      const db = sb[sb.length - Math.max(sa.length, sb.length) + i] ?? 1;
      return da === 1 ? db : da;
    });
    assert.deepEqual(y.shape, expectShape, `shapes ${JSON.stringify(sa)} ${JSON.stringify(sb)}`);
    const av = await a.data();
    const bv = await b.data();
    const at = (v: ArrayLike<number>, s: number[], idx: number[]) => {
      let off = 0;
      for (let d = 0; d < s.length; d++) off = off * s[d] + (s[d] === 1 ? 0 : idx[idx.length - s.length + d]);
      return v[off];
    };
    const expected = Array.from({ length: y.size }, (_, i) => {
      const idx = unravel(i, expectShape);
      return 3 * at(av, sa, idx) - at(bv, sb, idx);
    });
    await expectClose(y, expected, { atol: 1e-12, msg: `${JSON.stringify(sa)} ${JSON.stringify(sb)}` });
  }
});
