import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as g from '../../src/index.js';
import { MultiheadAttention, TransformerEncoder, TransformerEncoderLayer, causalMask, scaledDotProductAttention } from '../../src/nn/attention.js';
import { assertThrowsMsg, byFloat, expectClose, expectGrad, expectThrowsMsg, FLOAT, values } from '../helpers.js';
import { expectModuleGrad } from './seq-helpers.js';

const f64 = (shape: number[], seed: number): g.Tensor => g.randn(shape, { dtype: FLOAT, seed });
const bool = (rows: number[][]): g.Tensor => g.tensor(rows).gt(0);

// ---- a slow, obvious reference: one [L, d] × [S, d] × [S, dv] attention in plain numbers ----------

type Mat = number[][];

/** softmax(q·kᵀ/√d + add)·v, with blocked[i][j] = true removing key j for query i. */
function refAttention(q: Mat, k: Mat, v: Mat, blocked?: boolean[][], add?: Mat): { out: Mat; w: Mat } {
  const d = q[0].length;
  const w = q.map((qi, i) => {
    const s = k.map((kj, j) => {
      if (blocked?.[i][j]) return -Infinity;
      let dot = 0;
      for (let c = 0; c < d; c++) dot += qi[c] * kj[c];
      return dot / Math.sqrt(d) + (add ? add[i][j] : 0);
    });
    const m = Math.max(...s);
    const e = s.map((x) => Math.exp(x - m));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / z);
  });
  const out = w.map((wi) => v[0].map((_, c) => wi.reduce((acc, wij, j) => acc + wij * v[j][c], 0)));
  return { out, w };
}

/** Rows of a [..., R, C] tensor's slice `b` (flattened leading index) as nested arrays. */
async function mat(t: g.Tensor, b = 0): Promise<Mat> {
  const [r, c] = t.shape.slice(-2);
  const data = await t.data();
  return Array.from({ length: r }, (_, i) => Array.from(data.subarray((b * r + i) * c, (b * r + i + 1) * c)));
}

// ---- scaled dot-product attention ------------------------------------------------------------------

test('scaledDotProductAttention equals an explicit softmax(QK^T/sqrt(d))V loop, per batch', async () => {
  const q = f64([2, 3, 4], 1);
  const k = f64([2, 5, 4], 2);
  const v = f64([2, 5, 3], 3);
  const y = scaledDotProductAttention(q, k, v);
  assert.deepEqual(y.shape, [2, 3, 3]);
  for (let b = 0; b < 2; b++) await expectClose(y.slice([b], [b + 1]), refAttention(await mat(q, b), await mat(k, b), await mat(v, b)).out.flat(), { atol: 1e-12 });
  // A custom scale is used instead of 1/√d.
  const s = scaledDotProductAttention(q, k, v, { scale: 0.5 });
  const ref = refAttention((await mat(q)).map((r) => r.map((x) => x * 0.5 * 2)), await mat(k), await mat(v));
  await expectClose(s.slice([0], [1]), ref.out.flat(), { atol: 1e-12 });
});

test('a masked key gets zero weight: the output equals attention over the allowed keys only', async () => {
  const q = f64([2, 4], 4);
  const k = f64([3, 4], 5);
  const v = f64([3, 2], 6);
  // Block key 1 for query 0 and key 2 for query 1.
  const mask = bool([[0, 1, 0], [0, 0, 1]]);
  const y = scaledDotProductAttention(q, k, v, { mask });
  const [qm, km, vm] = [await mat(q), await mat(k), await mat(v)];
  const ref = refAttention(qm, km, vm, [[false, true, false], [false, false, true]]);
  await expectClose(y, ref.out.flat(), { atol: 1e-12 });
  assert.equal(ref.w[0][1], 0);
  // Query 0 without key 1 is attention over keys {0, 2}.
  const only = scaledDotProductAttention(q.slice([0], [1]), g.concat([k.slice([0], [1]), k.slice([2], [3])]), g.concat([v.slice([0], [1]), v.slice([2], [3])]));
  await expectClose(y.slice([0], [1]), await values(only), { atol: 1e-12 });
  // A float mask is added to the scores; a broadcast [1, S] mask applies to every query.
  const add = g.tensor([[0.5, -1, 2], [0, 0.25, -0.75]], { dtype: FLOAT });
  await expectClose(scaledDotProductAttention(q, k, v, { mask: add }), refAttention(qm, km, vm, undefined, await mat(add)).out.flat(), { atol: 1e-12 });
  const row = bool([[1, 0, 0]]);
  await expectClose(scaledDotProductAttention(q, k, v, { mask: row }), refAttention(qm, km, vm, [[true, false, false], [true, false, false]]).out.flat(), { atol: 1e-12 });
});

