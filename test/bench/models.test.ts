/**
 * The benchmark's gradkit models (bench/gradkit-models.ts) are nn/optim/losses networks with the
 * shared initial weights copied in. These tests check them against a float64 reference written
 * with raw ops straight from the spec and the shared parameters (data.ts), so a wrong weight
 * mapping (e.g. a missing transpose), a wrong layer or wrong Adam settings fails here and not
 * only in the cross-library loss check of a full run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as g from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { cnnParams, makeImageDataset, makeDataset, mlpParams, resnetParams, type Param } from '../../bench/data.js';
import { cnnModel, loadShared, makeAdam, mlpModel, resnetModel, trainStep } from '../../bench/gradkit-models.js';
import { RawAdam, rawCnnModel, rawMlpModel, rawResnetModel } from '../../bench/raw-models.js';
import { ADAM, CNN, MLP, RESNET } from '../../bench/spec.js';
import { assertThrowsMsg } from '../helpers.js';

/** Shared parameters as float64 tensors, by name. */
function f64(ps: Param[], requiresGrad = false): Map<string, Tensor> {
  return new Map(ps.map((p) => [p.name, g.tensor(Float64Array.from(p.data), { shape: p.shape, requiresGrad })]));
}

function at(m: Map<string, Tensor>, name: string): Tensor {
  const t = m.get(name);
  assert.ok(t, `shared parameter ${name}`);
  return t;
}

/** Mean cross-entropy written out: −mean(logits[y] − logsumexp(logits)). */
function refCrossEntropy(logits: Tensor, y: Tensor): Tensor {
  const n = logits.shape[0];
  return logits.logSoftmax(1).gather(1, y.reshape([n, 1])).neg().mean();
}

function refMlp(p: Map<string, Tensor>, x: Tensor, y: Tensor): Tensor {
  const h1 = x.matmul(at(p, 'w1')).add(at(p, 'b1')).relu();
  const h2 = h1.matmul(at(p, 'w2')).add(at(p, 'b2')).relu();
  return refCrossEntropy(h2.matmul(at(p, 'w3')).add(at(p, 'b3')), y);
}

function refCnn(p: Map<string, Tensor>, x: Tensor, y: Tensor): Tensor {
  const a = g.conv2d(x, at(p, 'conv1.w'), at(p, 'conv1.b')).relu().maxPool2d({ kernelSize: 2 });
  const b = g.conv2d(a, at(p, 'conv2.w'), at(p, 'conv2.b')).relu().maxPool2d({ kernelSize: 2 });
  return refCrossEntropy(b.reshape([x.shape[0], -1]).matmul(at(p, 'fc.w')).add(at(p, 'fc.b')), y);
}

/** Training-mode BatchNorm from its definition: batch mean, biased variance, per channel. */
function refBn(x: Tensor, gamma: Tensor, beta: Tensor): Tensor {
  const c = x.shape[1];
  const mean = x.mean([0, 2, 3], { keepDims: true });
  const centered = x.sub(mean);
  const variance = centered.square().mean([0, 2, 3], { keepDims: true });
  return centered.div(variance.add(RESNET.eps).sqrt()).mul(gamma.reshape([1, c, 1, 1])).add(beta.reshape([1, c, 1, 1]));
}

function refResnet(p: Map<string, Tensor>, x: Tensor, y: Tensor): Tensor {
  const convBn = (h: Tensor, conv: string, bn: string): Tensor =>
    refBn(g.conv2d(h, at(p, conv), null, { padding: 1 }), at(p, `${bn}.gamma`), at(p, `${bn}.beta`));
  let h = convBn(x, 'stem.w', 'stem.bn').relu();
  for (let b = 0; b < RESNET.blocks; b++) {
    const r = convBn(convBn(h, `block${b}.conv1.w`, `block${b}.bn1`).relu(), `block${b}.conv2.w`, `block${b}.bn2`);
    h = r.add(h).relu();
  }
  return refCrossEntropy(h.mean([2, 3]).matmul(at(p, 'fc.w')).add(at(p, 'fc.b')), y);
}

