import * as g from '../../src/index.js';
import { reachableTensors } from '../../src/tensor/reachable.js';
import { withHostCopies } from '../../src/tensor/host.js';
import { FLOAT } from '../helpers.js';

/**
 * A leaf that requires grad, in the run's float (FLOAT): float64 on CPU backends, where the
 * optimizer tests work in float64 for exact arithmetic; float32 on webgpu, which has no float64.
 */
export function param(values: number[], opts: { tags?: string[]; name?: string } = {}): g.Parameter {
  return new g.Parameter(g.tensor(values, { dtype: FLOAT }), { tags: opts.tags, name: opts.name });
}

/** Sets p.grad to the given values (as a loss's backward would). */
export function setGrad(p: g.Tensor, values: number[]): void {
  p.grad = g.tensor(values, { dtype: p.dtype });
}

/** Values of a tensor as a plain array, on any backend. */
export async function vals(t: g.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** `x` as the run's float stores it: itself in float64, rounded to float32 on webgpu (for exact comparisons of stored values). */
export function stored(x: number): number {
  return FLOAT === 'float32' ? Math.fround(x) : x;
}

/** True on backends that read synchronously (every CPU backend); false on webgpu. */
export const SYNC_READS = g.getBackend().syncReads !== false;

/**
 * Why a case is skipped on webgpu: the optimizers without a fused device step (a custom
 * chain of transforms, any optimizer while an optim kernel is registered or fusion is off) run
 * the composed path, which copies gradients and slots to the host and back with synchronous
 * reads (src/optim/transform.ts: gradsToUpdates, onHost, applyUpdates). That is a limitation of
 * src/optim, not a missing webgpu kernel: `optimizer.step()` throws there on webgpu.
 */
export const COMPOSED_PATH = 'the composed optimizer path (custom chains, registered optim kernels) reads on the host synchronously (src/optim/transform.ts), which webgpu cannot';

/** `test(name, NEEDS_COMPOSED_PATH, fn)`: skipped on webgpu, saying why (COMPOSED_PATH). */
export const NEEDS_COMPOSED_PATH: { skip: string | false } = { skip: SYNC_READS ? false : COMPOSED_PATH };

/**
 * `obj.stateDict()` on any backend: on webgpu the slot tensors it reaches are downloaded first
 * (one round-trip) and the synchronous stateDict runs over the copies, as the Trainer writes
 * checkpoints (src/train/trainer.ts, withHostCopies). On CPU backends it is a plain call.
 */
export async function stateDictOf<T>(obj: { stateDict(): T }): Promise<T> {
  if (SYNC_READS) return obj.stateDict();
  return withHostCopies(reachableTensors([obj]), () => obj.stateDict());
}

/** The EMA's averages on any backend: averages() where reads are synchronous (the API under test there), averagesAsync() on webgpu. */
export async function averagesOf(ema: g.optim.EMA): Promise<(Float32Array | Float64Array)[]> {
  return SYNC_READS ? ema.averages() : ema.averagesAsync();
}

/** clipGradNorm where reads are synchronous (the API under test there), clipGradNormAsync on webgpu; the gradients are clipped when either returns. */
export function clipNorm(params: Iterable<g.Tensor>, maxNorm: number, opts?: g.optim.ClipNormOptions): number | Promise<number> {
  return SYNC_READS ? g.optim.clipGradNorm(params, maxNorm, opts) : g.optim.clipGradNormAsync(params, maxNorm, opts);
}