test('causal attention: query i sees keys 0..i only; equals the explicit upper-triangle mask', async () => {
  const q = f64([2, 4, 3], 7);
  const k = f64([2, 4, 3], 8);
  const v = f64([2, 4, 2], 9);
  const y = scaledDotProductAttention(q, k, v, { causal: true });
  const tri = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => j > i));
  for (let b = 0; b < 2; b++) await expectClose(y.slice([b], [b + 1]), refAttention(await mat(q, b), await mat(k, b), await mat(v, b), tri).out.flat(), { atol: 1e-12 });
  assert.deepEqual(await values(causalMask(2, 3)), [0, 1, 1, 0, 0, 1]);
  // The first query's output is exactly the first value row (its only allowed key).
  await expectClose(y.slice([0, 0], [1, 1]), await values(v.slice([0, 0], [1, 1])), { atol: 1e-15 });
  // Changing a future key/value does not change earlier outputs.
  const v2 = v.add(g.tensor([0, 0, 0, 1], { dtype: FLOAT }).reshape([1, 4, 1]));
  const y2 = scaledDotProductAttention(q, k, v2, { causal: true });
  await expectClose(y2.slice([0, 0], [2, 3]), await values(y.slice([0, 0], [2, 3])), { atol: 1e-15 });
});

test('scaledDotProductAttention gradients w.r.t. q, k, v (gradCheck, float64), plain and causal', async () => {
  const q = f64([2, 3, 4], 10);
  const k = f64([2, 3, 4], 11);
  const v = f64([2, 3, 2], 12);
  await expectGrad((a, b, c) => scaledDotProductAttention(a, b, c), [q, k, v]);
  await expectGrad((a, b, c) => scaledDotProductAttention(a, b, c, { causal: true }), [q, k, v]);
});

test('scaledDotProductAttention gradients w.r.t. q, k, v (gradCheck, float64), with masks', async () => {
  const q = f64([2, 3, 4], 10);
  // The masks, k and v are made inside the checked functions (expectGrad replays them on the reference backend).
  await expectGrad((a, b, c) => scaledDotProductAttention(a, b, c, { mask: bool([[0, 0, 1], [1, 0, 0], [0, 0, 0]]) }), [q, f64([2, 3, 4], 11), f64([2, 3, 2], 12)]);
  // A float mask is differentiable too (a learned bias).
  await expectGrad((a, m) => scaledDotProductAttention(a, f64([2, 3, 4], 11), f64([2, 3, 2], 12), { mask: m }), [q, f64([3, 3], 13)]);
});

test('attention errors: mismatched shapes, bad masks', () => {
  const q = g.zeros([2, 3, 4]);
  assertThrowsMsg(() => scaledDotProductAttention(q, g.zeros([2, 3, 5]), g.zeros([2, 3, 2])), /same last axis/, /\[2, 3, 5\]/);
  assertThrowsMsg(() => scaledDotProductAttention(q, g.zeros([2, 3, 4]), g.zeros([2, 4, 2])), /same number of keys/);
  assertThrowsMsg(() => scaledDotProductAttention(g.zeros([4]), q, q), /at least 2-D/);
  assertThrowsMsg(() => scaledDotProductAttention(q, q, q, { mask: g.zeros([2, 2]).gt(0) }), /mask of shape \[2, 2\] does not broadcast/, /\[2, 3, 3\]/);
  assertThrowsMsg(() => scaledDotProductAttention(q, q, q, { mask: g.zeros([3, 3], { dtype: 'int32' }) }), /must be bool .* or float/);
  assertThrowsMsg(() => scaledDotProductAttention(q, q, q, { dropout: 1 }), /p must be in \[0, 1\)/);
});

