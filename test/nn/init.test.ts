import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { assertThrowsMsg, byFloat, expectClose, expectThrowsMsg, FLOAT } from '../helpers.js';

const { nn } = g;
const { init } = nn;

/** Sample mean and (population) variance, computed in float64 independently of the ops. */
async function stats(t: g.Tensor): Promise<{ mean: number; variance: number; min: number; max: number }> {
  const d = await t.data();
  let s = 0;
  for (const v of d) s += v;
  const mean = s / d.length;
  let q = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of d) {
    q += (v - mean) ** 2;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { mean, variance: q / d.length, min, max };
}

/** Checks mean ≈ 0 (within 5 standard errors) and variance within 4% of the formula. */
async function checkMoments(t: g.Tensor, expectedVar: number, msg: string): Promise<void> {
  const { mean, variance } = await stats(t);
  const se = Math.sqrt(expectedVar / t.size);
  assert.ok(Math.abs(mean) < 5 * se, `${msg}: mean ${mean} (standard error ${se})`);
  assert.ok(Math.abs(variance / expectedVar - 1) < 0.04, `${msg}: variance ${variance}, expected ${expectedVar}`);
}

test('fanInOut: linear [out, in] and conv [cOut, cIn, k, k] (fan-in k·k·cIn)', () => {
  assert.deepEqual(init.fanInOut([10, 20]), { fanIn: 20, fanOut: 10 });
  assert.deepEqual(init.fanInOut([16, 3, 5, 5]), { fanIn: 75, fanOut: 400 });
  assertThrowsMsg(() => init.fanInOut([5]), /fanInOut/, /at least 2 dimensions/, /\[5\]/);
  assertThrowsMsg(() => init.fanInOut([0, 3]), /empty axis/);
  assertThrowsMsg(() => init.normal(g.zeros([2, 2], { dtype: 'int32' })), /can only fill float tensors, got int32/);
});

test('calculateGain values', () => {
  assert.equal(init.calculateGain('linear'), 1);
  assert.equal(init.calculateGain('sigmoid'), 1);
  assert.equal(init.calculateGain('tanh'), 5 / 3);
  assert.equal(init.calculateGain('relu'), Math.SQRT2);
  assert.ok(Math.abs(init.calculateGain('leakyRelu', 0.2) - Math.sqrt(2 / 1.04)) < 1e-12);
  assert.ok(Math.abs(init.calculateGain('leakyRelu') - Math.sqrt(2 / 1.0001)) < 1e-12);
  assert.equal(init.calculateGain('selu'), 0.75);
  assertThrowsMsg(() => init.calculateGain('swishy' as never), /unknown nonlinearity 'swishy'/);
});

test('zeros, constant, uniform (range and variance (b−a)²/12), normal', async () => {
  const rng = new g.Random(1);
  const t = g.zeros([100, 100]);
  init.constant(t, 3);
  await expectClose(t.slice([0, 0], [1, 3]), [3, 3, 3]);
  init.zeros(t);
  assert.equal((await stats(t)).max, 0);
  init.uniform(t, { low: -2, high: 4, rng });
  const s = await stats(t);
  assert.ok(s.min >= -2 && s.max < 4);
  assert.ok(Math.abs(s.mean - 1) < 0.05);
  assert.ok(Math.abs(s.variance / 3 - 1) < 0.04);
  init.normal(t, { mean: 0, std: 0.5, rng });
  await checkMoments(t, 0.25, 'normal');
  assertThrowsMsg(() => init.uniform(t, { low: 1, high: 0 }), /high \(0\) must be greater than low \(1\)/);
});

test('Xavier: variance 2/(fanIn+fanOut) for linear and conv shapes; uniform bound', async () => {
  const rng = new g.Random(2);
  const w = g.zeros([300, 200]);
  init.xavierNormal(w, { rng });
  await checkMoments(w, 2 / 500, 'xavierNormal');
  init.xavierUniform(w, { rng });
  await checkMoments(w, 2 / 500, 'xavierUniform');
  assert.ok((await stats(w)).max <= Math.sqrt(6 / 500));
  const c = g.zeros([64, 32, 3, 3]);
  init.xavierNormal(c, { rng, gain: 2 });
  await checkMoments(c, (4 * 2) / (32 * 9 + 64 * 9), 'xavierNormal conv, gain 2');
});

