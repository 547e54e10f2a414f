/**
 * The GPU read model on the CPU: a strict backend whose readSync throws (syncReads false), over
 * the same reference kernels as the ordinary strict backend. Everything that reads per step
 * (metrics, the NaN guard, evaluate, label and index checks) must take its asynchronous path
 * there and give exactly what the synchronous path gives — the proof that the Trainer runs on a
 * GPU backend without a GPU in the test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as g from '../../src/index.js';
import { andThen, allOf, isPromise } from '../../src/core/awaitable.js';
import { pendingChecks } from '../../src/tensor/deferred-checks.js';

g.registerBackend('strict-async', () => g.createStrictBackend({ asyncReads: true }), -10);
const { nn, optim, data, train } = g;

function dataset(n: number, seed: number, poison?: number): g.data.TensorDataset {
  const rng = new g.Random(seed);
  const x = Float32Array.from({ length: n * 6 }, () => rng.normal());
  if (poison !== undefined) x[poison * 6 + 1] = NaN;
  const y = Int32Array.from({ length: n }, (_, i) => (x[i * 6] + x[i * 6 + 1] > 0 ? 1 : 0) + (x[i * 6 + 2] > 0.5 ? 1 : 0));
  return new data.TensorDataset(g.fromArray(x, [n, 6]), g.fromArray(y, [n]));
}

interface Fit {
  history: Record<string, number>[];
  buffers: number[];
  evaluated: g.train.EvaluateResult;
}

/**
 * Runs `fn` with `backend` current across its awaits (withBackend restores the backend when the
 * synchronous part returns, before an async function's awaits).
 */
async function onBackend<T>(backend: string, fn: () => Promise<T>): Promise<T> {
  const before = g.backendName();
  g.setBackend(backend);
  try {
    return await fn();
  } finally {
    g.setBackend(before);
  }
}

/** A 3-epoch fit on `backend`; with `hostData` the data sets live on the reference backend and the loaders move each batch. */
async function fit(backend: string, hostData = false): Promise<Fit> {
  const [trainSet, validSet] = hostData ? g.withBackend('reference', () => [dataset(96, 1), dataset(40, 2)]) : [null, null];
  return onBackend(backend, async () => {
    g.manualSeed(4);
    const model = new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 3));
    const buffers: number[] = [];
    const moved = hostData ? { backend } : {};
    const validData = new data.DataLoader(validSet ?? dataset(40, 2), { batchSize: 16, ...moved });
    const trainer = new train.Trainer({
      model,
      optimizer: new optim.Adam(model.parameters(), { lr: 0.01 }),
      trainData: new data.DataLoader(trainSet ?? dataset(96, 1), { batchSize: 16, shuffle: true, seed: 3, ...moved }),
      validData,
      epochs: 3,
      callbacks: [
        new train.GradClip({ maxNorm: 0.5 }),
        // An awaited hook before backward: the graph survives the await and is freed at the batch's end.
        { name: 'asyncProbe', afterLoss: async () => undefined },
        { name: 'memory', afterEpoch: () => void buffers.push(g.getBackend().memory!().buffers) },
      ],
    });
    await trainer.fit();
    return { history: trainer.history, buffers, evaluated: await train.evaluateAsync(model, validData) };
  });
}

test('andThen and allOf stay synchronous for values and chain promises', async () => {
  assert.equal(andThen(2, (v) => v + 1), 3);
  const p = andThen(Promise.resolve(2), (v) => v + 1);
  assert.ok(isPromise(p));
  assert.equal(await p, 3);
  assert.deepEqual(allOf([1, 2]), [1, 2]);
  assert.deepEqual(await allOf([1, Promise.resolve(2)]), [1, 2]);
});

test('a Trainer run on a backend that only reads asynchronously logs exactly what the synchronous run logs', async () => {
  const sync = await fit('strict');
  const async_ = await fit('strict-async');
  assert.ok(sync.history[2].loss < sync.history[0].loss, `the run learns (${sync.history[0].loss} → ${sync.history[2].loss})`);
  assert.deepEqual(async_.history, sync.history);
  assert.deepEqual(async_.evaluated, sync.evaluated);
  assert.equal(async_.evaluated.accuracy, async_.history[2].valAccuracy);
  // Every buffer the backend holds (kernel outputs included) is the same after each epoch.
  assert.equal(async_.buffers.length, 3);
  assert.ok(async_.buffers.every((b) => b === async_.buffers[0]), `live buffers after each epoch: ${async_.buffers.join(', ')}`);
  assert.equal(pendingChecks(), 0);
  // The data on a CPU backend, each batch moved by the loader (DataLoader's backend option): the same run.
  const moved = await fit('strict-async', true);
  assert.deepEqual(moved.history, sync.history);
  assert.throws(() => new data.DataLoader(dataset(4, 1), { backend: 'nope' }), /DataLoader: backend 'nope' is not available here; available: .*reference/);
});

