import { allocArray, type DataArray, type FloatDType } from '../core/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../backend/registry.js';
import { optimKernels as K, stepKernelsAreReference, type OptimKernels } from './kernels.js';
import type { GradientTransform, StateTree } from './transform.js';
import { nextLr } from './transforms.js';

/**
 * The named optimizers' one-pass steps (issue 3): [addL2ToGradient] → scaleByAdam →
 * [addDecayedWeights] → scaleByLearningRate, [addL2ToGradient] → [trace] →
 * scaleByLearningRate, and addL2ToGradient → scaleByRms → scaleByLearningRate. Each optimizer builds its chain of transforms (the definition, and the
 * state layout) and attaches the fused step with withFusedStep, naming where each link sits;
 * this only removes the intermediate update buffer and the separate lr and apply passes, with
 * bit-identical results (see fused-kernels.ts). chain() itself never fuses.
 */

/** Where each link of a standard recipe sits in its chain, and what it computes. */
export interface FusedRecipe {
  /** Coupled decay added to the gradient (addL2ToGradient). */
  l2?: { at: number; weightDecay: number; mask: (param: Tensor, index: number) => boolean };
  /** The preconditioner, if any. */
  core?: { at: number; kind: 'adam'; b1: number; b2: number; eps: number; amsgrad: boolean }
    | { at: number; kind: 'trace'; momentum: number; dampening: number; nesterov: boolean }
    | { at: number; kind: 'rms'; alpha: number; eps: number; momentum: number };
  /** Decoupled decay after Adam (addDecayedWeights). */
  decoupled?: { at: number; weightDecay: number; mask: (param: Tensor, index: number) => boolean };
  /** The scaleByLearningRate link: its position and the live learning rate it reads. */
  lr: { at: number; value: () => number };
}

type FusedStep = (params: readonly Tensor[], state: StateTree[], apply: boolean) => boolean;
type Buf = Float32Array | Float64Array;
type Slots = Buf[];

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
  const coreKernel: keyof OptimKernels = core?.kind === 'adam' ? 'adamStep' : core?.kind === 'rms' ? 'rmsStep' : 'momentumStep';
  const components: (keyof OptimKernels)[] = [coreKernel, 'decayStep', 'scaleStep'];
  // Update buffers for parameters the float32 kernels do not take (float64, mixed dtypes).
  const scratch: (Buf | undefined)[] = [];

  return (params, state, apply) => {
    if (!enabled || !stepKernelsAreReference(components)) return false;
    const s = -nextLr(lr.value, state[lr.at] as { count: number });
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      if (!p.requiresGrad || p.grad === null) continue;
      const w = p.buffer;
      const g = p.grad.buffer;
      const l2i = decayFor(l2, p, i);
      const fast = w instanceof Float32Array && g instanceof Float32Array;
      // The slow path is the composed chain for this one parameter, kernel by kernel.
      let u: Buf | undefined;
      if (!fast) {
        u = scratch[i];
        if (u === undefined || u.length !== p.size) scratch[i] = u = allocArray(p.dtype as FloatDType, p.size) as Buf;
        u.set(g as ArrayLike<number>);
        if (l2i !== 0) K.decayStep(u, w, l2i);
      }
      if (core?.kind === 'adam') {
        const st = state[coreAt] as { m: Slots; v: Slots; vMax: Slots | null; count: number[] };
        const t = ++st.count[i];
        const vMax = st.vMax === null ? null : st.vMax[i];
        const dec = decayFor(decoupled, p, i);
        if (fast) {
          // The backend's kernel (e.g. wasm SIMD on threads) unless the user registered their own.
          const backendAdam = stepKernelsAreReference(['adamFusedStep']) ? getBackend().kernels.adamFusedStep : undefined;
          if (backendAdam?.(w, g, st.m[i] as Float32Array, st.v[i] as Float32Array, vMax as Float32Array | null, core.b1, core.b2, core.eps, t, l2i, dec, s, apply)) continue;
          K.adamFusedStep(w, g, st.m[i] as Float32Array, st.v[i] as Float32Array, vMax as Float32Array | null, core.b1, core.b2, core.eps, t, l2i, dec, s, apply);
          continue;
        }
        K.adamStep(u!, st.m[i], st.v[i], vMax, core.b1, core.b2, core.eps, t);
        if (dec !== 0) K.decayStep(u!, w, dec);
      } else if (core?.kind === 'trace') {
        const st = state[coreAt] as { buf: Slots; count: number[] };
        const first = st.count[i]++ === 0;
        if (fast) {
          K.sgdFusedStep(w, g, st.buf[i] as Float32Array, first, core.momentum, core.dampening, core.nesterov, l2i, s, apply);
          continue;
        }
        K.momentumStep(u!, st.buf[i], first, core.momentum, core.dampening, core.nesterov);
      } else if (core?.kind === 'rms') {
        // The state is scaleByRms's own (sq, gAvg when centered, buf when momentum > 0).
        const st = state[coreAt] as { sq: Slots; gAvg: Slots | null; buf: Slots | null };
        const gAvg = st.gAvg === null ? null : st.gAvg[i];
        const buf = st.buf === null ? null : st.buf[i];
        if (fast) {
          const backendRms = stepKernelsAreReference(['rmsFusedStep']) ? getBackend().kernels.rmsFusedStep : undefined;
          if (backendRms?.(w, g, st.sq[i] as Float32Array, gAvg as Float32Array | null, buf as Float32Array | null, core.alpha, core.eps, core.momentum, l2i, s, apply)) continue;
          K.rmsFusedStep(w, g, st.sq[i] as Float32Array, gAvg as Float32Array | null, buf as Float32Array | null, core.alpha, core.eps, core.momentum, l2i, s, apply);
          continue;
        }
        K.rmsStep(u!, st.sq[i], gAvg, buf, core.alpha, core.eps, core.momentum);
      } else if (fast) {
        K.sgdFusedStep(w, g, null, false, 0, 0, false, l2i, s, apply);
        continue;
      }
      K.scaleStep(u!, s);
      if (apply) addInto(w, u!);
    }
    return true;
  };
}

function addInto(w: DataArray, u: Buf): void {
  for (let j = 0; j < u.length; j++) w[j] += u[j];
}