test('a query whose every key is masked is an error (scaledDotProductAttention, MultiheadAttention)', async () => {
  const q = g.zeros([2, 3, 4]);
  const all = bool([[0, 0, 0], [1, 1, 1], [0, 0, 0]]);
  await expectThrowsMsg(() => scaledDotProductAttention(q, q, q, { mask: all }), /every key is masked for query row 1/);
  const m = new MultiheadAttention(4, 2);
  await expectThrowsMsg(() => m.call(q, q, q, { keyPaddingMask: g.ones([2, 3]).gt(0) }).output, /every key is masked/);
});

// ---- multi-head attention ----------------------------------------------------------------------------

/** Plain-number multi-head attention for sample b, from the module's weights. */
async function refMha(m: MultiheadAttention, q: g.Tensor, k: g.Tensor, v: g.Tensor, b: number, blockedKeys: boolean[] = []): Promise<{ out: Mat; w: Mat }> {
  const e = m.embedDim;
  const hd = m.headDim;
  const bias = await m.inProjBias!.data();
  // Part p's weight rows: a third of the packed matrix, or the separate q/k/v matrix.
  const packed = m.inProjWeight ? await m.inProjWeight.data() : null;
  const parts = packed
    ? [0, 1, 2].map((p) => packed.subarray(p * e * e, (p + 1) * e * e))
    : await Promise.all([m.qProjWeight!, m.kProjWeight!, m.vProjWeight!].map((t) => t.data()));
  const proj = (x: Mat, part: number): Mat => x.map((row) => Array.from({ length: e }, (_, o) => {
    let s = bias[part * e + o];
    for (let i = 0; i < row.length; i++) s += parts[part][o * row.length + i] * row[i];
    return s;
  }));
  const [qp, kp, vp] = [proj(await mat(q, b), 0), proj(await mat(k, b), 1), proj(await mat(v, b), 2)];
  const concat: Mat = qp.map(() => []);
  const wAvg: Mat = qp.map(() => new Array<number>(kp.length).fill(0));
  for (let h = 0; h < m.numHeads; h++) {
    const cut = (x: Mat): Mat => x.map((r) => r.slice(h * hd, (h + 1) * hd));
    const blocked = qp.map(() => kp.map((_, j) => blockedKeys[j] ?? false));
    const r = refAttention(cut(qp), cut(kp), cut(vp), blocked);
    r.out.forEach((row, i) => concat[i].push(...row));
    r.w.forEach((row, i) => row.forEach((x, j) => { wAvg[i][j] += x / m.numHeads; }));
  }
  const ow = await m.outProj.weight.data();
  const ob = await m.outProj.bias!.data();
  const out = concat.map((row) => Array.from({ length: e }, (_, o) => row.reduce((s, x, i) => s + ow[o * e + i] * x, ob[o])));
  return { out, w: wAvg };
}

/** The module and inputs of the two MultiheadAttention reference tests below. */
function mhaCase(): { m: MultiheadAttention; q: g.Tensor; k: g.Tensor; v: g.Tensor } {
  const m = new MultiheadAttention(4, 2, { dtype: FLOAT, rng: new g.Random(20) });
  // Non-zero biases so the test sees them (PyTorch initialises them to 0).
  m.inProjBias!.assign(Array.from({ length: 12 }, (_, i) => 0.1 * i - 0.5));
  m.outProj.bias!.assign([0.1, -0.2, 0.3, 0.05]);
  return { m, q: f64([2, 3, 4], 21), k: f64([2, 5, 4], 22), v: f64([2, 5, 4], 23) };
}

