/** The demo's training settings and messages; no gradkit import, so the page bundle stays small. */
export interface DemoOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  hidden: number;
  /** Digits held out for the accuracy (the last ones of the file). */
  testSize: number;
  seed: number;
}

export const DEFAULT_OPTIONS: DemoOptions = { epochs: 8, batchSize: 32, lr: 2e-3, hidden: 128, testSize: 200, seed: 0 };

export interface DemoProgress {
  step: number;
  epoch: number;
  loss: number;
}

export interface DemoResult {
  losses: number[];
  testAccuracy: number;
  /** Training samples per second over all epochs (forward, backward and optimizer step). */
  samplesPerSec: number;
  trainSize: number;
  /** The trained MLP's parameters (Linear weights are [out, in]), for predictions on the page. */
  weights: MlpWeights;
}

export interface MlpWeights {
  hidden: number;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

