/**
 * The demo's training run, shared by the browser worker and the Node speed comparison so both
 * time exactly the same work: the default `gradkit train` CNN (DEFAULT_LAYERS, the zoo's
 * digits-cnn architecture) with AdamW on a couple of thousand digits, standardized with
 * statistics fitted on the training digits as `gradkit train` does.
 */
import * as g from '../../src/index.js';
import { DEFAULT_LAYERS } from '../../src/cli/experiment.js';
import type { DemoOptions, DemoProgress, DemoResult } from './options.js';

export { DEFAULT_OPTIONS, type DemoOptions, type DemoProgress, type DemoResult } from './options.js';

export const PIXELS = 28 * 28;

/** The architecture record io.loadModel rebuilds the CNN from (the one the zoo's file carries). */
export const CNN_ARCHITECTURE = {
  builder: g.zoo.LAYERS_BUILDER,
  options: { layers: DEFAULT_LAYERS, inputShape: [1, 28, 28], numClasses: 10, init: 'he' },
};

export interface DigitsBlock {
  x: Float32Array;
  y: Int32Array;
  n: number;
}

/** digits.bin (demo/make-digits.ts): n×784 pixel bytes, then n label bytes. */
export function decodeDigits(bytes: Uint8Array): DigitsBlock {
  const n = bytes.length / (PIXELS + 1);
  if (!Number.isInteger(n) || n < 1) throw new Error(`digits.bin: ${bytes.length} bytes is not n×${PIXELS + 1}; rebuild with npm run demo:build`);
  const x = new Float32Array(n * PIXELS);
  for (let i = 0; i < x.length; i++) x[i] = bytes[i]! / 255;
  const y = Int32Array.from(bytes.subarray(n * PIXELS));
  return { x, y, n };
}

/** A seeded permutation (mulberry32 + Fisher–Yates), so every run shuffles the same way. */
function permutation(n: number, seed: number): Int32Array {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** Reads are awaited (`data()`), never dataSync/item: webgpu tensors can only be read asynchronously. */
async function countRight(logits: g.Tensor, labels: Int32Array | ArrayLike<number>): Promise<number> {
  const pred = await logits.argmax(1).data();
  let right = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) right++;
  return right;
}

/**
 * The model file of a CNN trained on any backend. Saving reads the weights synchronously, which
 * webgpu cannot: there they are read with `await data()` into the same CNN built on wasm.
 */
async function saveCnn(model: g.nn.AnyModule, preprocessing: g.io.Json): Promise<Uint8Array> {
  const opts = { architecture: CNN_ARCHITECTURE, preprocessing };
  if (g.getBackend().syncReads !== false) return g.io.saveModel(model, opts);
  const host: [string, Awaited<ReturnType<g.Tensor['data']>>, number[]][] = [];
  for (const [k, t] of model.stateDict()) host.push([k, await t.data(), t.shape.slice()]);
  return g.withBackend('wasm', () => {
    const copy = g.zoo.build(CNN_ARCHITECTURE);
    copy.loadStateDict(new Map(host.map(([k, v, shape]) => [k, g.tensor(v, { shape })])));
    return g.io.saveModel(copy, opts);
  });
}

/**
 * Trains the CNN on the current backend (wasm, or webgpu in the worker when the page asked for it)
 * with the digits of `data` after the held-out ones are set aside; every value it reads is awaited.
 */
export async function trainDigits(data: DigitsBlock, opts: DemoOptions, report: (p: DemoProgress) => void = () => {}): Promise<DemoResult> {
  g.manualSeed(opts.seed);
  const available = data.n - opts.testSize;
  const trainSize = Math.min(available, opts.trainSize ?? available);
  if (trainSize < opts.batchSize) throw new Error(`only ${data.n} digits (${trainSize} to train on): need more than testSize + batchSize`);
  const images = (x: Float32Array, n: number) => g.tensor(x, { shape: [n, 1, 28, 28] });
  // Preprocessing runs on the host (wasm), whatever the backend trains: fitting and transforming
  // read pixels synchronously, which webgpu cannot. The standardized pixels go to the backend.
  const scaler = g.withBackend('wasm', () => new g.data.Standardize({ per: 'channel' }).fit(images(data.x.subarray(0, trainSize * PIXELS), trainSize)));
  const standardized = (x: Float32Array, n: number): g.Tensor =>
    images(g.withBackend('wasm', () => scaler.transform(images(x, n)).dataSync() as Float32Array), n);
  const xTest = standardized(data.x.subarray(available * PIXELS), opts.testSize);
  const yTest = data.y.subarray(available);
  const model = g.zoo.build(CNN_ARCHITECTURE);
  model.train();
  const opt = new g.optim.AdamW(model.parameters(), { lr: opts.lr, weightDecay: opts.weightDecay });
  const testAccuracy = async (): Promise<number> => {
    model.eval();
    const logits = g.noGrad(() => model.call(xTest) as g.Tensor);
    model.train();
    return (await countRight(logits, yTest)) / opts.testSize;
  };

  const batches = Math.floor(trainSize / opts.batchSize);
  const total = opts.epochs * batches;
  const xb = new Float32Array(opts.batchSize * PIXELS);
  const yb = new Int32Array(opts.batchSize);
  const losses: number[] = [];
  let step = 0;
  let accuracy = 0;
  let trainingMs = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const order = permutation(trainSize, opts.seed * 1000 + epoch);
    for (let b = 0; b < batches; b++) {
      const t0 = performance.now();
      for (let k = 0; k < opts.batchSize; k++) {
        const i = order[b * opts.batchSize + k]!;
        xb.set(data.x.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
        yb[k] = data.y[i]!;
      }
      const x = standardized(xb, opts.batchSize);
      const logits = model.call(x) as g.Tensor;
      const loss = g.losses.crossEntropy(logits, g.tensor(yb, { shape: [opts.batchSize] }));
      opt.zeroGrad();
      loss.backward();
      opt.step();
      const l = (await loss.data())[0]!;
      const batchAccuracy = (await countRight(logits, yb)) / opts.batchSize;
      trainingMs += performance.now() - t0;
      losses.push(l);
      const p: DemoProgress = { step, totalSteps: total, epoch, loss: l, batchAccuracy };
      step++;
      if (step % opts.evalEvery === 0 || step === total) p.testAccuracy = accuracy = await testAccuracy();
      report(p);
    }
  }
  const bytes = await saveCnn(model, scaler.toJSON() as unknown as g.io.Json);
  return { losses, testAccuracy: accuracy, samplesPerSec: (total * opts.batchSize) / (trainingMs / 1000), trainSize, model: bytes };
}
