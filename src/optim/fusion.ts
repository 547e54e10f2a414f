import type { Tensor } from '../tensor/tensor.js';
import { castTo } from '../ops/util.js';
import { stepKernelsAreReference, type OptimKernels } from './kernels.js';
import type { GradientTransform, StateTree } from './transform.js';
import { nextLr } from './transforms.js';

/**
 * The named optimizers' one-pass steps (issue 3): [addL2ToGradient] → scaleByAdam →
 * [addDecayedWeights] → scaleByLearningRate, [addL2ToGradient] → [trace] →
 * scaleByLearningRate, addL2ToGradient → scaleByRms → scaleByLearningRate, and
 * addL2ToGradient → scaleByAdagrad → scaleByLearningRate. Each optimizer
 * builds its chain of transforms (the definition, and the state layout) and attaches the fused
 * step with withFusedStep, naming where each link sits. The step is one backend kernel per
 * parameter (Kernels.adamUpdate, sgdUpdate, rmspropUpdate, adagradUpdate) on the parameter, its gradient and
 * the chain's slot tensors, in place on the device: nothing is read on the host. Results are
 * bit-identical to the chain (see src/backends/reference/optim.ts). chain() itself never fuses.
 */

/** Where each link of a standard recipe sits in its chain, and what it computes. */
export interface FusedRecipe {
  /** Coupled decay added to the gradient (addL2ToGradient). */
  l2?: { at: number; weightDecay: number; mask: (param: Tensor, index: number) => boolean };
  /** The preconditioner, if any. */
  core?: { at: number; kind: 'adam'; b1: number; b2: number; eps: number; amsgrad: boolean }
    | { at: number; kind: 'trace'; momentum: number; dampening: number; nesterov: boolean }
    | { at: number; kind: 'rms'; alpha: number; eps: number; momentum: number }
    | { at: number; kind: 'adagrad'; eps: number; lrDecay: number };
  /** Decoupled decay after Adam (addDecayedWeights). */
  decoupled?: { at: number; weightDecay: number; mask: (param: Tensor, index: number) => boolean };
  /** The scaleByLearningRate link: its position and the live learning rate it reads. */
  lr: { at: number; value: () => number };
}

type FusedStep = (params: readonly Tensor[], state: StateTree[], apply: boolean) => boolean;
type Slots = Tensor[];

// A switch for the micro-benchmark and the fused-vs-composed tests; not part of the public API.
let enabled = true;
/** Turns the fused fast path on or off; returns the previous setting. */
export function setFusedSteps(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

type Decay = NonNullable<FusedRecipe['l2']>;

function decayFor(link: Decay | undefined, p: Tensor, i: number): number {
  return link !== undefined && link.weightDecay !== 0 && link.mask(p, i) ? link.weightDecay : 0;
}

/** `composed` (the recipe's chain) with the recipe's one-pass step attached. */
export function withFusedStep(composed: GradientTransform<StateTree[]>, recipe: FusedRecipe): GradientTransform<StateTree[]> {
  return { ...composed, fusedStep: fusedStepOf(recipe) };
}

function fusedStepOf(recipe: FusedRecipe): FusedStep {
  const { l2, core, decoupled, lr } = recipe;
  const coreAt = core?.at ?? -1;
  const coreKernel: keyof OptimKernels = core?.kind === 'adam' ? 'adamStep' : core?.kind === 'rms' ? 'rmsStep'
    : core?.kind === 'adagrad' ? 'adagradStep' : 'momentumStep';
  // The host loops this step stands in for: a user-registered one must run instead.
  const components: (keyof OptimKernels)[] = [coreKernel, 'decayStep', 'scaleStep'];

  return (params, state, apply) => {
    if (!enabled || !stepKernelsAreReference(components)) return false;
    const s = -nextLr(lr.value, state[lr.at] as { count: number });
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      if (!p.requiresGrad || p.grad === null) continue;
      const K = p.backend.kernels;
      // The kernels take one dtype per call: a gradient of another dtype is converted first,
      // as the chain's update buffer (the parameter's dtype) would convert it.
      const grad = castTo(p.grad, p.dtype);
      const w = p.handle;
      const g = grad.handle;
      const l2i = decayFor(l2, p, i);
      if (core?.kind === 'adam') {
        const st = state[coreAt] as { m: Slots; v: Slots; vMax: Slots | null; count: number[] };
        const t = ++st.count[i];
        const vMax = st.vMax === null ? null : st.vMax[i].handle;
        K.adamUpdate(w, g, st.m[i].handle, st.v[i].handle, vMax, core.b1, core.b2, core.eps, t, l2i, decayFor(decoupled, p, i), s, apply);
      } else if (core?.kind === 'trace') {
        const st = state[coreAt] as { buf: Slots; count: number[] };
        const first = st.count[i]++ === 0;
        K.sgdUpdate(w, g, st.buf[i].handle, first, core.momentum, core.dampening, core.nesterov, l2i, s, apply);
      } else if (core?.kind === 'rms') {
        // The state is scaleByRms's own (sq, gAvg when centered, buf when momentum > 0).
        const st = state[coreAt] as { sq: Slots; gAvg: Slots | null; buf: Slots | null };
        const gAvg = st.gAvg === null ? null : st.gAvg[i].handle;
        const buf = st.buf === null ? null : st.buf[i].handle;
        K.rmspropUpdate(w, g, st.sq[i].handle, gAvg, buf, core.alpha, core.eps, core.momentum, l2i, s, apply);
      } else if (core?.kind === 'adagrad') {
        // scaleByAdagrad's state (sum, count), advanced as its update does: the count first,
        // then factor = 1/(1 + (t − 1)·lrDecay) with the same double arithmetic.
        const st = state[coreAt] as { sum: Slots; count: number[] };
        const t = ++st.count[i];
        K.adagradUpdate(w, g, st.sum[i].handle, core.eps, 1 / (1 + (t - 1) * core.lrDecay), l2i, s, apply);
      } else {
        K.sgdUpdate(w, g, null, false, 0, 0, false, l2i, s, apply);
      }
      if (grad !== p.grad) grad.dispose();
    }
    return true;
  };
}
