/**
 * The demo's training run, shared by the browser worker and the Node speed comparison so both
 * time exactly the same work: a 784-128-10 MLP with Adam on a few hundred digits.
 */
import * as g from '../../src/index.js';
import type { DemoOptions, DemoProgress, DemoResult, MlpWeights } from './options.js';

export { DEFAULT_OPTIONS, type DemoOptions, type DemoProgress, type DemoResult } from './options.js';

export const PIXELS = 28 * 28;

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

export function trainDigits(data: DigitsBlock, opts: DemoOptions, report: (p: DemoProgress) => void = () => {}): DemoResult {
  g.manualSeed(opts.seed);
  const trainSize = data.n - opts.testSize;
  if (trainSize < opts.batchSize) throw new Error(`only ${data.n} digits: need more than testSize + batchSize`);
  const model = new g.nn.Sequential(new g.nn.Linear(PIXELS, opts.hidden), new g.nn.ReLU(), new g.nn.Linear(opts.hidden, 10));
  const opt = new g.optim.Adam(model.parameters(), { lr: opts.lr });
  const batches = Math.floor(trainSize / opts.batchSize);
  const losses: number[] = [];
  let step = 0;
  const t0 = performance.now();
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let b = 0; b < batches; b++) {
      const at = b * opts.batchSize;
      const xb = g.tensor(data.x.subarray(at * PIXELS, (at + opts.batchSize) * PIXELS), { shape: [opts.batchSize, PIXELS] });
      const yb = g.tensor(data.y.subarray(at, at + opts.batchSize), { shape: [opts.batchSize] });
      const loss = g.losses.crossEntropy(model.forward(xb), yb);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      const l = loss.item();
      losses.push(l);
      report({ step: step++, epoch, loss: l });
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const xt = g.tensor(data.x.subarray(trainSize * PIXELS), { shape: [opts.testSize, PIXELS] });
  const pred = g.noGrad(() => model.forward(xt)).argmax(1).dataSync();
  let right = 0;
  for (let i = 0; i < opts.testSize; i++) if (pred[i] === data.y[trainSize + i]) right++;
  const [w1, b1, w2, b2] = model.parameters().map((p) => Float32Array.from(p.dataSync()));
  const weights: MlpWeights = { hidden: opts.hidden, w1: w1!, b1: b1!, w2: w2!, b2: b2! };
  return { losses, testAccuracy: right / opts.testSize, samplesPerSec: (opts.epochs * batches * opts.batchSize) / seconds, trainSize, weights };
}