test('MultiheadAttention equals a per-head plain-number computation; key padding gets zero weight', async () => {
  const { m, q, k, v } = mhaCase();
  const pad = bool([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]]);
  const { output, weights } = m.call(q, k, v, { keyPaddingMask: pad });
  assert.deepEqual(output.shape, [2, 3, 4]);
  assert.deepEqual(weights!.shape, [2, 3, 5]);
  for (let b = 0; b < 2; b++) {
    const ref = await refMha(m, q, k, v, b, b === 0 ? [false, false, false, true, true] : []);
    await expectClose(output.slice([b], [b + 1]), ref.out.flat(), { atol: 1e-12, msg: `sample ${b}` });
    await expectClose(weights!.slice([b], [b + 1]), ref.w.flat(), { atol: 1e-12, msg: `weights ${b}` });
  }
  const w0 = await mat(weights!, 0);
  for (const row of w0) {
    assert.equal(row[3], 0);
    assert.equal(row[4], 0);
    // A float32 row (webgpu) sums to 1 within float32 rounding of its softmax.
    await expectClose([row.reduce((a, c) => a + c, 0)], [1], { atol: byFloat(1e-12, 1e-6) });
  }
});

test('MultiheadAttention: per-head weights, no weights, self-attention shorthand', async () => {
  const { m, q, k, v } = mhaCase();
  // Per-head weights, and none at all.
  const per = m.call(q, k, v, { averageAttnWeights: false }).weights!;
  assert.deepEqual(per.shape, [2, 2, 3, 5]);
  await expectClose(per.mean(1), await values(m.call(q, k, v).weights!), { atol: 1e-14 });
  assert.equal(m.call(q, k, v, { needWeights: false }).weights, null);
  // Self-attention shorthand: key and value default to the query.
  await expectClose(m.call(q).output, await values(m.call(q, q, q).output), { atol: 0 });
});

test('MultiheadAttention with kdim/vdim: separate projections, equal to the per-head reference; gradients', async () => {
  const m = new MultiheadAttention(4, 2, { kdim: 3, vdim: 5, dtype: FLOAT, rng: new g.Random(25) });
  assert.equal(m.inProjWeight, null);
  assert.deepEqual([...m.namedParameters()].map(([n, p]) => `${n}:${p.shape}`), [
    'qProjWeight:4,4', 'kProjWeight:4,3', 'vProjWeight:4,5', 'inProjBias:12', 'outProj.weight:4,4', 'outProj.bias:4',
  ]);
  m.inProjBias!.assign(Array.from({ length: 12 }, (_, i) => 0.05 * i));
  const q = f64([2, 3, 4], 26);
  const k = f64([2, 2, 3], 27);
  const v = f64([2, 2, 5], 28);
  const { output } = m.call(q, k, v);
  for (let b = 0; b < 2; b++) await expectClose(output.slice([b], [b + 1]), (await refMha(m, q, k, v, b)).out.flat(), { atol: 1e-12 });
  assertThrowsMsg(() => m.call(q, q, v), /key must be \[N, S, 3\]/, /\[2, 3, 4\]/);
  assertThrowsMsg(() => m.call(q, k, k), /value must be \[N, S, 5\]/);
  await expectModuleGrad(m, [q, k, v], (a, b, c) => m.call(a, b, c).output, { maxElementsPerInput: 20 });
  assert.equal(m.toString().split('\n')[1].trim(), 'embedDim=4, numHeads=2, kdim=3, vdim=5, dropout=0, bias=true');
});