test('He: variance gain²/fan (2/fanIn for ReLU), fanOut mode, leaky slope, conv fan-in', async () => {
  const rng = new g.Random(3);
  const w = g.zeros([200, 300]);
  init.heNormal(w, { rng });
  await checkMoments(w, 2 / 300, 'heNormal');
  init.heUniform(w, { rng });
  await checkMoments(w, 2 / 300, 'heUniform');
  assert.ok((await stats(w)).max <= Math.sqrt(6 / 300));
  init.heNormal(w, { rng, mode: 'fanOut' });
  await checkMoments(w, 2 / 200, 'heNormal fanOut');
  init.heNormal(w, { rng, negativeSlope: 0.2 });
  await checkMoments(w, 2 / (1 + 0.04) / 300, 'heNormal leaky');
  const c = g.zeros([64, 16, 5, 5]);
  init.heNormal(c, { rng });
  await checkMoments(c, 2 / (16 * 25), 'heNormal conv');
  assertThrowsMsg(() => init.heNormal(c, { mode: 'fan_in' as never }), /mode must be 'fanIn' or 'fanOut'/);
});

test('LeCun: variance 1/fanIn', async () => {
  const rng = new g.Random(4);
  const w = g.zeros([250, 240]);
  init.lecunNormal(w, { rng });
  await checkMoments(w, 1 / 240, 'lecunNormal');
  init.lecunUniform(w, { rng });
  await checkMoments(w, 1 / 240, 'lecunUniform');
});

/** Max |(A·Aᵀ or Aᵀ·A) − gain²·I| over the small side, computed with plain loops in float64. */
async function orthoError(t: g.Tensor, gain: number): Promise<number> {
  const rows = t.shape[0];
  const cols = t.size / rows;
  const d = await t.data();
  const small = Math.min(rows, cols);
  let worst = 0;
  for (let i = 0; i < small; i++) {
    for (let j = 0; j < small; j++) {
      let s = 0;
      if (rows >= cols) for (let r = 0; r < rows; r++) s += d[r * cols + i] * d[r * cols + j];
      else for (let c = 0; c < cols; c++) s += d[i * cols + c] * d[j * cols + c];
      worst = Math.max(worst, Math.abs(s - (i === j ? gain * gain : 0)));
    }
  }
  return worst;
}

test('orthogonal: WᵀW = I (tall), WWᵀ = I (wide), conv shapes, gain', async () => {
  const rng = new g.Random(5);
  // In a float32 run the float64 cases get the bound this test holds float32 to (the conv case).
  const tol = byFloat(1e-12, 1e-5);
  const tall = init.orthogonal(g.zeros([40, 20], { dtype: FLOAT }), { rng });
  const tallErr = await orthoError(tall, 1);
  assert.ok(tallErr < tol, `tall ${tallErr}`);
  const wide = init.orthogonal(g.zeros([10, 30], { dtype: FLOAT }), { rng, gain: 2 });
  const wideErr = await orthoError(wide, 2);
  assert.ok(wideErr < tol, `wide ${wideErr}`);
  const conv = init.orthogonal(g.zeros([8, 4, 3, 3]), { rng });
  assert.ok((await orthoError(conv, 1)) < 1e-5);
  const square = init.orthogonal(g.zeros([16, 16], { dtype: FLOAT }), { rng });
  assert.ok((await orthoError(square, 1)) < tol);
  assertThrowsMsg(() => init.orthogonal(g.zeros([4])), /at least 2 dimensions/);
});

test('initializers are reproducible from the seed and use the global RNG by default', async () => {
  g.manualSeed(7);
  const a = init.heNormal(g.zeros([5, 5]));
  g.manualSeed(7);
  const b = init.heNormal(g.zeros([5, 5]));
  assert.deepEqual(await a.data(), await b.data());
  const c = init.heNormal(g.zeros([5, 5]), { rng: new g.Random(7) });
  const d = init.heNormal(g.zeros([5, 5]), { rng: new g.Random(7) });
  assert.deepEqual(await c.data(), await d.data());
});

