/**
 * How long each measurement may take. Full runs aim for stable medians; --quick keeps the
 * whole run under two minutes. The watchdog is the parent's hard limit per workload: a step
 * slower than that (tfjs-cpu on the ResNet takes minutes) gets the library process killed and
 * the workload reported as too slow to measure, instead of stalling the run.
 */
import type { Budget } from './timing.js';
import type { Workload } from './spec.js';

/**
 * A software GPU adapter (llvmpipe, SwiftShader) gets a few steps in every run: its figures mean
 * nothing for speed, so one warm-up and two repeats of two (enough for the loss check's trend)
 * are all it is worth, within at most 4 s (less where the workload's own budget is less), and a
 * full run must not wait minutes on it.
 */
export const SOFTWARE_BUDGET: Readonly<Budget> = { warmupSteps: 1, stepsPerRepeat: 2, repeats: 2, budgetMs: 4000 };

export function budgetFor(w: Workload, quick: boolean, software = false): Budget {
  if (software) return { ...SOFTWARE_BUDGET, budgetMs: Math.min(SOFTWARE_BUDGET.budgetMs, budgetFor(w, quick).budgetMs) };
  if (w.startsWith('sgemm')) {
    const steps: Record<string, number> = { 'sgemm-256': 40, 'sgemm-512': 12, 'sgemm-1024': 4, 'sgemm-128x784x256': 30 };
    return quick
      ? { warmupSteps: 3, stepsPerRepeat: Math.max(1, steps[w] >> 2), repeats: 3, budgetMs: 800 }
      : { warmupSteps: 5, stepsPerRepeat: steps[w], repeats: 7, budgetMs: 8000 };
  }
  // Training: a repeat of the MLP is one epoch (8,192 samples = 64 steps) as the issue defines it.
  const steps: Record<string, number> = { 'mlp-train': 64, 'cnn-train': 16, 'resnet-train': 8 };
  return quick
    ? { warmupSteps: 2, stepsPerRepeat: Math.max(2, steps[w] >> 3), repeats: 3, budgetMs: 2000 }
    : { warmupSteps: 3, stepsPerRepeat: steps[w], repeats: 5, budgetMs: 25000 };
}

/** Milliseconds the parent waits for one workload (building it included) before killing the library process. */
export function watchdogMs(w: Workload, quick: boolean): number {
  return budgetFor(w, quick).budgetMs + (quick ? 6000 : 150000);
}

/**
 * --quick runs the cheap workloads first, so a slow library spends its share on figures it can
 * deliver (its MLP) before reaching the ones it likely cannot (a 1024³ product, the ResNet).
 */
const QUICK_ORDER: readonly Workload[] = ['sgemm-256', 'sgemm-128x784x256', 'mlp-train', 'sgemm-512', 'cnn-train', 'sgemm-1024', 'resnet-train'];

export function runOrder(workloads: readonly Workload[], quick: boolean): Workload[] {
  return quick ? QUICK_ORDER.filter((w) => workloads.includes(w)) : [...workloads];
}
