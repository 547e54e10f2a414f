import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { GRU, LSTM, RNN } from '../../src/nn/recurrent.js';
import { unstack } from '../../src/nn/seq-unstack.js';
import { assertThrowsMsg, expectClose, expectGrad, FLOAT, values } from '../helpers.js';
import { expectModuleGrad } from './seq-helpers.js';

// ---- a slow, obvious reference in plain numbers ------------------------------------------------

type Mode = 'tanh' | 'relu' | 'lstm' | 'gru';
const sig = (v: number): number => 1 / (1 + Math.exp(-v));

/** W·v for W stored row-major as [rows, cols]. */
function matVec(w: ArrayLike<number>, rows: number, cols: number, v: number[]): number[] {
  const out = new Array<number>(rows).fill(0);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r] += w[r * cols + c] * v[c];
  return out;
}

interface RefLayer { wIh: ArrayLike<number>; wHh: ArrayLike<number>; bIh: ArrayLike<number>; bHh: ArrayLike<number> }

/** One step for one sample, written straight from the formulas in PyTorch's documentation. */
function refStep(mode: Mode, w: RefLayer, inSize: number, hSize: number, x: number[], h: number[], c: number[]): [number[], number[]] {
  const gates = mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
  const gi = matVec(w.wIh, gates * hSize, inSize, x).map((v, i) => v + w.bIh[i]);
  const gh = matVec(w.wHh, gates * hSize, hSize, h).map((v, i) => v + w.bHh[i]);
  const H = hSize;
  if (mode === 'tanh' || mode === 'relu') {
    const pre = gi.map((v, i) => v + gh[i]);
    return [pre.map((v) => (mode === 'tanh' ? Math.tanh(v) : Math.max(v, 0))), c];
  }
  if (mode === 'lstm') {
    const hn: number[] = [];
    const cn: number[] = [];
    for (let j = 0; j < H; j++) {
      const i = sig(gi[j] + gh[j]);
      const f = sig(gi[H + j] + gh[H + j]);
      const gg = Math.tanh(gi[2 * H + j] + gh[2 * H + j]);
      const o = sig(gi[3 * H + j] + gh[3 * H + j]);
      cn.push(f * c[j] + i * gg);
      hn.push(o * Math.tanh(cn[j]));
    }
    return [hn, cn];
  }
  const hn: number[] = [];
  for (let j = 0; j < H; j++) {
    const r = sig(gi[j] + gh[j]);
    const z = sig(gi[H + j] + gh[H + j]);
    const n = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
    hn.push((1 - z) * n + z * h[j]);
  }
  return [hn, c];
}

/**
 * Runs the reference over [N, T, F] data for every layer (and direction); returns output
 * [N][T][D·H] and final h/c [L·D][N][H], flattened.
 */
async function refRun(mode: Mode, m: RNN | LSTM | GRU, x: g.Tensor) {
  const [N, T, F] = x.shape;
  const xs = await x.data();
  const H = m.hiddenSize;
  const D = m.numDirections;
  const p = Object.fromEntries(m.namedParameters());
  let seq: number[][][] = Array.from({ length: N }, (_, n) => Array.from({ length: T }, (_, t) => Array.from(xs.slice((n * T + t) * F, (n * T + t + 1) * F))));
  const hs: number[][][] = [];
  const cs: number[][][] = [];
  for (let l = 0; l < m.numLayers; l++) {
    const next: number[][][] = Array.from({ length: N }, () => Array.from({ length: T }, () => []));
    for (let d = 0; d < D; d++) {
      const sfx = d === 0 ? '' : 'Reverse';
      const w: RefLayer = {
        wIh: await p[`weightIh${l}${sfx}`].data(), wHh: await p[`weightHh${l}${sfx}`].data(),
        bIh: await p[`biasIh${l}${sfx}`].data(), bHh: await p[`biasHh${l}${sfx}`].data(),
      };
      const inSize = l === 0 ? F : D * H;
      hs.push([]);
      cs.push([]);
      for (let n = 0; n < N; n++) {
        let h = new Array<number>(H).fill(0);
        let c = new Array<number>(H).fill(0);
        for (let k = 0; k < T; k++) {
          const t = d === 0 ? k : T - 1 - k;
          [h, c] = refStep(mode, w, inSize, H, seq[n][t], h, c);
          next[n][t].push(...h);
        }
        hs[hs.length - 1].push(h);
        cs[cs.length - 1].push(c);
      }
    }
    seq = next;
  }
  return { output: seq.flat(2), hidden: hs.flat(2), cell: cs.flat(2) };
}

