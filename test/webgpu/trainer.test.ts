/**
 * The Trainer on the webgpu backend (llvmpipe here): the same fit as on wasm, with its default
 * callbacks (metrics, NaN guard) reading once per step asynchronously, the data set resident on
 * the GPU, input checks reported at the next read, and memory flat across epochs.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as g from '../../src/index.js';
import { loadDigits } from '../../src/digits.js';
import { initWebGPU, type WebGPUBackend } from '../../src/backends/webgpu/index.js';
import { pendingChecks } from '../../src/tensor/deferred-checks.js';

const got = await initWebGPU();
const skip = 'error' in got ? `${got.error}: webgpu Trainer tests skipped` : false;
if (skip) console.log(skip);

after(() => {
  if (!skip) (got as WebGPUBackend).device.destroy();
});

const { nn, optim, data, train } = g;

function smallCnn(): g.nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(8, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(16 * 7 * 7, 10),
  );
}

interface Run {
  history: Record<string, number>[];
  /** Live backend buffers at the end of each epoch. */
  buffers: number[];
  evaluated: g.train.EvaluateResult;
}

/** Trains the small CNN on 1000 digits for 2 epochs on `backend`, everything created there. */
async function fitDigits(backend: string): Promise<Run> {
  g.setBackend(backend);
  g.manualSeed(0);
  const d = await loadDigits({ trainSize: 1000, testSize: 500, seed: 0 });
  const model = smallCnn();
  const trainData = new data.DataLoader(d.train, { batchSize: 50, shuffle: true, seed: 1 });
  const validData = new data.DataLoader(d.test, { batchSize: 100 });
  const buffers: number[] = [];
  const trainer = new train.Trainer({
    model,
    optimizer: new optim.Adam(model.parameters(), { lr: 3e-3 }),
    trainData,
    validData,
    epochs: 2,
    callbacks: [{ name: 'memory', afterEpoch: () => void buffers.push(g.memory().tensorBuffers) }],
  });
  await trainer.fit();
  const evaluated = await train.evaluateAsync(model, validData);
  return { history: trainer.history, buffers, evaluated };
}

test('the Trainer fits a digits CNN on webgpu to the losses and accuracy it reaches on wasm', { skip, timeout: 300_000 }, async () => {
  const cpu = await fitDigits('wasm');
  const gpu = await fitDigits('webgpu');
  assert.equal(gpu.history.length, 2);
  assert.ok(cpu.history[1].valAccuracy > 0.8, `the wasm run learns (validation accuracy ${cpu.history[1].valAccuracy})`);
  for (const [e, h] of gpu.history.entries()) {
    for (const key of ['loss', 'valLoss']) {
      const want = cpu.history[e][key];
      assert.ok(Math.abs(h[key] - want) <= 1e-3 * Math.abs(want), `epoch ${e} ${key}: webgpu ${h[key]}, wasm ${want}`);
    }
    // Float32 rounding may move a sample across a decision boundary: at most 2 of 1000 / 500.
    assert.ok(Math.abs(h.accuracy - cpu.history[e].accuracy) <= 0.002, `epoch ${e} accuracy: webgpu ${h.accuracy}, wasm ${cpu.history[e].accuracy}`);
    assert.ok(Math.abs(h.valAccuracy - cpu.history[e].valAccuracy) <= 0.004, `epoch ${e} valAccuracy: webgpu ${h.valAccuracy}, wasm ${cpu.history[e].valAccuracy}`);
  }
  // evaluateAsync reproduces the last validation pass (the same model, the same data).
  assert.equal(gpu.evaluated.samples, 500);
  assert.equal(gpu.evaluated.accuracy, gpu.history[1].valAccuracy);
  assert.ok(Math.abs(gpu.evaluated.loss - gpu.history[1].valLoss) <= 1e-6, `evaluateAsync loss ${gpu.evaluated.loss}, last valLoss ${gpu.history[1].valLoss}`);
  // Memory: the second epoch ends with exactly the buffers the first one did (weights, Adam's slots, data).
  assert.equal(gpu.buffers.length, 2);
  assert.equal(gpu.buffers[1], gpu.buffers[0], `tensor buffers after each epoch: ${gpu.buffers.join(', ')}`);
  assert.equal(pendingChecks(), 0, 'every deferred label check was settled by the per-step reads');
});

test('evaluate (synchronous) on webgpu names evaluateAsync; evaluateAsync agrees with wasm on the same weights', { skip, timeout: 120_000 }, async () => {
  const results: g.train.EvaluateResult[] = [];
  for (const backend of ['wasm', 'webgpu']) {
    g.setBackend(backend);
    g.manualSeed(5);
    const model = new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 10));
    const d = await loadDigits({ trainSize: 10, testSize: 200, seed: 2 });
    const loader = (): g.data.DataLoader => new data.DataLoader(d.test, { batchSize: 64 });
    if (backend === 'webgpu') assert.throws(() => train.evaluate(model, loader()), /evaluate: the webgpu backend reads asynchronously; use await evaluateAsync/);
    results.push(await train.evaluateAsync(model, loader()));
  }
  assert.equal(results[1].samples, 200);
  assert.equal(results[1].accuracy, results[0].accuracy);
  assert.ok(Math.abs(results[1].loss - results[0].loss) <= 1e-5 * Math.abs(results[0].loss), `loss webgpu ${results[1].loss}, wasm ${results[0].loss}`);
});