/** A few samples as the bench feeds them (float32 x, int32 y) and as float64 for the reference. */
function inputs(ds: { x: Float32Array; y: Int32Array; sampleShape: number[] }, n: number): { x: Tensor; x64: Tensor; y: Tensor } {
  const d = ds.sampleShape.reduce((a, b) => a * b, 1);
  const xs = ds.x.subarray(0, n * d);
  return {
    x: g.tensor(xs, { shape: [n, ...ds.sampleShape] }),
    x64: g.tensor(Float64Array.from(xs), { shape: [n, ...ds.sampleShape] }),
    y: g.tensor(ds.y.subarray(0, n), { shape: [n] }),
  };
}

const relClose = (got: number, want: number, rtol: number, what: string): void =>
  assert.ok(Math.abs(got - want) <= rtol * Math.abs(want), `${what}: ${got} vs reference ${want}`);

test('bench mlp (nn.Sequential of Linear/ReLU, losses.crossEntropy) matches the raw float64 reference from the shared weights', () => {
  const { x, x64, y } = inputs(makeDataset(16, [MLP.sizes[0]], 10, 5), 16);
  const model = mlpModel();
  assert.equal(model.module.parameters().every((q) => q.dtype === 'float32'), true, 'float32 like the peers');
  relClose(model.loss(x, y).item(), refMlp(f64(mlpParams()), x64, y).item(), 1e-5, 'mlp loss');
});

test('bench cnn (Conv2d/ReLU/MaxPool2d/Flatten/Linear) matches the raw float64 reference', () => {
  const { x, x64, y } = inputs(makeImageDataset(4, [CNN.inC, CNN.hw, CNN.hw], CNN.classes, 6), 4);
  relClose(cnnModel().loss(x, y).item(), refCnn(f64(cnnParams()), x64, y).item(), 1e-5, 'cnn loss');
});

test('bench resnet (nn.resnet, one stage of basic blocks) matches the raw float64 reference', () => {
  const { x, x64, y } = inputs(makeImageDataset(4, [RESNET.inC, RESNET.hw, RESNET.hw], RESNET.classes, 7), 4);
  const model = resnetModel();
  assert.equal(model.module.training, true, 'BatchNorm uses batch statistics, as the peers');
  relClose(model.loss(x, y).item(), refResnet(f64(resnetParams()), x64, y).item(), 1e-5, 'resnet loss');
});

test('bench trainStep: one optim.Adam step moves every weight by −lr·g/(|g|+ε) with the reference gradient', () => {
  const { x, x64, y } = inputs(makeDataset(8, [MLP.sizes[0]], 10, 8), 8);
  const ref = f64(mlpParams(), true);
  const refLoss = refMlp(ref, x64, y);
  refLoss.backward();
  const model = mlpModel();
  const opt = makeAdam(model);
  relClose(trainStep(model, opt, x, y), refLoss.item(), 1e-5, 'returned loss is the one before the update');
  const w0 = mlpParams();
  // Module layout [out, in] against the shared [in, out].
  const pairs: [string, string, boolean][] = [['0.weight', 'w1', true], ['0.bias', 'b1', false], ['4.weight', 'w3', true], ['4.bias', 'b3', false]];
  const params = new Map(model.module.namedParameters());
  for (const [mine, shared, transposed] of pairs) {
    const got = params.get(mine)!.dataSync();
    const start = w0.find((p) => p.name === shared)!;
    const grad = at(ref, shared).grad!.dataSync();
    const cols = start.shape[1] ?? 1;
    let checked = 0;
    for (let i = 0; i < start.data.length; i++) {
      const gi = grad[i];
      // |g| near ε: float32 and float64 gradients may give visibly different steps; only bound them.
      const j = transposed ? (i % cols) * start.shape[0] + Math.floor(i / cols) : i;
      const delta = got[j] - start.data[i];
      if (Math.abs(gi) < 1e-6) {
        assert.ok(Math.abs(delta) <= ADAM.lr * (1 + 1e-6), `${mine}[${j}] moved ${delta}`);
        continue;
      }
      const want = (-ADAM.lr * gi) / (Math.abs(gi) + ADAM.eps);
      assert.ok(Math.abs(delta - want) < 1e-6, `${mine}[${j}]: moved ${delta}, expected ${want} (g = ${gi})`);
      checked++;
    }
    assert.ok(checked > 0, `${mine}: some weights have a clear gradient`);
  }
});

