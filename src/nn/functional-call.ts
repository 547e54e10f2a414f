import { GradkitError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { AnyModule } from './module.js';

/**
 * Calls `module` with some parameters (or buffers) temporarily replaced by the given tensors,
 * by dotted name ('layers.0.weight'), then restores them, like torch.func.functional_call.
 * Gradients then flow to the replacement tensors, which is how gradient checks and
 * per-example tricks see a module as a pure function of its parameters.
 *
 * It swaps the field that holds each parameter, so it works for modules whose parameters live
 * in fields of the same name (every built-in layer does).
 */
export function functionalCall<In extends unknown[], Out>(
  module: AnyModule & { call(...inputs: In): Out },
  replacements: Map<string, Tensor> | Record<string, Tensor>,
  ...inputs: In
): Out {
  const entries = replacements instanceof Map ? [...replacements] : Object.entries(replacements);
  const owners = new Map([...module.namedModules()]);
  const known = new Set([...module.namedParameters()].map(([n]) => n).concat([...module.namedBuffers()].map(([n]) => n)));
  const saved: [Record<string, unknown>, string, unknown][] = [];
  try {
    for (const [name, t] of entries) {
      if (!known.has(name)) throw new GradkitError('functionalCall', `'${name}' is not a parameter or buffer of ${module.constructor.name}`);
      const dot = name.lastIndexOf('.');
      const owner = owners.get(dot < 0 ? '' : name.slice(0, dot)) as unknown as Record<string, unknown>;
      const field = name.slice(dot + 1);
      if (!(field in owner)) throw new GradkitError('functionalCall', `'${name}' is not held in a field named '${field}', so it cannot be swapped`);
      saved.push([owner, field, owner[field]]);
      owner[field] = t;
    }
    return module.call(...inputs);
  } finally {
    for (let i = saved.length - 1; i >= 0; i--) {
      const [owner, field, old] = saved[i];
      owner[field] = old;
    }
  }
}
