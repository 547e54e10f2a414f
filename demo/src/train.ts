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

function countRight(logits: g.Tensor, labels: Int32Array | ArrayLike<number>): number {
  const pred = logits.argmax(1).dataSync();
  let right = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) right++;
  return right;
}

export function trainDigits(data: DigitsBlock, opts: DemoOptions, report: (p: DemoProgress) => void = () => {}): DemoResult {
  g.manualSeed(opts.seed);
  const trainSize = data.n - opts.testSize;
  if (trainSize < opts.batchSize) throw new Error(`only ${data.n} digits: need more than testSize + batchSize`);
  const images = (x: Float32Array, n: number) => g.tensor(x, { shape: [n, 1, 28, 28] });
  const scaler = new g.data.Standardize({ per: 'channel' }).fit(images(data.x.subarray(0, trainSize * PIXELS), trainSize));
  const xTest = scaler.transform(images(data.x.subarray(trainSize * PIXELS), opts.testSize));
  const yTest = data.y.subarray(trainSize);
  const model = g.zoo.build(CNN_ARCHITECTURE);
  model.train();
  const opt = new g.optim.AdamW(model.parameters(), { lr: opts.lr, weightDecay: opts.weightDecay });
  const testAccuracy = (): number => {
    model.eval();
    const right = g.noGrad(() => countRight(model.call(xTest) as g.Tensor, yTest));
    model.train();
    return right / opts.testSize;
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
      const x = scaler.transform(images(xb, opts.batchSize));
      const logits = model.call(x) as g.Tensor;
      const loss = g.losses.crossEntropy(logits, g.tensor(yb, { shape: [opts.batchSize] }));
      opt.zeroGrad();
      loss.backward();
      opt.step();
      const l = loss.item();
      const batchAccuracy = countRight(logits, yb) / opts.batchSize;
      trainingMs += performance.now() - t0;
      losses.push(l);
      const p: DemoProgress = { step, totalSteps: total, epoch, loss: l, batchAccuracy };
      step++;
      if (step % opts.evalEvery === 0 || step === total) p.testAccuracy = accuracy = testAccuracy();
      report(p);
    }
  }
  const bytes = g.io.saveModel(model, { architecture: CNN_ARCHITECTURE, preprocessing: scaler.toJSON() as unknown as g.io.Json });
  return { losses, testAccuracy: accuracy, samplesPerSec: (total * opts.batchSize) / (trainingMs / 1000), trainSize, model: bytes };
}