test('layers take init and biasInit; defaults are He for weights and 0 for biases', async () => {
  const rng = new g.Random(8);
  const lin = new nn.Linear(400, 300, { rng });
  await checkMoments(lin.weight, 2 / 400, 'Linear default He');
  assert.equal((await stats(lin.bias!)).max, 0);
  const x = new nn.Linear(400, 300, { rng, init: 'xavier', biasInit: 0.01 });
  await checkMoments(x.weight, 2 / 700, 'Linear xavier');
  await expectClose(x.bias!.slice([0], [3]), [0.01, 0.01, 0.01]);
  const l = new nn.Linear(400, 300, { rng, init: 'lecun' });
  await checkMoments(l.weight, 1 / 400, 'Linear lecun');
  const conv = new nn.Conv2d(16, 64, 3, { rng });
  await checkMoments(conv.weight, 2 / (16 * 9), 'Conv2d default He');
  const leaky = new nn.Conv2d(16, 64, 3, { rng, negativeSlope: 0.2 });
  await checkMoments(leaky.weight, 2 / 1.04 / (16 * 9), 'Conv2d He for leaky ReLU 0.2');
  const tanhLin = new nn.Linear(400, 300, { rng, nonlinearity: 'tanh' });
  await checkMoments(tanhLin.weight, (25 / 9) / 400, 'Linear He with tanh gain');
  const custom = new nn.Linear(3, 2, { init: (w) => init.constant(w, 0.5), biasInit: (b) => init.constant(b, -1) });
  await expectClose(custom.weight, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  await expectClose(custom.bias!, [-1, -1]);
  const o = new nn.Linear(8, 8, { init: 'orthogonal', dtype: FLOAT, rng });
  // float32's bound as in the orthogonal test's conv case.
  assert.ok((await orthoError(o.weight, 1)) < byFloat(1e-12, 1e-5));
  assertThrowsMsg(() => new nn.Linear(2, 2, { init: 'glorot' as never }), /unknown init 'glorot'/);
});

test('LSUV: every layer output variance ends within tolerance of 1 on the batch; lsuvAsync does the same on any backend', async () => {
  const build = (seed: number) => {
    const rng = new g.Random(seed);
    return {
      rng,
      model: new nn.Sequential(
        new nn.Conv2d(3, 8, 3, { padding: 1, rng }), new nn.ReLU(),
        new nn.Flatten(),
        new nn.Linear(8 * 6 * 6, 32, { rng }), new nn.Tanh(),
        new nn.Linear(32, 10, { rng }),
      ),
      x: g.randn([16, 3, 6, 6], { rng, std: 3 }),
    };
  };
  const { rng, model, x } = build(9);
  model.eval();
  const sync = g.getBackend().syncReads !== false;
  const reports = sync ? nn.init.lsuv(model, x, { tolerance: 0.05, rng }) : await nn.init.lsuvAsync(model, x, { tolerance: 0.05, rng });
  if (sync) {
    // The async driver runs the same procedure: same reports from the same seed.
    const twin = build(9);
    twin.model.eval();
    assert.deepEqual(await nn.lsuvAsync(twin.model, twin.x, { tolerance: 0.05, rng: twin.rng }), reports);
  } else {
    assertThrowsMsg(() => nn.lsuv(model, x), /reads asynchronously; use await nn\.lsuvAsync/);
  }
  assert.equal(nn.init.lsuv, nn.lsuv);
  assert.equal(nn.init.lsuvAsync, nn.lsuvAsync);
  assert.deepEqual(reports.map((r) => r.name), ['0', '3', '5']);
  assert.equal(model.training, false, 'modes restored');
  // Independently re-measure each layer's output variance with hooks.
  const outs: g.Tensor[] = [];
  for (const i of [0, 3, 5]) model.at(i).registerForwardHook((_m, _i, o) => void outs.push(o));
  model.call(x);
  for (const [i, o] of outs.entries()) {
    const v = (await stats(o)).variance;
    assert.ok(Math.abs(v - 1) < 0.05, `layer ${reports[i].name}: variance ${v}`);
    assert.ok(reports[i].converged);
    assert.ok(Math.abs(reports[i].variance - v) < 1e-4);
  }
  assert.ok(reports.some((r) => r.iterations > 0), 'some layer needed rescaling');
  await expectThrowsMsg(() => nn.lsuvAsync(new nn.Sequential(new nn.ReLU()), x), /no layers to initialize/);
  if (sync) assertThrowsMsg(() => nn.lsuv(new nn.Sequential(new nn.ReLU()), x), /no layers to initialize/);
});
