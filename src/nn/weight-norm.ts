import { GradkitError, fmtShape } from '../core/errors.js';
import { noGrad } from '../autograd/engine.js';
import { keep } from '../tensor/scope.js';
import { scope } from '../tensor/lifetime.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { kernels, wrap } from '../ops/util.js';
import type { AnyModule } from './module.js';
import { Parameter, parameterFrom } from './parameter.js';

/** Per-output-unit L2 norm of v over every axis but the first, shaped to broadcast against v. */
function unitNorm(v: Tensor): Tensor {
  const axes = Array.from({ length: v.rank - 1 }, (_, i) => i + 1);
  return ops.sqrt(ops.sum(ops.square(v), axes, { keepDims: true }));
}

function compute(g: Tensor, v: Tensor): Tensor {
  return ops.mul(ops.reshape(g, [g.shape[0], ...new Array<number>(v.rank - 1).fill(1)]), ops.div(v, unitNorm(v)));
}

/**
 * Weight normalization (Salimans & Kingma 2016): re-parametrizes `layer.weight` (any layer
 * whose weight has the output units on axis 0: Linear, Conv2d) as w = g·v/‖v‖, with the norm
 * taken per output unit. The layer's 'weight' parameter is replaced by 'weightG' ([out],
 * initialized to ‖w‖ so the function is unchanged) and 'weightV' (initialized to w); the
 * weight is recomputed before every forward. Returns the layer.
 *
 * ```ts
 * const lin = nn.weightNorm(new nn.Linear(64, 32));   // parameters: bias, weightG [32], weightV [32, 64]
 * ```
 */
export function weightNorm<M extends AnyModule & { weight: Tensor }>(layer: M): M {
  const params = new Map(layer.namedParameters({ recurse: false }));
  const w = params.get('weight');
  if (w === undefined) throw new GradkitError('weightNorm', `${layer.constructor.name} has no 'weight' parameter (already weight-normalized?)`);
  if (w.rank < 2) throw new GradkitError('weightNorm', `weight must have at least 2 dimensions (output units on axis 0), got ${fmtShape(w.shape)}`);
  // In a scope, so that the norm's temporaries let go of the buffer gp takes over.
  const gp = scope(() => new Parameter(noGrad(() => ops.reshape(unitNorm(w), [w.shape[0]])), { tags: w.tags }));
  const vp = parameterFrom(wrap(kernels().cast(w.handle, w.dtype), w.shape), { tags: w.tags }); // a copy of w
  layer.unregister('weight');
  layer.registerParameter('weightG', gp);
  layer.registerParameter('weightV', vp);
  // Held in fields too, so assignment and functionalCall can swap them like any parameter.
  const fields = layer as unknown as { weightG: Tensor; weightV: Tensor };
  fields.weightG = gp;
  fields.weightV = vp;
  // The computed weight is layer state read between steps (printing, export): kept out of step scopes.
  layer.weight = keep(noGrad(() => compute(gp, vp)));
  layer.registerForwardPreHook(() => {
    const previous = layer.weight;
    layer.weight = keep(compute(fields.weightG, fields.weightV));
    // Kept, the previous computed weight would wait for the GC (on wasm, a block of its memory
    // per step). It is freed once nothing can back-propagate through it any more: made without
    // a graph, or its graph released by backward. A graph still pending (two forwards before one
    // backward) keeps it.
    if (previous.node === null || previous.node.released === true) previous.dispose();
  });
  return layer;
}