const f64 = (shape: number[], seed: number): g.Tensor => g.randn(shape, { dtype: FLOAT, seed });

// ---- tests ---------------------------------------------------------------------------------------

test('LSTM one step equals the cell computed by hand (gate order i, f, g, o)', async () => {
  // inputSize 1, hiddenSize 1: every gate is one number, so the arithmetic fits in the test.
  const lstm = new LSTM(1, 1, { dtype: FLOAT });
  lstm.weightIh0.assign([0.5, -0.3, 0.8, 0.1]);   // i, f, g, o
  lstm.weightHh0.assign([0.2, 0.4, -0.6, 0.9]);
  lstm.biasIh0.assign([0.1, 0.2, 0.0, -0.1]);
  lstm.biasHh0.assign([0.0, 0.1, 0.05, 0.0]);
  const x = 2;
  const h0 = 0.5;
  const c0 = -1;
  const i = sig(0.5 * x + 0.1 + 0.2 * h0);
  const f = sig(-0.3 * x + 0.2 + 0.4 * h0 + 0.1);
  const gg = Math.tanh(0.8 * x - 0.6 * h0 + 0.05);
  const o = sig(0.1 * x - 0.1 + 0.9 * h0);
  const c1 = f * c0 + i * gg;
  const h1 = o * Math.tanh(c1);
  const r = lstm.call(g.tensor([[[x]]], { dtype: FLOAT }), {
    hidden: g.tensor([[[h0]]], { dtype: FLOAT }), cell: g.tensor([[[c0]]], { dtype: FLOAT }),
  });
  assert.deepEqual(r.output.shape, [1, 1, 1]);
  await expectClose(r.output, [h1], { atol: 1e-14 });
  await expectClose(r.hidden, [h1], { atol: 1e-14 });
  await expectClose(r.cell, [c1], { atol: 1e-14 });
});

test('GRU one step equals the cell computed by hand (gate order r, z, n; b_hn inside the reset product)', async () => {
  const gru = new GRU(1, 1, { dtype: FLOAT });
  gru.weightIh0.assign([0.7, -0.2, 0.5]);   // r, z, n
  gru.weightHh0.assign([0.3, 0.6, -0.4]);
  gru.biasIh0.assign([0.1, 0.0, 0.2]);
  gru.biasHh0.assign([-0.1, 0.3, 0.25]);
  const x = 1.5;
  const h0 = -0.4;
  const rr = sig(0.7 * x + 0.1 + 0.3 * h0 - 0.1);
  const z = sig(-0.2 * x + 0.6 * h0 + 0.3);
  const n = Math.tanh(0.5 * x + 0.2 + rr * (-0.4 * h0 + 0.25));
  const h1 = (1 - z) * n + z * h0;
  const r = gru.call(g.tensor([[[x]]], { dtype: FLOAT }), { hidden: g.tensor([[[h0]]], { dtype: FLOAT }) });
  await expectClose(r.output, [h1], { atol: 1e-14 });
  await expectClose(r.hidden, [h1], { atol: 1e-14 });
});

