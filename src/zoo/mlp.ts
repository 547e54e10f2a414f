/**
 * Multilayer perceptron as a Sequential: for each hidden layer Linear → [BatchNorm1d] →
 * activation → [Dropout] (the Linear has no bias when a BatchNorm follows it), then a final Linear with no activation (logits or regression outputs).
 * BatchNorm goes before the activation, as Ioffe & Szegedy place it.
 */
import type { FloatDType } from '../core/dtype.js';
import { GradkitError } from '../core/errors.js';
import { getGlobalRng, type Random } from '../core/rng.js';
import { ELU, GELU, LeakyReLU, ReLU, SELU, Sigmoid, SiLU, Tanh } from '../nn/activation.js';
import { Sequential } from '../nn/containers.js';
import { checkProb, checkSize } from '../nn/layer-options.js';
import { Linear } from '../nn/linear.js';
import type { AnyModule } from '../nn/module.js';
import { BatchNorm1d } from '../nn/normalization.js';
import { Dropout } from '../nn/regularization.js';

const ACTIVATIONS = {
  relu: () => new ReLU(),
  tanh: () => new Tanh(),
  sigmoid: () => new Sigmoid(),
  gelu: () => new GELU(),
  elu: () => new ELU(),
  selu: () => new SELU(),
  silu: () => new SiLU(),
  leakyRelu: () => new LeakyReLU(),
} satisfies Record<string, () => AnyModule>;

/** The names of the hidden activations the MLP builder knows ('relu', 'tanh', …). */
export type ActivationName = keyof typeof ACTIVATIONS;

/** Options of the MLP builder: layer widths, hidden activation, dropout, BatchNorm and initialization. */
export interface MlpOptions {
  /** Layer widths from input to output: [784, 128, 64, 10] is two hidden layers. */
  sizes: readonly number[];
  /** Hidden activation: a name or a factory returning a fresh module (default 'relu'). */
  activation?: ActivationName | (() => AnyModule);
  /** Dropout probability after each hidden activation (default 0: none). */
  dropout?: number;
  /** BatchNorm1d after each hidden Linear (default false). */
  batchNorm?: boolean;
  rng?: Random;
  dtype?: FloatDType;
}

/**
 * ```ts
 * const net = zoo.mlp({ sizes: [784, 256, 10], dropout: 0.2 });   // Sequential: 0 Linear, 1 ReLU, 2 Dropout, 3 Linear
 * ```
 */
export function mlp(opts: MlpOptions): Sequential {
  const op = 'mlp';
  if (opts === null || typeof opts !== 'object' || !Array.isArray(opts.sizes)) throw new GradkitError(op, 'needs options { sizes: [in, ...hidden, out] }');
  const sizes = [...opts.sizes];
  if (sizes.length < 2) throw new GradkitError(op, `sizes must list at least the input and output widths, got [${sizes.join(', ')}]`);
  sizes.forEach((s) => checkSize(op, 'sizes[i]', s));
  const act = opts.activation ?? 'relu';
  let make: () => AnyModule;
  if (typeof act === 'function') make = act;
  else if (Object.prototype.hasOwnProperty.call(ACTIVATIONS, act)) make = ACTIVATIONS[act];
  else throw new GradkitError(op, `unknown activation '${String(act)}'; use one of ${Object.keys(ACTIVATIONS).join(', ')} or a factory () => module`);
  const p = checkProb(op, opts.dropout ?? 0);
  const common = { rng: opts.rng ?? getGlobalRng(), dtype: opts.dtype };
  const net = new Sequential();
  for (let i = 0; i + 1 < sizes.length; i++) {
    const last = i + 2 === sizes.length;
    // He init for ReLU-family hidden layers is Linear's default; the output layer gets Xavier.
    // Before a BatchNorm a bias is redundant (the norm subtracts the mean; its β is the shift).
    net.append(new Linear(sizes[i], sizes[i + 1], last ? { ...common, init: 'xavier' } : { ...common, bias: !opts.batchNorm }));
    if (last) break;
    if (opts.batchNorm) net.append(new BatchNorm1d(sizes[i + 1], { dtype: opts.dtype }));
    const a = make();
    if (a === null || typeof a !== 'object' || typeof (a as AnyModule).call !== 'function') throw new GradkitError(op, 'the activation factory must return an nn.Module');
    net.append(a);
    if (p > 0) net.append(new Dropout({ p }));
  }
  return net;
}
