import { GradkitError } from '../core/errors.js';
import { adagradStep, adamStep, clipValueStep, decayStep, momentumStep, rmsStep, scaleStep } from './math.js';

/**
 * The host update loops the composed transforms (transforms.ts) call, gathered in one swappable
 * table (profiling, experiments): the plain TypeScript loops of math.ts. The named optimizers'
 * one-pass steps are backend kernels instead (Kernels.adamUpdate, sgdUpdate, rmspropUpdate,
 * adagradUpdate), and fusion.ts takes them only while the entries they stand in for are these
 * references.
 */
export interface OptimKernels {
  momentumStep: typeof momentumStep;
  adamStep: typeof adamStep;
  rmsStep: typeof rmsStep;
  adagradStep: typeof adagradStep;
  decayStep: typeof decayStep;
  scaleStep: typeof scaleStep;
  clipValueStep: typeof clipValueStep;
}

/** The plain TypeScript update loops. */
export const referenceOptimKernels: Readonly<OptimKernels> = Object.freeze({
  momentumStep, adamStep, rmsStep, adagradStep, decayStep, scaleStep, clipValueStep,
});

/** The table in use; transforms read it at every step. */
export const optimKernels: OptimKernels = { ...referenceOptimKernels };

// Kernels replaced through registerOptimKernels by something other than the reference. A fused
// step (a backend kernel) stands in for several of these at once, so it is only taken while
// none of the kernels it replaces has been swapped: a registered adamStep must really run.
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