test('bad labels and indices on webgpu fail at the next read with the CPU backends\' message', { skip, timeout: 60_000 }, async () => {
  g.setBackend('webgpu');
  const logits = g.fromArray(new Float32Array(12), [4, 3]);
  const labels = g.fromArray(Int32Array.from([0, 2, 7, 1]), [4]);
  // No synchronous read is possible: the op returns, the check waits for the next await.
  const loss = g.softmaxCrossEntropy(logits, labels);
  await assert.rejects(loss.data(), /softmaxCrossEntropy: label 7 at row 2 is out of range for 3 classes/);
  assert.equal(pendingChecks(), 0);
  // The same check through the losses module, and an index check of indexSelect.
  const ce = g.losses.crossEntropy(logits, g.fromArray(Int32Array.from([0, -3, 1, 1]), [4]));
  await assert.rejects(ce.data(), /crossEntropy: target -3 at position 1 is not a class index in \[0, 3\)/);
  const picked = g.indexSelect(logits, 0, g.fromArray(Int32Array.from([1, -1, 4]), [3]));
  await assert.rejects(picked.data(), /indexSelect: index 4 at position 2 is out of range for a dimension of size 4/);
  // Good input settles clean, and negative indices wrap as on the CPU.
  const ok = g.indexSelect(g.fromArray(Float32Array.from([10, 11, 12, 13]), [4]), 0, g.fromArray(Int32Array.from([-1, 0]), [2]));
  assert.deepEqual(Array.from(await ok.data()), [13, 10]);
});

test('the NaN guard stops a webgpu run at the first non-finite loss, naming the step', { skip, timeout: 60_000 }, async () => {
  g.setBackend('webgpu');
  g.manualSeed(1);
  const x = Float32Array.from({ length: 32 * 4 }, (_, i) => Math.sin(i));
  x[4 * 9 + 2] = NaN; // sample 9 of the first batch
  const ds = new data.TensorDataset(g.fromArray(x, [32, 4]), g.fromArray(Int32Array.from({ length: 32 }, (_, i) => i % 3), [32]));
  const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
  const trainer = new train.Trainer({ model, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), trainData: new data.DataLoader(ds, { batchSize: 16 }), epochs: 1 });
  await assert.rejects(trainer.fit(), (e: unknown) => {
    assert.ok(e instanceof train.NonFiniteError, String(e));
    assert.match(e.message, /the loss is NaN at step 1 \(epoch 0, batch 0\)/);
    assert.match(e.message, /rerun this batch on the wasm backend/);
    return true;
  });
  assert.equal(trainer.step, 0, 'the bad batch was never applied');
  for (const p of model.parameters()) for (const v of await p.data()) assert.ok(Number.isFinite(v), 'the weights stayed finite');
});

test('a webgpu run checkpoints and resumes: the resumed run matches the uninterrupted one, and the file loads on wasm', { skip, timeout: 120_000 }, async () => {
  const rng = new g.Random(4);
  const xs = Float32Array.from({ length: 64 * 5 }, () => rng.normal());
  const ys = Int32Array.from({ length: 64 }, (_, i) => (xs[i * 5] > 0 ? 1 : 0) + (xs[i * 5 + 1] > 0 ? 1 : 0));
  const run = async (backend: string, epochs: number, files?: Map<string, Uint8Array>) => {
    g.setBackend(backend);
    g.manualSeed(files === undefined ? 1 : 50);
    const model = new nn.Sequential(new nn.Linear(5, 12), new nn.ReLU(), new nn.Linear(12, 3));
    const storage = train.memoryStorage(new Map(files ?? []));
    const ds = new data.TensorDataset(g.fromArray(xs.slice(), [64, 5]), g.fromArray(ys.slice(), [64]));
    const trainer = new train.Trainer({
      model,
      optimizer: new optim.Adam(model.parameters(), { lr: 0.02 }),
      trainData: new data.DataLoader(ds, { batchSize: 16, shuffle: true, seed: 2 }),
      epochs,
      callbacks: [new train.Checkpoint({ storage, dir: 'c', monitor: null })],
    });
    if (files !== undefined) await trainer.loadCheckpoint(storage, 'c/last.ckpt');
    await trainer.fit();
    return { history: trainer.history, files: storage.files };
  };
  const whole = await run('webgpu', 3);
  const first = await run('webgpu', 1);
  const resumed = await run('webgpu', 3, first.files);
  assert.equal(resumed.history.length, 3);
  for (let e = 0; e < 3; e++) {
    assert.ok(Math.abs(resumed.history[e].loss - whole.history[e].loss) <= 1e-6, `epoch ${e}: resumed ${resumed.history[e].loss}, uninterrupted ${whole.history[e].loss}`);
  }
  // The same file resumes on wasm (checkpoints are backend-neutral) and continues to the same losses within float32 tolerance.
  const onWasm = await run('wasm', 3, first.files);
  for (let e = 1; e < 3; e++) {
    assert.ok(Math.abs(onWasm.history[e].loss - whole.history[e].loss) <= 1e-4 * whole.history[e].loss, `epoch ${e}: wasm ${onWasm.history[e].loss}, webgpu ${whole.history[e].loss}`);
  }
});
