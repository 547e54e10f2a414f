/**
 * End to end on the webgpu backend, each against the reference backend from the same initial
 * weights, within float32 tolerance: an MLP and a small CNN trained with SGD written as tensor
 * ops, and nn layers trained with gradkit's optimizers (their update kernels on the device).
 * Cross-entropy is composed from logSoftmax (one-hot targets), so these runs exercise the
 * elementwise, reduction and GEMM kernels' gradients; trainer.test.ts covers the fused loss and
 * the Trainer. Losses are read with `await t.data()`.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as g from '../../src/index.js';
import { initWebGPU, type WebGPUBackend } from '../../src/backends/webgpu/index.js';

const got = await initWebGPU();
const skip = 'error' in got ? `${got.error}: webgpu training tests skipped` : false;
if (skip) console.log(skip);

after(() => {
  if (!skip) (got as WebGPUBackend).device.destroy();
});

const N = 16;
const IN = 6;
const HIDDEN = 12;
const CLASSES = 4;

let seed = 7;
function rand(): number {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return (seed >>> 8) / 2 ** 24 - 0.5;
}
const init = {
  x: Float32Array.from({ length: N * IN }, () => rand() * 4),
  labels: Int32Array.from({ length: N }, (_, i) => i % CLASSES),
  w1: Float32Array.from({ length: IN * HIDDEN }, () => rand()),
  b1: Float32Array.from({ length: HIDDEN }, () => rand() * 0.1),
  w2: Float32Array.from({ length: HIDDEN * CLASSES }, () => rand()),
  b2: Float32Array.from({ length: CLASSES }, () => rand() * 0.1),
};

/** Trains `steps` SGD steps on the named backend; returns the loss before each step. */
async function train(backend: string, steps: number): Promise<number[]> {
  g.setBackend(backend);
  const x = g.fromArray(init.x.slice(), [N, IN]);
  // Cross-entropy as −mean Σ onehot·logSoftmax(z) (the fused op is covered by trainer.test.ts).
  const onehot = g.fromArray(Float32Array.from({ length: N * CLASSES }, (_, i) => (init.labels[Math.floor(i / CLASSES)] === i % CLASSES ? 1 : 0)), [N, CLASSES]);
  let params = [
    g.fromArray(init.w1.slice(), [IN, HIDDEN]),
    g.fromArray(init.b1.slice(), [HIDDEN]),
    g.fromArray(init.w2.slice(), [HIDDEN, CLASSES]),
    g.fromArray(init.b2.slice(), [CLASSES]),
  ];
  const lossOf = (w1: g.Tensor, b1: g.Tensor, w2: g.Tensor, b2: g.Tensor): g.Tensor => {
    const h = g.relu(g.add(g.matmul(x, w1), b1));
    const logits = g.add(g.matmul(h, w2), b2);
    return g.neg(g.mean(g.sum(g.mul(g.logSoftmax(logits, 1), onehot), 1)));
  };
  const step = g.valueAndGrad(lossOf);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { value, grads } = step(...params);
    losses.push((await value.data())[0]);
    params = params.map((p, i) => g.sub(p, g.mul(grads[i], 0.5)).detach());
  }
  return losses;
}

test('an MLP trained with SGD on webgpu matches the reference backend step by step', { skip, timeout: 120_000 }, async () => {
  const ref = await train('reference', 5);
  const gpu = await train('webgpu', 5);
  assert.ok(ref[4] < ref[0], `the reference run learns (${ref[0]} → ${ref[4]})`);
  for (let i = 0; i < ref.length; i++) {
    assert.ok(Math.abs(gpu[i] - ref[i]) <= 1e-4 + 1e-4 * Math.abs(ref[i]), `step ${i}: webgpu loss ${gpu[i]}, reference ${ref[i]}`);
  }
});

