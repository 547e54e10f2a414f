import { GradkitError } from '../core/errors.js';
import { adagradStep, adamStep, clipValueStep, decayStep, momentumStep, rmsStep, scaleStep } from './math.js';
import { adamFusedStep, rmsFusedStep, sgdFusedStep } from './fused-kernels.js';

/**
 * The per-parameter update loops the transforms call, gathered in one swappable table: a fast
 * backend (e.g. wasm SIMD) can replace any entry with a fused kernel of the same contract, and
 * the plain TypeScript loops in math.ts stay the reference it is tested against.
 */
export interface OptimKernels {
  momentumStep: typeof momentumStep;
  adamStep: typeof adamStep;
  rmsStep: typeof rmsStep;
  adagradStep: typeof adagradStep;
  decayStep: typeof decayStep;
  scaleStep: typeof scaleStep;
  clipValueStep: typeof clipValueStep;
  /** One-pass float32 Adam/AdamW + lr + apply (the standard recipe's fast path). */
  adamFusedStep: typeof adamFusedStep;
  /** One-pass float32 SGD (+ momentum) + lr + apply. */
  sgdFusedStep: typeof sgdFusedStep;
  /** One-pass float32 RMSprop (+ centered, momentum) + lr + apply. */
  rmsFusedStep: typeof rmsFusedStep;
}

/** The plain TypeScript fused optimizer kernels (the fallback when the wasm backend is not used). */
export const referenceOptimKernels: Readonly<OptimKernels> = Object.freeze({
  momentumStep, adamStep, rmsStep, adagradStep, decayStep, scaleStep, clipValueStep, adamFusedStep, sgdFusedStep, rmsFusedStep,
});

/** The table in use; transforms read it at every step. */
export const optimKernels: OptimKernels = { ...referenceOptimKernels };

// Kernels replaced through registerOptimKernels by something other than the reference. A fused
// fast path stands in for several step kernels at once, so it is only taken while none of the
// kernels it replaces has been swapped: a registered adamStep must really run.
const swapped = new Set<string>();

/** True when every named step kernel is the reference one (the fused path may replace them). */
export function stepKernelsAreReference(names: readonly (keyof OptimKernels)[]): boolean {
  for (const n of names) if (swapped.has(n)) return false;
  return true;
}

/**
 * Replaces some update kernels (pass `referenceOptimKernels` to restore). Returns the previous
 * table so a caller can put it back.
 */
export function registerOptimKernels(kernels: Partial<OptimKernels>): OptimKernels {
  const previous = { ...optimKernels };
  for (const [name, fn] of Object.entries(kernels)) {
    if (!(name in referenceOptimKernels)) throw new GradkitError('registerOptimKernels', `unknown kernel '${name}'; known: ${Object.keys(referenceOptimKernels).join(', ')}`);
    if (typeof fn !== 'function') throw new GradkitError('registerOptimKernels', `kernel '${name}' must be a function, got ${typeof fn}`);
    (optimKernels as unknown as Record<string, unknown>)[name] = fn;
    if (fn === (referenceOptimKernels as unknown as Record<string, unknown>)[name]) swapped.delete(name);
    else swapped.add(name);
  }
  return previous;
}
