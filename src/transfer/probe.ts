/**
 * Linear probe: how linearly separable are a frozen network's features? Fit only a linear
 * classifier (softmax regression) on features extracted once, with Adam and cross-entropy.
 * It is the standard measure of representation quality and a cheap baseline for fine-tuning.
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import { Random } from '../core/rng.js';
import { noGrad } from '../autograd/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { scope } from '../tensor/lifetime.js';
import * as ops from '../ops/index.js';
import { Linear } from '../nn/linear.js';
import { Adam } from '../optim/optimizers.js';
import { crossEntropy } from '../losses/classification.js';
import { gatherRows } from '../data/dataset.js';

/** Options of `linearProbe`: epochs, learning rate, weight decay, batch size, class count and seed. */
export interface LinearProbeOptions {
  /** Passes over the features (default 100). */
  epochs?: number;
  /** Adam learning rate (default 0.01). */
  lr?: number;
  /** L2 penalty on the weights (default 0). */
  weightDecay?: number;
  /** Minibatch size (default 256; the whole set when smaller). */
  batchSize?: number;
  /** Number of classes (default: largest label + 1). */
  numClasses?: number;
  /** Seed for the classifier's init and the shuffling (default 0). */
  seed?: number;
}

/** A trained linear probe: the classifier on frozen features, its loss curve, and prediction and accuracy helpers. */
export interface LinearProbe {
  classifier: Linear;
  /** Mean training loss of each epoch. */
  losses: number[];
  /** Predicted classes [N] (int32) for features [N, D]. */
  predict(features: Tensor): Tensor;
  /** Fraction of correct predictions. */
  accuracy(features: Tensor, labels: Tensor): number;
}

function checkPositiveInt(op: string, what: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new GradkitError(op, `${what} must be a positive integer, got ${v}`);
  return v;
}

/**
 * Fits a linear classifier on fixed features [N, D] with integer labels [N].
 *
 * ```ts
 * const { features, targets: [labels] } = transfer.extractFeatures(body, trainSet, { flatten: true });
 * const probe = transfer.linearProbe(features, labels, { epochs: 200, lr: 0.01 });
 * probe.accuracy(testFeatures, testLabels);
 * ```
 */
export function linearProbe(features: Tensor, labels: Tensor, opts: LinearProbeOptions = {}): LinearProbe {
  const op = 'linearProbe';
  if (!(features instanceof Tensor) || features.rank !== 2 || features.shape[0] === 0) {
    throw new GradkitError(op, `features must be a non-empty [N, D] tensor (flatten them: extractFeatures(..., { flatten: true })), got ${features instanceof Tensor ? fmtShape(features.shape) : typeof features}`);
  }
  if (features.dtype !== 'float32' && features.dtype !== 'float64') throw new GradkitError(op, `features must be float, got ${features.dtype}`);
  if (!(labels instanceof Tensor) || labels.rank !== 1 || labels.dtype !== 'int32' || labels.shape[0] !== features.shape[0]) {
    throw new GradkitError(op, `labels must be int32 [${features.shape[0]}] (one class index per feature row), got ${labels instanceof Tensor ? `${labels.dtype} ${fmtShape(labels.shape)}` : typeof labels}`);
  }
  const y = labels.dataSync();
  let maxLabel = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] < 0) throw new GradkitError(op, `label ${y[i]} at row ${i} is negative`);
    maxLabel = Math.max(maxLabel, y[i]);
  }
  const numClasses = checkPositiveInt(op, 'numClasses', opts.numClasses ?? maxLabel + 1);
  if (maxLabel >= numClasses) throw new GradkitError(op, `label ${maxLabel} is out of range for numClasses ${numClasses}`);
  const epochs = checkPositiveInt(op, 'epochs', opts.epochs ?? 100);
  const batchSize = checkPositiveInt(op, 'batchSize', opts.batchSize ?? 256);
  const rng = new Random(opts.seed ?? 0);
  const n = features.shape[0];
  const classifier = new Linear(features.shape[1], numClasses, { rng, init: 'xavier', dtype: features.dtype });
  const optimizer = new Adam(classifier.parameters(), { lr: opts.lr ?? 0.01, weightDecay: opts.weightDecay ?? 0 });
  const x = features.detach();
  const losses: number[] = [];
  const order = Array.from({ length: n }, (_, i) => i);
  for (let e = 0; e < epochs; e++) {
    // Fisher-Yates with the probe's own generator: the same seed gives the same probe.
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(0, i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let total = 0;
    for (let s = 0; s < n; s += batchSize) {
      const idx = order.slice(s, s + batchSize);
      // Each step in a scope: its batch copies, activations and graph are freed when it ends.
      total += scope(() => {
        const xb = n <= batchSize ? x : gatherRows(x, idx);
        const yb = n <= batchSize ? labels : gatherRows(labels, idx);
        const loss = crossEntropy(classifier.call(xb), yb);
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        return loss.item() * idx.length;
      });
    }
    losses.push(total / n);
  }
  const predict = (f: Tensor): Tensor => {
    if (!(f instanceof Tensor) || f.rank !== 2 || f.shape[1] !== features.shape[1]) {
      throw new GradkitError('linearProbe.predict', `expected features [N, ${features.shape[1]}], got ${f instanceof Tensor ? fmtShape(f.shape) : typeof f}`);
    }
    return noGrad(() => ops.argmax(classifier.call(f.detach()), 1));
  };
  const accuracy = (f: Tensor, l: Tensor): number => {
    const p = predict(f).dataSync();
    const t = l.dataSync();
    if (t.length !== p.length) throw new GradkitError('linearProbe.accuracy', `labels have ${t.length} entries but features have ${p.length} rows`);
    let hits = 0;
    for (let i = 0; i < p.length; i++) if (p[i] === t[i]) hits++;
    return hits / p.length;
  };
  return { classifier, losses, predict, accuracy };
}
