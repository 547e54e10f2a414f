/**
 * Running a (frozen, cut) network over a whole data set once to get its features: in eval mode
 * (Dropout off, BatchNorm on running statistics), without building a graph, in batches so
 * memory stays bounded. Each module's mode is restored afterwards.
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import { noGrad } from '../autograd/engine.js';
import { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import type { AnyModule } from '../nn/module.js';
import type { Dataset } from '../data/dataset.js';
import { defaultCollate } from '../data/collate.js';
import { isHeldInEval } from './freeze.js';

/** Options of `extractFeatures`: batch size and whether features are flattened to vectors. */
export interface ExtractFeaturesOptions {
  /** Samples per forward pass (default 256). */
  batchSize?: number;
  /** Flatten each sample's features to one vector: [N, D] (default false: the layer's output shape). */
  flatten?: boolean;
}

/** Features a model extracted from every sample of a data set, with the data set's other fields alongside. */
export interface DatasetFeatures {
  /** [N, ...] features of every sample, in data set order. */
  features: Tensor;
  /** The data set's other fields (labels, ...), batched the same way: one tensor per field. */
  targets: Tensor[];
}

function runEval<T>(model: AnyModule, fn: () => T): T {
  // Held BatchNorms already read as eval; their requested mode is theirs to keep.
  const modes = [...model.modules()].filter((m) => !isHeldInEval(m)).map((m) => [m, m.training] as const);
  model.eval();
  try {
    return noGrad(fn);
  } finally {
    for (const [m, t] of modes) m.training = t;
  }
}

function output(model: AnyModule, x: Tensor, flatten: boolean): Tensor {
  const y = model.call(x) as unknown;
  if (!(y instanceof Tensor)) throw new GradkitError('extractFeatures', `the model must return a Tensor, got ${y === null ? 'null' : typeof y}; cut it at a layer that outputs features (transfer.cutAt)`);
  return flatten ? ops.reshape(y, [y.shape[0], -1]) : y;
}

/**
 * Features of `source` (a tensor of inputs [N, ...], or a data set whose first field is the
 * input) from `model`.
 *
 * ```ts
 * const body = transfer.cutAt(cnn, '7');
 * const { features, targets: [labels] } = transfer.extractFeatures(body, trainSet, { batchSize: 128, flatten: true });
 * ```
 */
export function extractFeatures(model: AnyModule, source: Tensor, opts?: ExtractFeaturesOptions): Tensor;
export function extractFeatures(model: AnyModule, source: Dataset, opts?: ExtractFeaturesOptions): DatasetFeatures;
export function extractFeatures(model: AnyModule, source: Tensor | Dataset, opts: ExtractFeaturesOptions = {}): Tensor | DatasetFeatures {
  const op = 'extractFeatures';
  if (model === null || typeof model !== 'object' || typeof (model as AnyModule).call !== 'function') throw new GradkitError(op, 'model must be an nn.Module');
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new GradkitError(op, `batchSize must be a positive integer, got ${batchSize}`);
  const flatten = opts.flatten ?? false;
  if (source instanceof Tensor) {
    if (source.rank < 1 || source.shape[0] === 0) throw new GradkitError(op, `inputs must be a non-empty batch [N, ...], got ${fmtShape(source.shape)}`);
    const n = source.shape[0];
    return runEval(model, () => {
      const parts: Tensor[] = [];
      for (let s = 0; s < n; s += batchSize) parts.push(output(model, n <= batchSize ? source : ops.slice(source, [s], [Math.min(n, s + batchSize)]), flatten));
      return parts.length === 1 ? parts[0] : ops.concat(parts, 0);
    });
  }
  const ds = source as Dataset;
  if (ds === null || typeof ds !== 'object' || typeof ds.get !== 'function' || !Number.isInteger(ds.length)) {
    throw new GradkitError(op, `source must be a Tensor of inputs or a Dataset, got ${ds === null ? 'null' : typeof ds}`);
  }
  if (ds.length === 0) throw new GradkitError(op, 'the data set is empty');
  return runEval(model, () => {
    const feats: Tensor[] = [];
    const rest: Tensor[][] = [];
    for (let s = 0; s < ds.length; s += batchSize) {
      const idx = Array.from({ length: Math.min(ds.length, s + batchSize) - s }, (_, i) => s + i);
      const batch = ds.getBatch ? ds.getBatch(idx) : defaultCollate(idx.map((i) => ds.get(i)));
      if (batch.length === 0) throw new GradkitError(op, 'data set samples have no fields');
      feats.push(output(model, batch[0], flatten));
      batch.slice(1).forEach((t, f) => (rest[f] ??= []).push(t));
    }
    const cat = (xs: Tensor[]): Tensor => (xs.length === 1 ? xs[0] : ops.concat(xs, 0));
    return { features: cat(feats), targets: rest.map(cat) };
  });
}