test('clipGradNorm on an asynchronous backend names clipGradNormAsync, which clips exactly as the synchronous one', async () => {
  const grads = async (backend: string, clip: (ps: g.Tensor[]) => Promise<number>): Promise<{ norm: number; values: number[] }> => onBackend(backend, async () => {
    const ps = [g.fromArray(Float32Array.from([1, 2, 3]), [3]), g.fromArray(Float32Array.from([4, -5]), [2])];
    ps[0].grad = g.fromArray(Float32Array.from([3, 0, 4]), [3]);
    ps[1].grad = g.fromArray(Float32Array.from([0.5, -12]), [2]);
    const norm = await clip(ps);
    return { norm, values: [...(await ps[0].grad!.data()), ...(await ps[1].grad!.data())] };
  });
  const sync = await grads('strict', async (ps) => g.optim.clipGradNorm(ps, 2));
  const async_ = await grads('strict-async', (ps) => g.optim.clipGradNormAsync(ps, 2));
  assert.equal(sync.norm, 13.009611831257688);
  assert.deepEqual(async_, sync);
  assert.ok(Math.abs(Math.hypot(...sync.values) - 2) < 1e-5, `clipped to norm 2: ${sync.values}`);
  await onBackend('strict-async', async () => {
    const p = g.fromArray(Float32Array.from([1]), [1]);
    p.grad = g.fromArray(Float32Array.from([NaN]), [1]);
    assert.throws(() => g.optim.clipGradNorm([p], 1), /clipGradNorm: the gradients are on a backend that reads asynchronously; use await clipGradNormAsync/);
    await assert.rejects(g.optim.clipGradNormAsync([p], 1), /clipGradNorm: the total gradient norm is NaN: the gradient of parameter 0 holds NaN or Inf/);
  });
});

test('evaluate on an asynchronous backend names evaluateAsync', () => {
  g.withBackend('strict-async', () => {
    const model = new nn.Linear(6, 3);
    const loader = new data.DataLoader(dataset(8, 1), { batchSize: 4 });
    assert.throws(() => train.evaluate(model, loader), /^GradkitError: evaluate: the strict backend reads asynchronously; use await evaluateAsync\(model, data\)$/);
  });
});

test('label and index checks: at once on a synchronous backend, at the next read on an asynchronous one, with the same message', async () => {
  const cases: [string, () => g.Tensor, RegExp][] = [
    ['softmaxCrossEntropy', () => g.softmaxCrossEntropy(g.zeros([3, 4]), g.fromArray(Int32Array.from([1, 9, 0]), [3])), /^GradkitError: softmaxCrossEntropy: label 9 at row 1 is out of range for 4 classes \(expected 0\.\.3\)$/],
    ['crossEntropy', () => g.losses.crossEntropy(g.zeros([2, 4]), g.fromArray(Int32Array.from([0, 4]), [2]), { ignoreIndex: -1 }), /^GradkitError: crossEntropy: target 4 at position 1 is not a class index in \[0, 4\) nor ignoreIndex \(-1\)$/],
    ['nllLoss (general path)', () => g.losses.nll(g.zeros([2, 4]), g.fromArray(Int32Array.from([-5, 0]), [2]), { weight: [1, 1, 1, 1] }), /^GradkitError: nll: target -5 at position 0 is not a class index/],
    ['indexSelect', () => g.indexSelect(g.zeros([5, 2]), 0, g.fromArray(Int32Array.from([0, -6]), [2])), /^GradkitError: indexSelect: index -6 at position 1 is out of range for a dimension of size 5$/],
  ];
  for (const [name, run, message] of cases) {
    g.withBackend('strict', () => assert.throws(run, message, `${name} throws at once on a synchronous backend`));
    const pending = g.withBackend('strict-async', () => {
      const out = run(); // no throw: the verdict is on the device
      assert.ok(pendingChecks() > 0, `${name} leaves its check pending`);
      return out;
    });
    await assert.rejects(pending.data(), message, `${name} fails at the next read`);
    assert.equal(pendingChecks(), 0);
  }
  // Two bad inputs before a read: the first one made is reported, and both are settled.
  const [a, b] = g.withBackend('strict-async', () => [
    g.softmaxCrossEntropy(g.zeros([1, 2]), g.fromArray(Int32Array.from([5]), [1])),
    g.indexSelect(g.zeros([2]), 0, g.fromArray(Int32Array.from([7]), [1])),
  ]);
  await assert.rejects(b.data(), /softmaxCrossEntropy: label 5 at row 0/);
  assert.equal(pendingChecks(), 0);
  // Reported once: a later read of the other output settles nothing more.
  assert.equal((await a.data()).length, 1);
  // Good input: nothing pending after the read, and negative indices wrap on the device.
  const picked = g.withBackend('strict-async', () => g.indexSelect(g.fromArray(Float32Array.from([1, 2, 3]), [3]), 0, g.fromArray(Int32Array.from([-1, 0, -3]), [3])));
  assert.deepEqual(Array.from(await picked.data()), [3, 1, 1]);
  assert.equal(pendingChecks(), 0);
});

