/**
 * Error analysis of a classifier on a dataset: the confusion matrix, per-class accuracy, and a
 * sample of misclassified inputs (the first `misclassified` in dataset order, so the sample is
 * the same every time). writeAnalysis puts analysis.json and misclassified/*.png in a run folder.
 */
import { noGrad } from '../autograd/engine.js';
import { GradkitError } from '../core/errors.js';
import { encodePng, toGreyBytes } from '../core/png.js';
import type { Batch } from '../data/collate.js';
import type { AnyModule } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { joinPath, type Storage } from '../train/storage.js';

/** One misclassified sample: where it is, its true and predicted class, the confidence and the input itself. */
export interface Misclassified {
  /** Position in the dataset. */
  index: number;
  label: number;
  predicted: number;
  /** Softmax probability of the predicted class. */
  confidence: number;
  /** The input as the model saw it (after preprocessing), and its shape without the batch axis. */
  input: Float32Array;
  shape: number[];
}

/** An analysis of a classifier on a data set: accuracy, confusion matrix, per-class accuracy and the misclassified samples. */
export interface ClassifierAnalysis {
  samples: number;
  accuracy: number;
  /** confusion[true][predicted] = count. */
  confusion: number[][];
  /** Per true class: correct / samples of that class (null for a class with no samples). */
  perClassAccuracy: (number | null)[];
  misclassified: Misclassified[];
}

/** The confusion matrix, per-class accuracy and a sample of misclassified inputs of a classifier on a dataset. */
export function analyzeClassifier(model: AnyModule, data: Iterable<Batch>, opts: { numClasses: number; misclassified?: number }): ClassifierAnalysis {
  const k = opts.numClasses;
  const keep = opts.misclassified ?? 16;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const wrong: Misclassified[] = [];
  let n = 0;
  let correct = 0;
  const wasTraining = model.training;
  model.eval();
  try {
    for (const batch of data) {
      const x = batch[0] as Tensor;
      const target = batch[batch.length - 1] as Tensor;
      const out = noGrad(() => model.call(...(batch.slice(0, -1) as Tensor[])) as Tensor);
      if (out.rank !== 2 || out.shape[1] !== k) throw new GradkitError('analyzeClassifier', `the model produced ${JSON.stringify(out.shape)}; expected [batch, ${k}]`);
      const b = out.shape[0];
      const scores = out.dataSync();
      const t = target.dataSync();
      const xs = x.dataSync();
      const per = xs.length / b;
      for (let i = 0; i < b; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (scores[i * k + j] > scores[i * k + best]) best = j;
        let label = t[i];
        if (target.rank === 2) {
          label = 0;
          for (let j = 1; j < k; j++) if (t[i * k + j] > t[i * k + label]) label = j;
        }
        confusion[label][best]++;
        if (best === label) correct++;
        else if (wrong.length < keep) {
          let z = 0;
          for (let j = 0; j < k; j++) z += Math.exp(scores[i * k + j] - scores[i * k + best]);
          wrong.push({ index: n + i, label, predicted: best, confidence: 1 / z, input: Float32Array.from(xs.subarray(i * per, (i + 1) * per)), shape: x.shape.slice(1) });
        }
      }
      n += b;
    }
  } finally {
    model.train(wasTraining);
  }
  const perClassAccuracy = confusion.map((row, c) => {
    const total = row.reduce((s, v) => s + v, 0);
    return total === 0 ? null : row[c] / total;
  });
  return { samples: n, accuracy: n > 0 ? correct / n : NaN, confusion, perClassAccuracy, misclassified: wrong };
}

/** The picture size of an input shape: [1,H,W] or [H,W] greyscale, [3,H,W] colour; null otherwise. */
export function inputImageSize(shape: number[]): { width: number; height: number; colorspace: 1 | 3 } | null {
  const dims = shape.length === 3 ? shape : shape.length === 2 ? [1, ...shape] : null;
  if (dims === null || (dims[0] !== 1 && dims[0] !== 3)) return null;
  return { width: dims[2], height: dims[1], colorspace: dims[0] as 1 | 3 };
}

/** A PNG of one input (see inputImageSize); null for shapes that are not pictures (features). */
export function inputPng(input: Float32Array, shape: number[]): Uint8Array | null {
  const size = inputImageSize(shape);
  if (size === null) return null;
  const [c, h, w] = [size.colorspace, size.height, size.width];
  const grey = toGreyBytes(input);
  if (c === 1) return encodePng(w, h, grey, 1);
  // CHW → HWC interleaved RGB.
  const rgb = new Uint8Array(h * w * 3);
  for (let ch = 0; ch < 3; ch++) for (let p = 0; p < h * w; p++) rgb[p * 3 + ch] = grey[ch * h * w + p];
  return encodePng(w, h, rgb, 3);
}

/** Writes analysis.json (without the raw inputs) and misclassified/<n>-true<l>-pred<p>.png. */
export async function writeAnalysis(storage: Storage, dir: string, a: ClassifierAnalysis, extra: Record<string, unknown> = {}): Promise<void> {
  const images: (string | null)[] = [];
  if (a.misclassified.length > 0) await storage.mkdir(joinPath(dir, 'misclassified'));
  for (const [i, m] of a.misclassified.entries()) {
    const png = inputPng(m.input, m.shape);
    if (png === null) {
      images.push(null);
      continue;
    }
    const file = `misclassified/${String(i).padStart(3, '0')}-true${m.label}-pred${m.predicted}.png`;
    await storage.writeAtomic(joinPath(dir, file), png);
    images.push(file);
  }
  const json = {
    ...extra,
    samples: a.samples,
    accuracy: a.accuracy,
    confusion: a.confusion,
    perClassAccuracy: a.perClassAccuracy,
    misclassified: a.misclassified.map((m, i) => ({ index: m.index, label: m.label, predicted: m.predicted, confidence: m.confidence, image: images[i] })),
  };
  await storage.writeAtomic(joinPath(dir, 'analysis.json'), `${JSON.stringify(json, null, 2)}\n`);
}
