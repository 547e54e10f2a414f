/**
 * Kernel-time breakdown for gradkit workloads (`--profile`): wraps the current backend's kernel
 * table with timers, so a missed target can be explained by where the step's time goes
 * (which kernel, at which shapes) and how much is spent outside kernels (autograd bookkeeping,
 * layer plumbing, allocation). The optimizer's update table (optim.optimKernels) can be wrapped
 * too, into the same stats. Bench-only: the library itself is untouched.
 */
import type { Conv2dParams, Kernels, MatmulParams } from '../src/index.js';
import type { optim } from '../src/index.js';

export interface KernelStat {
  key: string;
  calls: number;
  ms: number;
}

/** A short label for a call: the kernel plus the sizes that decide its cost. */
function label(name: string, a: unknown[]): string {
  switch (name) {
    case 'matmul': {
      const p = a[2] as MatmulParams;
      return `matmul ${p.batch > 1 ? `${p.batch}×` : ''}${p.m}×${p.k}×${p.n}${p.transA ? ' tA' : ''}${p.transB ? ' tB' : ''}`;
    }
    case 'conv2d': case 'conv2dBackwardInput': case 'conv2dBackwardFilter': {
      const p = a[2] as Conv2dParams;
      return `${name} n${p.n} ${p.cIn}→${p.cOut} ${p.h}×${p.w} k${p.kh}`;
    }
    case 'unary': return `unary ${String(a[0])}`;
    case 'binary': return `binary ${String(a[0])} [${String(a[2])}]·[${String(a[4])}]`;
    case 'reduce': return `reduce ${String(a[0])} [${String(a[2])}] axes ${String(a[3])}`;
    default: return name;
  }
}

/**
 * Replaces every kernel with a timed wrapper; returns the stats table (live) and an undo.
 * Pass `stats` to add a second table's kernels (e.g. optim.optimKernels, labelled `prefix`name).
 */
export function profileKernels(
  kernels: Kernels | optim.OptimKernels, stats = new Map<string, KernelStat>(), prefix = '',
): { stats: Map<string, KernelStat>; restore: () => void } {
  const table = kernels as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  for (const name of Object.keys(table)) {
    const fn = table[name];
    if (typeof fn !== 'function') continue;
    originals.set(name, fn);
    table[name] = function (this: unknown, ...args: unknown[]) {
      const t0 = performance.now();
      const r = fn.apply(this, args);
      const ms = performance.now() - t0;
      const key = prefix + label(name, args);
      const s = stats.get(key);
      if (s) {
        s.calls++;
        s.ms += ms;
      } else stats.set(key, { key, calls: 1, ms });
      return r;
    };
  }
  return { stats, restore: () => { for (const [name, fn] of originals) table[name] = fn; } };
}

/** The top entries by time, with their share of `totalMs`, and the remainder outside kernels. */
export function formatProfile(stats: Iterable<KernelStat>, totalMs: number, steps: number, top = 12): string {
  const all = [...stats].sort((a, b) => b.ms - a.ms);
  const inKernels = all.reduce((s, x) => s + x.ms, 0);
  const lines = all.slice(0, top).map((s) =>
    `    ${((100 * s.ms) / totalMs).toFixed(1).padStart(5)}%  ${(s.ms / steps).toFixed(2).padStart(8)} ms/step  ${String(Math.round(s.calls / steps)).padStart(4)} calls/step  ${s.key}`);
  const rest = all.slice(top).reduce((s, x) => s + x.ms, 0);
  if (rest > 0) lines.push(`    ${((100 * rest) / totalMs).toFixed(1).padStart(5)}%  ${(rest / steps).toFixed(2).padStart(8)} ms/step  (${all.length - top} other kernel shapes)`);
  lines.push(`    ${((100 * (totalMs - inKernels)) / totalMs).toFixed(1).padStart(5)}%  ${((totalMs - inKernels) / steps).toFixed(2).padStart(8)} ms/step  outside kernels (autograd, layers, optimizer bookkeeping, allocation, GC)`);
  return lines.join('\n');
}