/** The NonFiniteError message of a run whose data or learning rate goes bad, on `backend`. */
async function nanMessage(backend: string, opts: { poison?: number; lr: number }): Promise<{ message: string; step: number }> {
  return onBackend(backend, async () => {
    g.manualSeed(2);
    const model = new nn.Sequential(new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 3));
    const trainer = new train.Trainer({
      model,
      optimizer: new optim.SGD(model.parameters(), { lr: opts.lr }),
      trainData: new data.DataLoader(dataset(32, 5, opts.poison), { batchSize: 8 }),
      epochs: 2,
    });
    try {
      await trainer.fit();
    } catch (e) {
      assert.ok(e instanceof train.NonFiniteError, String(e));
      return { message: e.message, step: trainer.step };
    }
    throw new Error(`${backend}: the run did not fail`);
  });
}

test('the NaN guard on an asynchronous backend stops where the synchronous one does, with its message', async () => {
  // Weights overflowed by a huge learning rate: caught with the next step's flags, same words.
  const overflowSync = await nanMessage('strict', { lr: 1e39 });
  const overflowAsync = await nanMessage('strict-async', { lr: 1e39 });
  assert.match(overflowSync.message, /^NanGuard: non-finite weight after step 1 \(epoch 0, batch 0\): parameter '0\.weight' \[8, 6\] \(element \d+ is -?Infinity\) \(loss [\d.]+\)/);
  assert.deepEqual(overflowAsync, overflowSync);
  // A NaN in the data (sample 13, batch 1): the loss at step 2 is NaN and the weights are finite.
  const dataSync = await nanMessage('strict', { poison: 13, lr: 0.1 });
  const dataAsync = await nanMessage('strict-async', { poison: 13, lr: 0.1 });
  assert.match(dataSync.message, /the loss is NaN at step 2 \(epoch 0, batch 1\); input 0 of the batch already holds NaN/);
  assert.match(dataAsync.message, /^NanGuard: the loss is NaN at step 2 \(epoch 0, batch 1\); every weight is finite, so an activation or the data went non-finite \(.*rerun this batch on the wasm backend/);
  assert.equal(dataAsync.step, 1, 'the bad batch was never applied');
  assert.equal(dataSync.step, 1);
});

/** A run with checkpoints (mid-epoch too) and an EMA of the weights; returns the trainer's history and the files. */
async function checkpointedRun(backend: string, epochs: number, resumeFrom?: Map<string, Uint8Array>): Promise<{ history: Record<string, number>[]; files: Map<string, Uint8Array> }> {
  return onBackend(backend, async () => {
    g.manualSeed(resumeFrom === undefined ? 7 : 99); // a resumed run's own init must not matter
    const model = new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 3));
    const storage = train.memoryStorage(resumeFrom === undefined ? new Map() : new Map(resumeFrom));
    const trainer = new train.Trainer({
      model,
      optimizer: new optim.AdamW(model.parameters(), { lr: 0.01, weightDecay: 0.01 }),
      trainData: new data.DataLoader(dataset(96, 1), { batchSize: 16, shuffle: true, seed: 3 }),
      validData: new data.DataLoader(dataset(40, 2), { batchSize: 16 }),
      epochs,
      callbacks: [
        new train.Checkpoint({ storage, dir: 'ckpt', everySteps: 4 }),
        new train.EmaWeights(model.parameters(), { decay: 0.9, applyAtEnd: false }),
      ],
    });
    if (resumeFrom !== undefined) await trainer.loadCheckpoint(storage, 'ckpt/last.ckpt');
    await trainer.fit();
    return { history: trainer.history, files: storage.files };
  });
}

test('checkpoints on an asynchronous backend: the same bytes as on the synchronous one, and a resumed run continues bit for bit', async () => {
  const whole = await checkpointedRun('strict-async', 3);
  const sync = await checkpointedRun('strict', 3);
  assert.deepEqual(whole.history, sync.history);
  for (const name of ['ckpt/last.ckpt', 'ckpt/best.ckpt']) {
    assert.ok(whole.files.has(name), `${name} was written`);
    assert.deepEqual(whole.files.get(name), sync.files.get(name), `${name}: identical bytes on both backends`);
  }
  // Stop after epoch 1 (its last checkpoint is the epoch end), resume into a fresh trainer.
  const first = await checkpointedRun('strict-async', 1);
  const resumed = await checkpointedRun('strict-async', 3, first.files);
  assert.deepEqual(resumed.history, whole.history);
  assert.deepEqual(resumed.files.get('ckpt/last.ckpt'), whole.files.get('ckpt/last.ckpt'));
});
