import { allocArray, type DataArray, type FloatDType } from '../core/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { allocSlot } from './slots.js';

/**
 * One update buffer per parameter, in parameter order. `null` means "this parameter takes no
 * part in this step" (no gradient, or frozen); every transform leaves null entries alone and
 * does not advance their state, as PyTorch skips parameters whose grad is None.
 */
export type Updates = (Float32Array | Float64Array | null)[];

/**
 * Optimizer state: plain objects, arrays, numbers, booleans and typed arrays only, so a state
 * dict is JSON-serializable apart from the typed arrays (which checkpoint writers store raw).
 */
export type StateTree = number | boolean | string | null | Float32Array | Float64Array | StateTree[] | { [key: string]: StateTree };

/**
 * A gradient transformation in the optax sense: `init` builds its state for a list of
 * parameters; `update` rewrites the update buffers in place (gradients in, steps out) and
 * advances its own state in place. Transforms compose with `chain`; an optimizer is a chain
 * whose last link (scaleByLearningRate) turns the result into the step added to the weights.
 */
export interface GradientTransform<S extends StateTree = StateTree> {
  readonly name: string;
  init(params: readonly Tensor[]): S;
  update(updates: Updates, state: S, params: readonly Tensor[]): void;
  /**
   * A one-pass fast path: grads → update → weights (added only when `apply`), with the same
   * results and state changes as update() followed by applyUpdates(). The named optimizers set
   * it (fusion.ts: withFusedStep) on their recipe's chain; Optimizer.step takes it when present.
   * Returns false, having changed nothing, when it cannot run (e.g. a step kernel was swapped);
   * the caller then takes the composed path.
   */
  fusedStep?(params: readonly Tensor[], state: S, apply: boolean): boolean;
}

/**
 * Runs transforms one after another; the state is the list of their states. Plain composition:
 * a chain never swaps in a fused kernel (the named optimizers add theirs explicitly).
 */
export function chain(...transforms: GradientTransform<any>[]): GradientTransform<StateTree[]> {
  return {
    name: `chain(${transforms.map((t) => t.name).join(', ')})`,
    init: (params) => transforms.map((t) => t.init(params)),
    update: (updates, state, params) => {
      transforms.forEach((t, i) => t.update(updates, state[i], params));
    },
  };
}

/** A zeroed buffer per parameter, in the parameter's float dtype (the optimizer's slots). */
export function zerosLikeParams(params: readonly Tensor[]): (Float32Array | Float64Array)[] {
  return params.map((p) => allocSlot(p.dtype as FloatDType, p.size));
}

/**
 * The update buffers for a step: a copy of each gradient, or null where the parameter sits out.
 * Pass `scratch` (one slot per parameter) to reuse buffers across steps instead of allocating.
 */
export function gradsToUpdates(params: readonly Tensor[], scratch?: (Float32Array | Float64Array | undefined)[]): Updates {
  return params.map((p, i) => {
    if (!p.requiresGrad || p.grad === null) return null;
    let u = scratch?.[i];
    if (u === undefined || u.length !== p.size) {
      u = allocArray(p.dtype as FloatDType, p.size) as Float32Array | Float64Array;
      if (scratch !== undefined) scratch[i] = u;
    }
    u.set(p.grad.buffer as ArrayLike<number>);
    return u;
  });
}

/** p += u for every parameter that has an update (the optax `apply_updates`). */
export function applyUpdates(params: readonly Tensor[], updates: Updates): void {
  params.forEach((p, i) => {
    const u = updates[i];
    if (u === null) return;
    const w = p.buffer as DataArray;
    for (let j = 0; j < u.length; j++) w[j] += u[j];
  });
}