test('loadShared: every parameter needs a source and every source must be used', () => {
  const lin = (): g.nn.Sequential => new g.nn.Sequential(new g.nn.Linear(3, 2));
  const ps: Param[] = [
    { name: 'w', shape: [3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    { name: 'b', shape: [2], data: Float32Array.from([7, 8]) },
  ];
  const ok = lin();
  loadShared(ok, ps, { '0.weight': { from: 'w', transpose: true }, '0.bias': { from: 'b' } });
  assert.deepEqual([...ok.parameters()[0].dataSync()], [1, 3, 5, 2, 4, 6], 'transposed to [out, in]');
  assert.deepEqual([...ok.parameters()[1].dataSync()], [7, 8]);
  assertThrowsMsg(() => loadShared(lin(), ps, { '0.weight': { from: 'w', transpose: true } }), /0\.bias/, /no shared initial value/);
  assertThrowsMsg(() => loadShared(lin(), ps, { '0.weight': { from: 'w', transpose: true }, '0.bias': { from: 'bias' } }), /no shared parameter 'bias'/);
  assertThrowsMsg(() => loadShared(lin(), [...ps, { name: 'extra', shape: [1], data: new Float32Array(1) }],
    { '0.weight': { from: 'w', transpose: true }, '0.bias': { from: 'b' } }), /not loaded: extra/);
  // A shape mismatch (no transpose) is refused by loadStateDict itself, naming the key.
  assertThrowsMsg(() => loadShared(lin(), ps, { '0.weight': { from: 'w' }, '0.bias': { from: 'b' } }), /0\.weight/);
});

test('rawops comparison models compute the same first loss as the nn models', () => {
  const m = inputs(makeDataset(8, [MLP.sizes[0]], 10, 9), 8);
  relClose(rawMlpModel().loss(m.x, m.y).item(), mlpModel().loss(m.x, m.y).item(), 1e-5, 'mlp');
  const c = inputs(makeImageDataset(2, [CNN.inC, CNN.hw, CNN.hw], CNN.classes, 10), 2);
  relClose(rawCnnModel().loss(c.x, c.y).item(), cnnModel().loss(c.x, c.y).item(), 1e-5, 'cnn');
  const r = inputs(makeImageDataset(2, [RESNET.inC, RESNET.hw, RESNET.hw], RESNET.classes, 11), 2);
  relClose(rawResnetModel().loss(r.x, r.y).item(), resnetModel().loss(r.x, r.y).item(), 1e-5, 'resnet');
});

test('RawAdam (the comparison\'s plain-loop Adam) follows the formula over two steps', () => {
  const p = g.tensor(new Float32Array([1, -2, 0.5]), { requiresGrad: true });
  const opt = new RawAdam([p], { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
  const grads = [[0.5, -4, 2], [1, 1, -1]];
  const ref = [1, -2, 0.5];
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  for (let t = 1; t <= 2; t++) {
    p.grad = g.tensor(new Float32Array(grads[t - 1]));
    opt.step();
    for (let j = 0; j < 3; j++) {
      const gj = grads[t - 1][j];
      m[j] = 0.9 * m[j] + 0.1 * gj;
      v[j] = 0.999 * v[j] + 0.001 * gj * gj;
      ref[j] -= (0.1 * m[j] / (1 - 0.9 ** t)) / (Math.sqrt(v[j] / (1 - 0.999 ** t)) + 1e-8);
    }
    const got = p.dataSync();
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(got[j] - ref[j]) < 1e-5, `step ${t} weight ${j}: ${got[j]} vs ${ref[j]}`);
  }
  opt.zeroGrad();
  assert.equal(p.grad, null);
});

test('bench mlp and cnn run fused (nn.fuse: no ReLU.forward call), keeping the shared weights\' names', () => {
  const proto = g.nn.ReLU.prototype;
  const original = proto.forward;
  let calls = 0;
  proto.forward = function (this: g.nn.ReLU, x: Tensor) {
    calls++;
    return original.call(this, x);
  };
  try {
    const mlp = mlpModel();
    mlp.module.call(g.randn([2, MLP.sizes[0]], { seed: 1 }));
    const cnn = cnnModel();
    cnn.module.call(g.randn([2, CNN.inC, CNN.hw, CNN.hw], { seed: 1 }));
    assert.equal(calls, 0);
    assert.deepEqual([...cnn.module.stateDict().keys()], ['0.weight', '0.bias', '3.weight', '3.bias', '7.weight', '7.bias']);
    assert.equal((cnn.module as g.nn.Sequential).at(0).toString().includes("activation='relu', maxPool=[2,2]"), true);
  } finally {
    proto.forward = original;
  }
});
