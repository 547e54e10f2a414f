/**
 * Ensembles: average the predictions of several models (independently trained, or checkpoints
 * of one run), and Polyak averaging of weights across checkpoints.
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import { noGrad } from '../autograd/engine.js';
import { Module, type AnyModule, type StateDict } from '../nn/module.js';
import { ModuleList } from '../nn/containers.js';
import { shapesEqual } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { upload } from '../ops/util.js';
import { readSync } from '../tensor/host.js';

/** How member outputs are combined: mean of softmax probabilities (default) or mean of logits. */
export type Combine = 'probs' | 'logits';

/**
 * Averages member outputs [N, C]. 'probs' returns log of the mean probability, which is a valid
 * logit vector (softmax(log p̄) = p̄), so losses, accuracy and argmax work on it unchanged;
 * probabilities are floored at 1e-30 so a class every member rules out stays finite.
 */
export function combineOutputs(outputs: readonly Tensor[], combine: Combine = 'probs', op = 'ensemble'): Tensor {
  if (outputs.length === 0) throw new GradkitError(op, 'needs at least one output to combine');
  const shape = outputs[0].shape;
  outputs.forEach((o, i) => {
    if (!(o instanceof Tensor) || o.rank !== 2 || !shapesEqual(o.shape, shape)) {
      throw new GradkitError(op, `member ${i} returned ${o instanceof Tensor ? fmtShape(o.shape) : typeof o}; every member must return logits of shape ${fmtShape(shape)} ([N, C])`);
    }
  });
  if (combine === 'logits') return ops.div(outputs.reduce((a, b) => ops.add(a, b)), outputs.length);
  if (combine !== 'probs') throw new GradkitError(op, `combine must be 'probs' or 'logits', got ${String(combine)}`);
  const mean = ops.div(outputs.map((o) => ops.softmax(o, 1)).reduce((a, b) => ops.add(a, b)), outputs.length);
  return ops.log(ops.clamp(mean, 1e-30, 1));
}

/**
 * A module whose forward averages its members (see combineOutputs). Use it anywhere a model goes
 * (Trainer validation, train.evaluate); call `.eval()` for evaluation as usual.
 *
 * ```ts
 * const ens = new metrics.Ensemble([cnnA, cnnB, cnnC]);
 * metrics.accuracy(g.noGrad(() => ens.eval().call(xTest)), yTest);
 * ```
 */
export class Ensemble extends Module<[Tensor], Tensor> {
  readonly members: ModuleList;

  constructor(models: readonly AnyModule[], readonly combine: Combine = 'probs') {
    super();
    if (!Array.isArray(models) || models.length === 0) throw new GradkitError('Ensemble', 'needs a non-empty array of models');
    this.members = new ModuleList(models as AnyModule[]);
  }

  override forward(x: Tensor): Tensor {
    return combineOutputs([...this.members.children()].map((m) => m.call(x) as Tensor), this.combine, 'Ensemble');
  }
}

/**
 * Evaluates every model in eval mode without gradients and returns the combined prediction
 * (log mean probabilities by default). Each model's training flag is restored.
 */
export function ensemblePredict(models: readonly AnyModule[], x: Tensor, opts: { combine?: Combine } = {}): Tensor {
  if (!Array.isArray(models) || models.length === 0) throw new GradkitError('ensemblePredict', 'needs a non-empty array of models');
  const modes = models.map((m) => m.training);
  try {
    return noGrad(() => combineOutputs(models.map((m) => m.eval().call(x) as Tensor), opts.combine ?? 'probs', 'ensemblePredict'));
  } finally {
    models.forEach((m, i) => (modes[i] ? m.train() : m.eval()));
  }
}

/**
 * Polyak averaging over checkpoints: the element-wise mean of several state dicts of the same
 * model (e.g. the last few epochs' checkpoints). Load the result with model.loadStateDict.
 * Integer buffers (counters) are taken from the last dict rather than averaged.
 */
export function averageStateDicts(dicts: readonly StateDict[]): StateDict {
  const op = 'averageStateDicts';
  if (!Array.isArray(dicts) || dicts.length === 0) throw new GradkitError(op, 'needs a non-empty array of state dicts');
  const keys = [...dicts[0].keys()];
  dicts.forEach((d, i) => {
    const k = [...d.keys()];
    if (k.length !== keys.length || k.some((name, j) => name !== keys[j])) throw new GradkitError(op, `state dict ${i} has keys [${k.join(', ')}], dict 0 has [${keys.join(', ')}]`);
  });
  const out: StateDict = new Map();
  for (const key of keys) {
    const ts = dicts.map((d) => d.get(key)!);
    ts.forEach((t, i) => {
      if (!shapesEqual(t.shape, ts[0].shape)) throw new GradkitError(op, `'${key}' has shape ${fmtShape(t.shape)} in dict ${i} but ${fmtShape(ts[0].shape)} in dict 0`);
    });
    const last = ts[ts.length - 1];
    if (last.dtype !== 'float32' && last.dtype !== 'float64') {
      out.set(key, last);
      continue;
    }
    const acc = new Float64Array(last.size);
    for (const t of ts) {
      const v = readSync(t);
      for (let i = 0; i < acc.length; i++) acc[i] += v[i];
    }
    const res = last.dtype === 'float64' ? new Float64Array(acc.length) : new Float32Array(acc.length);
    for (let i = 0; i < acc.length; i++) res[i] = acc[i] / ts.length;
    out.set(key, upload(res, last.shape));
  }
  return out;
}