/** A small CNN (conv + bias + ReLU + max-pool + linear) trained with SGD; losses per step. */
async function trainCnn(backend: string, steps: number): Promise<number[]> {
  g.setBackend(backend);
  let s2 = 11;
  const r = (): number => {
    s2 = (s2 * 1664525 + 1013904223) >>> 0;
    return (s2 >>> 8) / 2 ** 24 - 0.5;
  };
  const B = 4;
  const x = g.fromArray(Float32Array.from({ length: B * 8 * 8 }, () => r() * 2), [B, 1, 8, 8]);
  const onehot = g.fromArray(Float32Array.from({ length: B * 3 }, (_, i) => (Math.floor(i / 3) % 3 === i % 3 ? 1 : 0)), [B, 3]);
  let params = [
    g.fromArray(Float32Array.from({ length: 4 * 9 }, () => r()), [4, 1, 3, 3]),
    g.fromArray(Float32Array.from({ length: 4 }, () => r() * 0.1), [4]),
    g.fromArray(Float32Array.from({ length: 64 * 3 }, () => r() * 0.3), [64, 3]),
  ];
  const lossOf = (w: g.Tensor, b: g.Tensor, fc: g.Tensor): g.Tensor => {
    const h = g.maxPool2d(g.relu(g.conv2d(x, w, b, { padding: 1 })), { kernelSize: 2 });
    const logits = g.matmul(g.reshape(h, [B, 64]), fc);
    return g.neg(g.mean(g.sum(g.mul(g.logSoftmax(logits, 1), onehot), 1)));
  };
  const step = g.valueAndGrad(lossOf);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { value, grads } = step(...params);
    losses.push((await value.data())[0]);
    params = params.map((p, i) => g.sub(p, g.mul(grads[i], 0.5)).detach());
  }
  return losses;
}

test('a small CNN (conv2d, ReLU, max-pool, linear) trained on webgpu matches the reference backend', { skip, timeout: 120_000 }, async () => {
  const ref = await trainCnn('reference', 4);
  const gpu = await trainCnn('webgpu', 4);
  assert.ok(ref[3] < ref[0], `the reference run learns (${ref[0]} → ${ref[3]})`);
  for (let i = 0; i < ref.length; i++) {
    assert.ok(Math.abs(gpu[i] - ref[i]) <= 1e-4 + 1e-4 * Math.abs(ref[i]), `step ${i}: webgpu loss ${gpu[i]}, reference ${ref[i]}`);
  }
});

/** nn.Sequential(Linear, ReLU, Linear) with a gradkit optimizer (its update kernels run on the device). */
async function trainWithOptimizer(backend: string, which: 'SGD' | 'Adam' | 'RMSprop'): Promise<number[]> {
  g.setBackend(backend);
  g.manualSeed(3);
  const model = new g.nn.Sequential(new g.nn.Linear(6, 10), new g.nn.ReLU(), new g.nn.Linear(10, 3));
  const opt = which === 'SGD'
    ? new g.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 })
    : which === 'Adam' ? new g.optim.Adam(model.parameters(), { lr: 0.01 }) : new g.optim.RMSprop(model.parameters(), { lr: 0.01 });
  const x = g.fromArray(Float32Array.from({ length: 48 }, (_, i) => Math.sin(i)), [8, 6]);
  const onehot = g.fromArray(Float32Array.from({ length: 24 }, (_, i) => (Math.floor(i / 3) % 3 === i % 3 ? 1 : 0)), [8, 3]);
  const losses: number[] = [];
  for (let s = 0; s < 4; s++) {
    opt.zeroGrad();
    const loss = g.neg(g.mean(g.sum(g.mul(g.logSoftmax(model.forward(x) as g.Tensor, 1), onehot), 1)));
    loss.backward();
    opt.step();
    losses.push((await loss.data())[0]);
  }
  return losses;
}

test('nn layers with the SGD (momentum), Adam and RMSprop optimizers train on webgpu like on the reference backend', { skip, timeout: 120_000 }, async () => {
  for (const which of ['SGD', 'Adam', 'RMSprop'] as const) {
    const ref = await trainWithOptimizer('reference', which);
    const gpu = await trainWithOptimizer('webgpu', which);
    assert.ok(ref[3] < ref[0], `${which}: the reference run learns (${ref[0]} → ${ref[3]})`);
    for (let i = 0; i < ref.length; i++) {
      assert.ok(Math.abs(gpu[i] - ref[i]) <= 1e-5 + 1e-5 * Math.abs(ref[i]), `${which} step ${i}: webgpu loss ${gpu[i]}, reference ${ref[i]}`);
    }
  }
});