test('MultiheadAttention attnMask: [L, S] shared, [N*heads, L, S] per head, causal, and unbatched input', async () => {
  const m = new MultiheadAttention(4, 2, { dtype: FLOAT, rng: new g.Random(30) });
  const x = f64([2, 3, 4], 31);
  const causal = causalMask(3, 3);
  const a = m.call(x, x, x, { attnMask: causal });
  const b = m.call(x, x, x, { isCausal: true });
  await expectClose(a.output, await values(b.output), { atol: 0 });
  const w = await a.weights!.data();
  for (let n = 0; n < 2; n++) for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) assert.equal(w[n * 9 + i * 3 + j], 0);
  // The same mask repeated for every (sample, head) equals the shared one.
  const rep = g.stack(Array.from({ length: 4 }, () => causal));
  await expectClose(m.call(x, x, x, { attnMask: rep }).output, await values(a.output), { atol: 0 });
  // Different masks per head: head 1 of sample 0 may only look at key 0.
  const perHead = g.stack([causal, bool([[0, 1, 1], [0, 1, 1], [0, 1, 1]]), causal, causal]);
  const ph = m.call(x, x, x, { attnMask: perHead, averageAttnWeights: false }).weights!;
  await expectClose(ph.slice([0, 1], [1, 2]).reshape([9]), [1, 0, 0, 1, 0, 0, 1, 0, 0], { atol: 1e-15 });
  // Unbatched [L, E] input equals the batch of one.
  const one = x.slice([0], [1]);
  const ub = m.call(one.reshape([3, 4]), undefined, undefined, { keyPaddingMask: bool([[0, 0, 1]]).reshape([3]) });
  const bb = m.call(one, one, one, { keyPaddingMask: bool([[0, 0, 1]]) });
  assert.deepEqual(ub.output.shape, [3, 4]);
  assert.deepEqual(ub.weights!.shape, [3, 3]);
  await expectClose(ub.output, await values(bb.output), { atol: 1e-15 });
});

test('MultiheadAttention gradients w.r.t. query, key, value and every parameter (gradCheck, float64)', async () => {
  const m = new MultiheadAttention(4, 2, { rng: new g.Random(40) });
  const q = f64([2, 3, 4], 41);
  const kv = f64([2, 2, 4], 42);
  // The mask is made inside the checked function (expectGrad replays it on the reference backend).
  await expectModuleGrad(m, [q, kv, kv.mul(0.5)], (a, b, c) => m.call(a, b, c, { keyPaddingMask: bool([[0, 1], [0, 0]]) }).output);
});

test('MultiheadAttention dropout acts on the weights in training only; init and parameter count', async () => {
  const m = new MultiheadAttention(8, 4, { dropout: 0.5, dtype: FLOAT, rng: new g.Random(50) });
  const plain = new MultiheadAttention(8, 4, { dtype: FLOAT, rng: new g.Random(50) });
  const x = f64([2, 5, 8], 51);
  m.eval();
  await expectClose(m.call(x).output, await values(plain.call(x).output), { atol: 0 });
  m.train();
  g.manualSeed(52);
  const tr = m.call(x);
  const ev = await values(plain.call(x).output);
  assert.ok((await values(tr.output)).some((v, i) => Math.abs(v - ev[i]) > 1e-6));
  // The returned weights are the distribution (before dropout): rows still sum to 1.
  await expectClose(tr.weights!.sum(-1), new Array(10).fill(1), { atol: 1e-12 });
  assert.equal(m.numParameters(), 3 * 8 * 8 + 3 * 8 + 8 * 8 + 8);
  assert.deepEqual([...m.namedParameters()].map(([n]) => n), ['inProjWeight', 'inProjBias', 'outProj.weight', 'outProj.bias']);
  assert.ok((await values(m.inProjBias!)).every((v) => v === 0));
  // Xavier uniform on [3E, E]: bound √(6/(E + 3E)).
  const bound = Math.sqrt(6 / 32);
  assert.ok((await values(m.inProjWeight!)).every((v) => Math.abs(v) <= bound));
  assert.ok((await values(m.outProj.weight)).every((v) => Math.abs(v) <= 1 / Math.sqrt(8)));
  assert.equal(new MultiheadAttention(4, 2, { bias: false }).numParameters(), 4 * 4 * 4);
});