test('RNN, LSTM, GRU over sequences and layers match the plain-number reference', async () => {
  const cases: [Mode, RNN | LSTM | GRU][] = [
    ['tanh', new RNN(3, 4, { numLayers: 2, dtype: FLOAT, rng: new g.Random(1) })],
    ['relu', new RNN(3, 4, { nonlinearity: 'relu', dtype: FLOAT, rng: new g.Random(2) })],
    ['lstm', new LSTM(3, 4, { numLayers: 2, dtype: FLOAT, rng: new g.Random(3) })],
    ['gru', new GRU(3, 4, { numLayers: 3, dtype: FLOAT, rng: new g.Random(4) })],
    ['lstm', new LSTM(3, 4, { numLayers: 2, bidirectional: true, dtype: FLOAT, rng: new g.Random(5) })],
    ['gru', new GRU(3, 4, { bidirectional: true, dtype: FLOAT, rng: new g.Random(6) })],
    ['tanh', new RNN(3, 4, { numLayers: 2, bidirectional: true, dtype: FLOAT, rng: new g.Random(7) })],
  ];
  const x = f64([2, 5, 3], 7);
  for (const [mode, m] of cases) {
    const r = m.call(x) as { output: g.Tensor; hidden: g.Tensor; cell?: g.Tensor };
    const ref = await refRun(mode, m, x);
    const D = m.numDirections;
    assert.deepEqual(r.output.shape, [2, 5, 4 * D], mode);
    assert.deepEqual(r.hidden.shape, [m.numLayers * D, 2, 4], mode);
    await expectClose(r.output, ref.output, { atol: 1e-12, msg: `${mode} output` });
    await expectClose(r.hidden, ref.hidden, { atol: 1e-12, msg: `${mode} hidden` });
    if (mode === 'lstm') await expectClose(r.cell!, ref.cell, { atol: 1e-12, msg: 'lstm cell' });
    // The last output step is the top layer's final hidden state (forward direction); the
    // reverse direction ends at step 0.
    const top = (m.numLayers - 1) * D;
    await expectClose(r.output.slice([0, 4, 0], [2, 5, 4]), await values(r.hidden.slice([top], [top + 1])), { atol: 0 });
    if (D === 2) await expectClose(r.output.slice([0, 0, 4], [2, 1, 8]), await values(r.hidden.slice([top + 1])), { atol: 0 });
  }
});

test('an initial state is used, and a sequence split in two with the state carried equals the whole', async () => {
  const lstm = new LSTM(2, 3, { numLayers: 2, dtype: FLOAT, rng: new g.Random(5) });
  const x = f64([2, 6, 2], 8);
  const whole = lstm.call(x);
  const first = lstm.call(x.slice([0, 0], [2, 3]));
  const second = lstm.call(x.slice([0, 3]), { hidden: first.hidden, cell: first.cell });
  await expectClose(second.output, await values(whole.output.slice([0, 3])), { atol: 1e-12 });
  await expectClose(second.hidden, await values(whole.hidden), { atol: 1e-12 });
  await expectClose(second.cell, await values(whole.cell), { atol: 1e-12 });

  const gru = new GRU(2, 3, { dtype: FLOAT, rng: new g.Random(6) });
  const a = gru.call(x.slice([0, 0], [2, 2]));
  const b = gru.call(x.slice([0, 2]), { hidden: a.hidden });
  await expectClose(b.hidden, await values(gru.call(x).hidden), { atol: 1e-12 });
  // A non-zero initial state changes the result.
  const other = gru.call(x, { hidden: g.ones([1, 2, 3], { dtype: FLOAT }) });
  assert.ok(Math.abs((await other.output.data())[0] - (await gru.call(x).output.data())[0]) > 1e-6);
});

