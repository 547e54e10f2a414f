/** The demo's training settings and messages; no gradkit import, so the page bundle stays small. */
export interface DemoOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** Digits held out for the accuracy curve and the final accuracy (the last ones of the file). */
  testSize: number;
  /** Train on at most this many of the other digits (the first ones; default all of them): a shorter run. */
  trainSize?: number;
  /** Measure the held-out accuracy every this many steps (and after the last one). */
  evalEvery: number;
  seed: number;
}

/**
 * The default `gradkit train` CNN's optimizer (AdamW 3e-3, weight decay 1e-2) on the 2,000 training
 * digits of digits.bin for 3 epochs: ~6,000 samples, well under a minute on one thread.
 */
export const DEFAULT_OPTIONS: DemoOptions = { epochs: 3, batchSize: 32, lr: 3e-3, weightDecay: 1e-2, testSize: 400, evalEvery: 16, seed: 0 };

export interface DemoProgress {
  step: number;
  /** Steps in the whole run, so the page can scale its curves from the start. */
  totalSteps: number;
  epoch: number;
  loss: number;
  /** Accuracy on this step's training batch (before the update). */
  batchAccuracy: number;
  /** Accuracy on the held-out digits, on the steps where it was measured. */
  testAccuracy?: number;
}

export interface DemoResult {
  losses: number[];
  testAccuracy: number;
  /** Training samples per second (forward, backward and optimizer step; the accuracy checks are not timed). */
  samplesPerSec: number;
  trainSize: number;
  /** The trained CNN as a gradkit model file (architecture, weights and preprocessing), for the predictor worker. */
  model: Uint8Array;
}