test('MultiheadAttention errors name the problem', () => {
  assertThrowsMsg(() => new MultiheadAttention(10, 3), /embedDim \(10\) must be divisible by numHeads \(3\)/);
  assertThrowsMsg(() => new MultiheadAttention(8, 0), /numHeads must be a positive integer/);
  const m = new MultiheadAttention(4, 2);
  const x = g.zeros([2, 3, 4]);
  assertThrowsMsg(() => m.call(g.zeros([2, 3, 5])), /query must be \[N, L, 4\]/, /\[2, 3, 5\]/);
  assertThrowsMsg(() => m.call(x, g.zeros([3, 3, 4]), g.zeros([3, 3, 4])), /same batch size/);
  assertThrowsMsg(() => m.call(x, g.zeros([2, 4, 4]), g.zeros([2, 5, 4])), /same length S/);
  assertThrowsMsg(() => m.call(x, x, x, { keyPaddingMask: g.zeros([2, 4]).gt(0) }), /keyPaddingMask must be \[2, 3\]/, /\[2, 4\]/);
  assertThrowsMsg(() => m.call(x, x, x, { attnMask: g.zeros([3, 4]).gt(0) }), /attnMask must be \[L, S\] = \[3, 3\] or \[N·numHeads, L, S\] = \[4, 3, 3\]/);
  // A key padding mask that masks every key: in 'a query whose every key is masked is an error'.
});

// ---- Transformer encoder layer ---------------------------------------------------------------------

test('TransformerEncoderLayer: post-norm and pre-norm wiring equal their formulas (eval)', async () => {
  const x = f64([2, 3, 4], 60);
  for (const normFirst of [false, true]) {
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, normFirst, dtype: FLOAT, rng: new g.Random(61) }).eval();
    // Non-trivial LayerNorm affine so both norms matter.
    layer.norm1.weight!.assign([1.5, 0.5, 1, 2]);
    layer.norm2.bias!.assign([0.1, -0.1, 0.2, 0]);
    const sa = (t: g.Tensor): g.Tensor => layer.selfAttn.call(t).output;
    const ff = (t: g.Tensor): g.Tensor => layer.linear2.call(layer.linear1.call(t).relu());
    let expected: g.Tensor;
    if (normFirst) {
      const h = x.add(sa(layer.norm1.call(x)));
      expected = h.add(ff(layer.norm2.call(h)));
    } else {
      const h = layer.norm1.call(x.add(sa(x)));
      expected = layer.norm2.call(h.add(ff(h)));
    }
    await expectClose(layer.call(x), await values(expected), { atol: 1e-14, msg: `normFirst=${normFirst}` });
  }
  // Post-norm output is normalized per position: with unit affine, mean 0 and variance 1.
  const post = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dtype: FLOAT, rng: new g.Random(62) }).eval();
  const y = post.call(x);
  await expectClose(y.mean(-1), new Array(6).fill(0), { atol: 1e-12 });
  await expectClose(y.var(-1, { correction: 0 }), new Array(6).fill(1), { atol: 1e-4 });
  // GELU uses the exact erf form.
  const gl = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, activation: 'gelu', dtype: FLOAT, rng: new g.Random(63) }).eval();
  const h = gl.norm1.call(x.add(gl.selfAttn.call(x).output));
  const erfGelu = gl.linear1.call(h).mul(0.5).mul(gl.linear1.call(h).mul(Math.SQRT1_2).erf().add(1));
  await expectClose(gl.call(x), await values(gl.norm2.call(h.add(gl.linear2.call(erfGelu)))), { atol: 1e-14 });
});

test('TransformerEncoderLayer masks: causal and key padding isolate positions', async () => {
  const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, dtype: FLOAT, rng: new g.Random(70) }).eval();
  const x = f64([1, 4, 4], 71);
  const changedLast = x.add(g.tensor([0, 0, 0, 1], { dtype: FLOAT }).reshape([1, 4, 1]));
  const a = layer.call(x, { isCausal: true });
  const b = layer.call(changedLast, { isCausal: true });
  await expectClose(b.slice([0, 0], [1, 3]), await values(a.slice([0, 0], [1, 3])), { atol: 1e-14 });
  assert.ok(Math.abs((await values(b))[15] - (await values(a))[15]) > 1e-6);
  // With the last token marked as padding, the others ignore it.
  const pad = bool([[0, 0, 0, 1]]);
  const c = layer.call(x, { srcKeyPaddingMask: pad });
  const d = layer.call(changedLast, { srcKeyPaddingMask: pad });
  await expectClose(d.slice([0, 0], [1, 3]), await values(c.slice([0, 0], [1, 3])), { atol: 1e-14 });
  await expectClose(layer.call(x, { srcMask: causalMask(4, 4) }), await values(a), { atol: 0 });
});

