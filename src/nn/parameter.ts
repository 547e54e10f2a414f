import { getBackend } from '../backend/registry.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';

/** Well-known parameter tags read by optimizers and transfer-learning helpers. */
export type ParameterTag = 'noDecay' | (string & {});

/**
 * A trainable tensor owned by a module. It is a leaf that requires grad by default; `tags`
 * carry per-parameter policy (e.g. 'noDecay' for biases and norm parameters, which weight
 * decay skips). Freezing is `p.requiresGrad = false`.
 *
 * A parameter shares the buffer of the tensor it is made from (no copy) and is kept alive past
 * any scope it is created in: it is state that lives as long as its module.
 */
export class Parameter extends Tensor {
  readonly tags: Set<ParameterTag>;

  constructor(data: Tensor, opts: { requiresGrad?: boolean; tags?: Iterable<ParameterTag>; name?: string } = {}) {
    // A placeholder buffer of the right size, swapped at once for data's storage (shared, not
    // copied): the constructor can only be given a handle, and two owners of one handle would free it twice.
    super(getBackend().alloc(data.dtype, data.size), data.shape, { name: opts.name ?? data.name });
    this.replaceStorage(data.view(data.shape));
    // Parameters live as long as their module and are read and stepped every step.
    this.persist();
    keep(this);
    this.requiresGrad = opts.requiresGrad ?? true;
    this.tags = new Set(opts.tags ?? []);
  }
}

/**
 * A parameter made from a fresh tensor that nothing else holds (the layers' initial values):
 * the source lets go of the buffer at once, so the parameter is its only owner and
 * `Module.dispose()` frees it then and there rather than when the source is collected.
 */
export function parameterFrom(fresh: Tensor, opts: ConstructorParameters<typeof Parameter>[1] = {}): Parameter {
  const p = new Parameter(fresh, opts);
  fresh.dispose();
  return p;
}

/** Whether `x` is a Parameter (a trainable tensor registered on a Module). */
export function isParameter(x: unknown): x is Parameter {
  return x instanceof Parameter;
}
