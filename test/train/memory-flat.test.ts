/**
 * Issue 13 item 2: the Trainer runs every batch in a scope, so the live tensor buffers stay flat
 * over many steps (nothing of a step outlives it but numbers, gradients and state), and freeing
 * memory changes no result: the loss curve and the weights equal those of a plain loop without
 * scopes from the same seed, bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { manualSeed, memory, nn, optim, Random, type Tensor } from '../../src/index.js';
import { DataLoader, TensorDataset } from '../../src/data/index.js';
import { fromArray } from '../../src/tensor/host.js';
import { andThen } from '../../src/core/awaitable.js';
import { Checkpoint, Trainer, memoryStorage, type Callback } from '../../src/train/index.js';
import { defaultClassificationLoss } from '../../src/train/loss.js';

/** Node's collector, reachable without --expose-gc, so garbage made before training is gone before counting. */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

async function collectGarbage(): Promise<void> {
  const gc = collector();
  gc();
  // FinalizationRegistry callbacks (which release collected tensors' buffers) run on later turns.
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  gc();
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}

interface Run {
  model: nn.Sequential;
  optimizer: optim.Optimizer<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  train: DataLoader;
  valid: DataLoader;
}

/** `n` samples of `shape`, labelled by the sign pattern of two fixed coordinates (3 classes). */
function problem(seed: number, n: number, shape: number[]): { x: Tensor; y: Tensor } {
  const rng = new Random(seed);
  const per = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * per);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = (x[i * per] > 0 ? 1 : 0) + (x[i * per + per - 1] > 0.5 ? 1 : 0);
  return { x: fromArray(x, [n, ...shape]), y: fromArray(y, [n]) };
}

function mlp(): Run {
  manualSeed(3);
  const { x, y } = problem(1, 64, [6]);
  const model = new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Dropout({ p: 0.2 }), new nn.Linear(16, 3));
  return {
    model,
    optimizer: new optim.Adam(model.parameters(), { lr: 0.01 }),
    train: new DataLoader(new TensorDataset(x, y), { batchSize: 8, shuffle: true, seed: 4 }),
    valid: new DataLoader(new TensorDataset(x, y), { batchSize: 32 }),
  };
}

function cnn(): Run {
  manualSeed(5);
  const { x, y } = problem(2, 64, [1, 8, 8]);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(4, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.Flatten(), new nn.Linear(4 * 4 * 4, 3),
  );
  return {
    model,
    optimizer: new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }),
    train: new DataLoader(new TensorDataset(x, y), { batchSize: 8, shuffle: true, seed: 6 }),
    valid: new DataLoader(new TensorDataset(x, y), { batchSize: 32 }),
  };
}

const EPOCHS = 3; // 24 steps with 8 batches per epoch, validation after each epoch

/** The Trainer (default callbacks included); live tensor buffers before each training batch and the loss of each step. */
async function withTrainer(build: () => Run, extra: Callback[] = []): Promise<{ live: number[]; backend: (number | undefined)[]; losses: number[]; weights: number[][] }> {
  const r = build();
  await collectGarbage();
  const live: number[] = [];
  // Every buffer the backend holds, where it counts them (strict, wasm): kernel outputs included.
  const backend: (number | undefined)[] = [];
  const losses: number[] = [];
  const probe: Callback = {
    name: 'probe',
    // live[k] is counted once k steps are complete (the next batch is already pulled).
    beforeBatch: (t) => {
      if (!t.training) return;
      const m = memory();
      live.push(m.tensorBuffers);
      backend.push(m.backendBuffers);
    },
    // Synchronous on a CPU backend (no hook to await), awaited on a GPU one.
    afterLoss: (t) => (t.training ? andThen(t.readLoss(), (v) => void losses.push(v!)) : undefined),
  };
  await new Trainer({ model: r.model, optimizer: r.optimizer, trainData: r.train, validData: r.valid, callbacks: [probe, ...extra] }).fit({ epochs: EPOCHS });
  return { live, backend, losses, weights: await Promise.all(r.model.parameters().map(async (p) => Array.from(await p.data()))) };
}

