/** Messages between the page and the predictor worker (predictor.ts); no gradkit import. */

/** Page → predictor. */
export type PredictorRequest =
  /** Use a gradkit model file's bytes (the CNN the training worker just made). */
  | { type: 'load-bytes'; bytes: Uint8Array; label: string }
  /** Fetch the zoo's shipped digits-cnn from the demo server (dist/zoo/) and use it. */
  | { type: 'load-zoo' }
  /** Classify one 28×28 image (784 values in [0, 1], white digit on black, as MNIST). */
  | { type: 'predict'; id: number; pixels: Float32Array };

/** What the loaded model is. */
export interface LoadedInfo {
  label: string;
  /** The accuracy its file records (the zoo's held-out test accuracy), when it records one. */
  testAccuracy?: number;
}

/** Predictor → page. */
export type PredictorReply =
  | { type: 'loaded'; info: LoadedInfo }
  | { type: 'probs'; id: number; probs: Float32Array }
  | { type: 'error'; message: string };