test('parameter names, shapes and PyTorch default init U(-1/sqrt(H), 1/sqrt(H))', async () => {
  const lstm = new LSTM(5, 16, { numLayers: 2, rng: new g.Random(9) });
  const shapes = Object.fromEntries([...lstm.namedParameters()].map(([n, p]) => [n, p.shape]));
  assert.deepEqual(shapes, {
    weightIh0: [64, 5], weightHh0: [64, 16], biasIh0: [64], biasHh0: [64],
    weightIh1: [64, 16], weightHh1: [64, 16], biasIh1: [64], biasHh1: [64],
  });
  assert.equal(lstm.numParameters(), 4 * 16 * (5 + 16 + 2) + 4 * 16 * (16 + 16 + 2));
  const k = 0.25;
  const w = await values(lstm.weightHh1);
  assert.ok(w.every((v) => v >= -k && v <= k));
  // U(-k, k) has variance k²/3; 1024 samples put the estimate well within 15%.
  const mean = w.reduce((s, v) => s + v, 0) / w.length;
  const variance = w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length;
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(variance / (k * k / 3) - 1) < 0.15, `variance ${variance}`);
  assert.ok(lstm.biasIh0.tags.has('noDecay'));
  assert.deepEqual([...new GRU(2, 3, { bias: false }).namedParameters()].map(([n, p]) => `${n}:${p.shape}`), ['weightIh0:9,2', 'weightHh0:9,3']);
  assert.equal(new RNN(2, 3).parameters().length, 4);
  assert.equal(new LSTM(4, 8, { numLayers: 2, dropout: 0.2 }).toString(), 'LSTM(4, 8, numLayers=2, dropout=0.2)');
  const bi = new GRU(2, 3, { numLayers: 2, bidirectional: true });
  assert.deepEqual([...bi.namedParameters()].map(([n, p]) => `${n}:${p.shape}`), [
    'weightIh0:9,2', 'weightHh0:9,3', 'biasIh0:9', 'biasHh0:9', 'weightIh0Reverse:9,2', 'weightHh0Reverse:9,3', 'biasIh0Reverse:9', 'biasHh0Reverse:9',
    'weightIh1:9,6', 'weightHh1:9,3', 'biasIh1:9', 'biasHh1:9', 'weightIh1Reverse:9,6', 'weightHh1Reverse:9,3', 'biasIh1Reverse:9', 'biasHh1Reverse:9',
  ]);
});

test('without bias the layers still match the reference (zero biases)', async () => {
  const gru = new GRU(2, 3, { bias: false, dtype: FLOAT, rng: new g.Random(11) });
  const withBias = new GRU(2, 3, { dtype: FLOAT, rng: new g.Random(11) });
  withBias.weightIh0.assign(gru.weightIh0);
  withBias.weightHh0.assign(gru.weightHh0);
  withBias.biasIh0.assign(new Float64Array(9));
  withBias.biasHh0.assign(new Float64Array(9));
  const x = f64([1, 4, 2], 12);
  await expectClose(gru.call(x).output, await values(withBias.call(x).output), { atol: 1e-14 });
});

test('gradients w.r.t. input, initial state and every parameter (gradCheck, float64)', async () => {
  const x = f64([2, 3, 2], 20);
  const h0 = f64([2, 2, 3], 21).mul(0.5);
  const c0 = f64([2, 2, 3], 22).mul(0.5);
  const lstm = new LSTM(2, 3, { numLayers: 2, rng: new g.Random(23) });
  await expectModuleGrad(lstm, [x, h0, c0], (a, h, c) => {
    const r = lstm.call(a, { hidden: h, cell: c });
    return g.concat([r.output.flatten(), r.hidden.flatten(), r.cell.flatten()]);
  });
  const gru = new GRU(2, 3, { numLayers: 2, rng: new g.Random(24) });
  await expectModuleGrad(gru, [x, h0], (a, h) => {
    const r = gru.call(a, { hidden: h });
    return g.concat([r.output.flatten(), r.hidden.flatten()]);
  });
  const rnn = new RNN(2, 3, { rng: new g.Random(25) });
  await expectModuleGrad(rnn, [x], (a) => rnn.call(a).output);
  const bi = new LSTM(2, 2, { numLayers: 2, bidirectional: true, rng: new g.Random(26) });
  const h4 = f64([4, 2, 2], 27).mul(0.5);
  await expectModuleGrad(bi, [x, h4], (a, h) => {
    const r = bi.call(a, { hidden: h });
    return g.concat([r.output.flatten(), r.cell.flatten()]);
  });
});

