import { allocArray, dtypeOfArray, type DataArray, type FloatDType } from '../core/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { readSync } from '../tensor/host.js';
import { allocSlot } from './slots.js';

/**
 * One update buffer per parameter, in parameter order. `null` means "this parameter takes no
 * part in this step" (no gradient, or frozen); every transform leaves null entries alone and
 * does not advance their state, as PyTorch skips parameters whose grad is None.
 */
export type Updates = (Float32Array | Float64Array | null)[];

/**
 * Optimizer state: plain objects, arrays, numbers, booleans, slot tensors (m, v, momentum
 * buffers: device buffers the step kernels update in place) and typed arrays. A state dict
 * (Optimizer.stateDict) holds host copies of the slots as typed arrays, so it is
 * JSON-serializable apart from those (which checkpoint writers store raw).
 */
export type StateTree = number | boolean | string | null | Float32Array | Float64Array | Tensor | StateTree[] | { [key: string]: StateTree };

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

/**
 * A slot tensor per parameter (the optimizer's m, v, momentum buffers...): the parameter's
 * shape and float dtype, every element `value`. Kept (scope.ts): slots live across steps, and
 * the Trainer runs each step in a scope. Host-built so that CPU backends adopt the staggered
 * allocation (slots.ts); other backends copy it once.
 */
export function zerosLikeParams(params: readonly Tensor[], value = 0): Tensor[] {
  return params.map((p) => {
    const a = allocSlot(p.dtype as FloatDType, p.size);
    if (value !== 0) a.fill(value);
    return keep(Tensor.fromArray(a, p.shape).persist());
  });
}

/**
 * Runs a host update loop (math.ts) on slot tensors: copies their values to the host, runs
 * `fn` on the copies and writes them back. The composed transforms work this way; the named
 * optimizers' fused steps (fusion.ts) run on the device instead.
 */
export function onHost(slots: readonly (Tensor | null)[], fn: (arrays: (Float32Array | Float64Array | null)[]) => void): void {
  const arrays = slots.map((t) => (t === null ? null : hostCopy(t)));
  fn(arrays);
  slots.forEach((t, i) => {
    if (t !== null) t.assign(arrays[i]!);
  });
}

// One host array per tensor that the composed path copies through, reused every step: a fresh
// array per step would cost an allocation and a collection per slot.
const hostArrays = new WeakMap<Tensor, DataArray>();

/** t's values in a host array of its dtype that this module reuses for t (valid until the next call for t). */
function hostCopy(t: Tensor): Float32Array | Float64Array {
  let a = hostArrays.get(t);
  if (a === undefined || a.length !== t.size || dtypeOfArray(a) !== t.dtype) {
    a = allocArray(t.dtype, t.size);
    hostArrays.set(t, a);
  }
  a.set(readSync(t));
  return a as Float32Array | Float64Array;
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
    u.set(readSync(p.grad));
    return u;
  });
}

/** p += u for every parameter that has an update (the optax `apply_updates`). */
export function applyUpdates(params: readonly Tensor[], updates: Updates): void {
  params.forEach((p, i) => {
    const u = updates[i];
    if (u === null) return;
    // Summed in a host array of p's dtype: the rounding of `w[j] += u[j]` on p's own buffer.
    const w = hostCopy(p);
    for (let j = 0; j < u.length; j++) w[j] += u[j];
    p.assign(w);
  });
}
