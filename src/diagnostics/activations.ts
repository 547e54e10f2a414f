/**
 * Activation statistics per layer through forward hooks: on one batch (`activationStats`) or
 * every N training steps (`ActivationStatsCallback`).
 */
import { GradkitError } from '../core/errors.js';
import { noGrad } from '../autograd/engine.js';
import type { AnyModule } from '../nn/module.js';
import { GELU, SiLU, Softplus, Swish } from '../nn/activation.js';
import { Tensor } from '../tensor/tensor.js';
import type { Callback } from '../train/callback.js';
import type { Trainer } from '../train/trainer.js';
import { activationKind, tensorStats, type ActivationKind, type TensorStats } from './stats.js';

/** The statistics of one layer's output, with the layer's name, class and activation kind. */
export interface LayerStats extends TensorStats {
  /** Dotted module name ('3' in a Sequential, 'block.act'). */
  name: string;
  /** Module class name ('Tanh'). */
  type: string;
  kind: ActivationKind;
}

/** Options of activation statistics: which modules to watch and the histogram bins. */
export interface ActivationStatsOptions {
  /** Which modules to watch; default: every activation module (tanh, sigmoid, ReLU-family, …). */
  filter?: (name: string, module: AnyModule) => boolean;
  /** Histogram bins (default 30). */
  bins?: number;
}

function defaultFilter(_name: string, m: AnyModule): boolean {
  return activationKind(m) !== 'other' || m instanceof Swish || m instanceof SiLU || m instanceof GELU || m instanceof Softplus;
}

/**
 * Hooks the chosen modules; each call collects one LayerStats per watched module (in call
 * order). Returns the collected list and a remover.
 */
export function watchActivations(model: AnyModule, opts: ActivationStatsOptions = {}): { records: LayerStats[]; remove: () => void } {
  const filter = opts.filter ?? defaultFilter;
  const records: LayerStats[] = [];
  const removers: (() => void)[] = [];
  for (const [name, m] of model.namedModules()) {
    if (!filter(name, m)) continue;
    const kind = activationKind(m);
    removers.push(m.registerForwardHook((_mod, _inputs, out: unknown) => {
      if (!(out instanceof Tensor)) return;
      const batch = out.rank === 0 ? 1 : out.shape[0];
      records.push({ name, type: m.constructor.name, kind, ...tensorStats(out.dataSync(), batch, { kind, bins: opts.bins }) });
    }));
  }
  return { records, remove: () => removers.forEach((r) => r()) };
}

/**
 * Runs `model` on `inputs` once (no gradients) and returns the statistics of every watched
 * layer's output. Hooks are removed afterwards, also when forward throws.
 *
 * ```ts
 * for (const s of diagnostics.activationStats(model, x)) console.log(s.name, s.mean, s.std, s.dead);
 * ```
 */
export function activationStats(model: AnyModule, inputs: Tensor | Tensor[], opts: ActivationStatsOptions = {}): LayerStats[] {
  const xs = Array.isArray(inputs) ? inputs : [inputs];
  if (xs.length === 0 || !xs.every((x) => x instanceof Tensor)) throw new GradkitError('diagnostics.activationStats', 'inputs must be a Tensor or an array of Tensors');
  const w = watchActivations(model, opts);
  try {
    noGrad(() => model.call(...xs));
  } finally {
    w.remove();
  }
  if (w.records.length === 0) throw new GradkitError('diagnostics.activationStats', `no watched layer ran in ${model.constructor.name}; pass a filter to choose modules`);
  return w.records;
}

/** Options of the ActivationStats callback: the activation statistics options plus how often to record. */
export interface ActivationStatsCallbackOptions extends ActivationStatsOptions {
  /** Record every N optimizer steps (default 100; step 0 is always recorded). */
  every?: number;
}

/**
 * Trainer callback: on every N-th training step, hooks the model for that batch's forward and
 * appends `{ step, layers }` to `history`. The last record's std, dead and saturated fractions
 * also go into the epoch logs as `act/<layer>/std` etc.
 */
export class ActivationStatsCallback implements Callback {
  readonly name = 'activationStats';
  readonly order = 15;
  readonly history: { step: number; epoch: number; layers: LayerStats[] }[] = [];
  private readonly every: number;
  private watch: ReturnType<typeof watchActivations> | null = null;

  /** Per-layer keys, known only once the model has run. */
  logKeys(): null {
    return null;
  }

  constructor(private readonly opts: ActivationStatsCallbackOptions = {}) {
    this.every = opts.every ?? 100;
    if (!(Number.isInteger(this.every) && this.every > 0)) throw new GradkitError('ActivationStatsCallback', `every must be a positive integer, got ${String(opts.every)}`);
  }

  beforeBatch(t: Trainer): void {
    if (t.training && t.step % this.every === 0) this.watch = watchActivations(t.model, this.opts);
  }

  afterForward(t: Trainer): void {
    if (this.watch === null) return;
    this.watch.remove();
    const layers = this.watch.records;
    this.watch = null;
    this.history.push({ step: t.step, epoch: t.epoch, layers });
    for (const l of layers) {
      t.logs[`act/${l.name}/std`] = l.std;
      if (l.dead !== null) t.logs[`act/${l.name}/dead`] = l.dead;
      if (l.saturated !== null) t.logs[`act/${l.name}/saturated`] = l.saturated;
    }
  }

  // A cancelled batch must not leave hooks behind.
  afterBatch(): void {
    this.watch?.remove();
    this.watch = null;
  }
}