test('unstack: the steps along an axis, with and without a gradient to route back', async () => {
  const x = f64([2, 7, 3], 50);
  for (const xs of [x, x.detach()]) {
    const steps = unstack(xs, 1);
    assert.equal(steps.length, 7);
    for (const [t, s] of steps.entries()) {
      assert.deepEqual(s.shape, [2, 3]);
      await expectClose(s, await values(x.slice([0, t], [2, t + 1])), { atol: 0 });
    }
  }
  // Each step weighted differently, so a gradient routed to the wrong step would show.
  await expectGrad((a) => g.concat(unstack(a, 1).map((s, t) => s.mul(t + 1).square().flatten())), [x]);
  // The recurrent layers give the same result under noGrad (flat split) as with gradients (tree).
  const gru = new GRU(3, 2, { dtype: FLOAT, rng: new g.Random(51) });
  await expectClose(g.noGrad(() => gru.call(x).output), await values(gru.call(x).output), { atol: 0 });
});

test('a long sequence backpropagates without overflowing the stack', async () => {
  const gru = new GRU(2, 4, { rng: new g.Random(30) });
  const x = g.randn([1, 400, 2], { seed: 31, requiresGrad: true });
  gru.call(x).hidden.sum().backward();
  assert.ok(x.grad !== null && gru.weightHh0.grad !== null);
  const xg = await x.grad.data();
  assert.ok(xg.every(Number.isFinite));
  // The last input influences the final state; so does the first, through 400 steps of recurrence.
  assert.ok(xg.slice(-2).some((v) => v !== 0));
});

test('dropout between layers acts in training only', async () => {
  const lstm = new LSTM(3, 4, { numLayers: 2, dropout: 0.5, dtype: FLOAT, rng: new g.Random(40) });
  const plain = new LSTM(3, 4, { numLayers: 2, dtype: FLOAT, rng: new g.Random(40) });
  const x = f64([2, 4, 3], 41);
  lstm.eval();
  await expectClose(lstm.call(x).output, await values(plain.call(x).output), { atol: 0 });
  lstm.train();
  g.manualSeed(42);
  const a = await lstm.call(x).output.data();
  const b = await plain.call(x).output.data();
  assert.ok(a.some((v, i) => Math.abs(v - b[i]) > 1e-6), 'training output should differ from the dropout-free one');
  // A single layer has nowhere to put dropout: train equals eval.
  const one = new GRU(3, 4, { dropout: 0.5, dtype: FLOAT, rng: new g.Random(43) });
  const tr = await one.call(x).output.data();
  await expectClose(one.eval().call(x).output, tr, { atol: 0 });
});

test('bad input gives a clear error', async () => {
  const lstm = new LSTM(3, 4, { numLayers: 2 });
  assertThrowsMsg(() => lstm.call(g.zeros([2, 5])), /LSTM/, /\[N, T, 3\]/, /\[2, 5\]/);
  assertThrowsMsg(() => lstm.call(g.zeros([2, 5, 4])), /LSTM/, /\[2, 5, 4\]/);
  assertThrowsMsg(() => lstm.call(g.zeros([2, 0, 3])), /no batch or no time steps/);
  assertThrowsMsg(() => lstm.call(g.zeros([2, 5, 3]), { hidden: g.zeros([1, 2, 4]) }), /initial hidden/, /\[2, 2, 4\]/, /\[1, 2, 4\]/);
  assertThrowsMsg(() => lstm.call(g.zeros([2, 5, 3]), { cell: g.zeros([2, 3, 4]) }), /initial cell/);
  assertThrowsMsg(() => new RNN(3, 4, { nonlinearity: 'sigmoid' as never }), /nonlinearity must be 'tanh' or 'relu'/);
  const bi = new GRU(3, 4, { bidirectional: true });
  assertThrowsMsg(() => bi.call(g.zeros([2, 5, 3]), { hidden: g.zeros([1, 2, 4]) }), /\[numLayers·2, N, H\] = \[2, 2, 4\]/);
  assertThrowsMsg(() => new GRU(3, 0), /hiddenSize must be a positive integer/);
  assertThrowsMsg(() => new GRU(3, 2, { numLayers: 1.5 }), /numLayers/);
  assertThrowsMsg(() => new LSTM(3, 2, { dropout: 1 }), /p must be in \[0, 1\)/);
});