/** The same training as a plain loop, no scope anywhere: what the Trainer must reproduce exactly. */
async function plainLoop(build: () => Run): Promise<{ losses: number[]; weights: number[][] }> {
  const r = build();
  const losses: number[] = [];
  for (let e = 0; e < EPOCHS; e++) {
    r.model.train();
    for (const [x, y] of r.train) {
      const loss = defaultClassificationLoss(r.model.call(x) as Tensor, y);
      r.optimizer.zeroGrad();
      loss.backward();
      r.optimizer.step();
      losses.push((await loss.data())[0]);
    }
  }
  return { losses, weights: await Promise.all(r.model.parameters().map(async (p) => Array.from(await p.data()))) };
}

for (const [name, build] of [['MLP (Adam, dropout)', mlp], ['CNN (BatchNorm, SGD with momentum)', cnn]] as const) {
  test(`${name}: live tensor buffers stay flat over ${EPOCHS * 8} Trainer steps`, async () => {
    const { live, backend } = await withTrainer(build);
    assert.equal(live.length, EPOCHS * 8);
    assert.ok(live[5] > 0, 'the count sees the model');
    for (const k of [10, 15, 20, 23]) {
      assert.equal(live[k], live[5], `live buffers after step ${k} (${live[k]}) differ from after step 5 (${live[5]}); all: ${live.join(' ')}`);
      assert.equal(backend[k], backend[5], `backend buffers after step ${k} differ from after step 5; all: ${backend.join(' ')}`);
    }
  });

  test(`${name}: scopes change no result (loss curve and weights equal a plain loop's)`, async () => {
    const scoped = await withTrainer(build);
    const plain = await plainLoop(build);
    assert.equal(scoped.losses.length, EPOCHS * 8);
    assert.deepEqual(scoped.losses, plain.losses);
    assert.deepEqual(scoped.weights, plain.weights);
    assert.ok(plain.losses[plain.losses.length - 1] < plain.losses[0], `training makes progress: ${plain.losses[0]} → ${plain.losses[plain.losses.length - 1]}`);
  });
}

test('an async afterBatch hook (a checkpoint written every step) keeps memory flat and results unchanged', async () => {
  // The hook's promise is awaited between two scopes: the batch, output and loss survive the gap as views.
  const storage = memoryStorage();
  let seen = 0;
  const reader: Callback = { name: 'reader', order: 90, afterBatch: (t) => (t.training ? andThen(t.readLoss(), (v) => void (v! > 0 && t.target!.size > 0 && seen++)) : undefined) };
  const r = await withTrainer(mlp, [new Checkpoint({ storage, dir: 'run', monitor: null, everySteps: 1 }), reader]);
  assert.equal(seen, EPOCHS * 8, 'hooks after the awaited one still see the batch and the loss');
  assert.ok(storage.files.has('run/last.ckpt'));
  for (const k of [10, 15, 20, 23]) assert.equal(r.live[k], r.live[5], `live buffers: ${r.live.join(' ')}`);
  assert.deepEqual(r.losses, (await plainLoop(mlp)).losses);
});

test('async hooks before and after backward see live tensors and change no result', async () => {
  // An await in afterForward/afterLoss ends the scope while the graph is still needed: it must
  // survive the gap (left to the garbage collector), and backward must still work after it.
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
  let sizes = 0;
  const slow: Callback = {
    name: 'slow',
    afterForward: async (t) => { await tick(); sizes += t.output!.size; },
    afterLoss: async (t) => { await tick(); sizes += t.loss!.size; },
    afterBackward: async (t) => { await tick(); sizes += t.inputs[0].size; },
    afterStep: async (t) => { await tick(); sizes += t.target!.size; },
  };
  const r = await withTrainer(mlp, [slow]);
  assert.ok(sizes > 0);
  assert.deepEqual(r.losses, (await plainLoop(mlp)).losses);
});
