import { Tensor } from '../tensor/tensor.js';

/** Well-known parameter tags read by optimizers and transfer-learning helpers. */
export type ParameterTag = 'noDecay' | (string & {});

/**
 * A trainable tensor owned by a module. It is a leaf that requires grad by default; `tags`
 * carry per-parameter policy (e.g. 'noDecay' for biases and norm parameters, which weight
 * decay skips). Freezing is `p.requiresGrad = false`.
 */
export class Parameter extends Tensor {
  readonly tags: Set<ParameterTag>;

  constructor(data: Tensor, opts: { requiresGrad?: boolean; tags?: Iterable<ParameterTag>; name?: string } = {}) {
    super(data.buffer, data.shape, { name: opts.name ?? data.name });
    this.requiresGrad = opts.requiresGrad ?? true;
    this.tags = new Set(opts.tags ?? []);
  }
}

/** Whether `x` is a Parameter (a trainable tensor registered on a Module). */
export function isParameter(x: unknown): x is Parameter {
  return x instanceof Parameter;
}