test('TransformerEncoderLayer gradients (gradCheck, float64) for post-norm and pre-norm with GELU', async () => {
  const x = f64([2, 3, 4], 80);
  for (const normFirst of [false, true]) {
    const layer = new TransformerEncoderLayer(4, 2, {
      dimFeedforward: 5, dropout: 0, normFirst, activation: normFirst ? 'gelu' : 'relu', rng: new g.Random(81),
    });
    await expectModuleGrad(layer, [x], (a) => layer.call(a, { isCausal: true }));
  }
});

test('TransformerEncoderLayer: dropout in training only, parameter count, errors', async () => {
  const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0.3, dtype: FLOAT, rng: new g.Random(90) });
  const x = f64([2, 3, 8], 91);
  layer.eval();
  const e1 = await layer.call(x).data();
  await expectClose(layer.call(x), e1, { atol: 0 });
  layer.train();
  g.manualSeed(92);
  const t1 = await layer.call(x).data();
  assert.ok(t1.some((v, i) => Math.abs(v - e1[i]) > 1e-6));
  assert.equal(layer.numParameters(), (4 * 8 * 8 + 4 * 8) + (8 * 16 + 16) + (16 * 8 + 8) + 2 * (2 * 8));
  assert.equal(new TransformerEncoderLayer(8, 2).dimFeedforward, 2048);
  assertThrowsMsg(() => new TransformerEncoderLayer(6, 4), /embedDim \(6\) must be divisible by numHeads \(4\)/);
  assertThrowsMsg(() => new TransformerEncoderLayer(8, 2, { activation: 'tanh' as never }), /activation must be 'relu' or 'gelu'/);
  assertThrowsMsg(() => layer.call(g.zeros([3, 8])), /TransformerEncoderLayer/, /\[N, L, 8\]/, /\[3, 8\]/);
  assert.match(layer.toString(), /^TransformerEncoderLayer\(\n {2}dModel=8, nhead=2, dimFeedforward=16, activation='relu', normFirst=false\n {2}\(selfAttn\): MultiheadAttention/);
});

const makeEncoderLayer = (i: number): TransformerEncoderLayer => new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, normFirst: true, dtype: FLOAT, rng: new g.Random(100 + i) });

test('TransformerEncoder: layers in order then the final norm', async () => {
  const norm = new g.nn.LayerNorm(4, { dtype: FLOAT });
  const enc = new TransformerEncoder(makeEncoderLayer, 2, { norm }).eval();
  const x = f64([2, 3, 4], 101);
  const [l0, l1] = [...enc.layers];
  const pad = bool([[0, 0, 1], [0, 0, 0]]);
  await expectClose(enc.call(x, { srcKeyPaddingMask: pad }), await values(norm.call(l1.call(l0.call(x, { srcKeyPaddingMask: pad }), { srcKeyPaddingMask: pad }))), { atol: 1e-14 });
});

test('TransformerEncoder: independent parameters per layer; errors', () => {
  const make = makeEncoderLayer;
  const norm = new g.nn.LayerNorm(4, { dtype: FLOAT });
  const enc = new TransformerEncoder(make, 2, { norm }).eval();
  const [l0, l1] = [...enc.layers];
  assert.equal(enc.numParameters(), 2 * l0.numParameters() + 8);
  assert.notEqual(l0.linear1.weight, l1.linear1.weight);
  assert.ok([...enc.namedParameters()].some(([n]) => n === 'layers.1.selfAttn.inProjWeight'));
  const shared = make(0);
  assertThrowsMsg(() => new TransformerEncoder(() => shared, 2), /already in the stack/);
  assertThrowsMsg(() => new TransformerEncoder(make, 0), /numLayers must be a positive integer/);
  assertThrowsMsg(() => new TransformerEncoder((() => new g.nn.Linear(2, 2)) as never, 1), /must return a TransformerEncoderLayer/);
});
