import { GradkitError } from '../core/errors.js';
import { noGrad } from '../autograd/engine.js';
import { abs, add, div, lt, maximum, minimum, mul, sqrt, square, where } from '../ops/elementwise.js';
import { max, sum } from '../ops/reduce.js';
import { stack } from '../ops/shape.js';
import { castTo, wideFloat } from '../ops/util.js';
import { canReadSync, readNow, readSync } from '../tensor/host.js';
import { allOf, andThen, isPromise, type Awaitable } from '../core/awaitable.js';
import { keep, scope } from '../tensor/lifetime.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkNumber } from './validate.js';

/** Parameters that have a gradient to clip. */
function withGrads(op: string, params: Iterable<Tensor>): Tensor[] {
  const out: Tensor[] = [];
  for (const p of params) {
    if (p === null || typeof p !== 'object' || !('grad' in p)) throw new GradkitError(op, `expected tensors, got ${p === null ? 'null' : typeof p}`);
    if (p.grad !== null) out.push(p);
  }
  return out;
}

/** Options of `clipGradNorm`: which norm to measure and whether a NaN/Inf norm is an error. */
export interface ClipNormOptions {
  /** 2 (default) for the L2 norm of all gradients together, or Infinity for the max |g|. */
  normType?: 2 | typeof Infinity;
  /** Throw when the norm is NaN/Inf instead of scaling by it (default true: a NaN scale would silently poison every weight). */
  errorIfNonfinite?: boolean;
}

// The norms are taken in float64 on the device (squares of float32 values are exact there, and
// the sums accumulate in double), so the norm read back is the one the host loops computed. A
// backend without float64 (a GPU) takes them in float32.
const sumSquares = (g: Tensor): Tensor => sum(square(castTo(g, wideFloat(g))));
const maxAbs = (g: Tensor): Tensor => max(abs(castTo(g, wideFloat(g))));

/**
 * Rescales the gradients of `params` (replacing each `.grad`) so their global norm is at most maxNorm (by
 * maxNorm / (norm + 1e-6) when over, as PyTorch's clip_grad_norm_). Returns the norm before
 * clipping, which is worth logging. Parameters without a gradient are skipped. The norm and the
 * scale are computed on the device; the norm is read back once. Reads synchronously: on a
 * backend that reads asynchronously (a GPU) use `clipGradNormAsync`.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, opts: ClipNormOptions = {}): number {
  const r = clipGradNormSoon(params, maxNorm, opts);
  if (isPromise(r)) {
    r.catch(() => undefined);
    throw new GradkitError('clipGradNorm', 'the gradients are on a backend that reads asynchronously; use await clipGradNormAsync(params, maxNorm)');
  }
  return r;
}

/** `clipGradNorm` on any backend (GPU included): the gradients are clipped when it returns; the norm is awaited. */
export async function clipGradNormAsync(params: Iterable<Tensor>, maxNorm: number, opts: ClipNormOptions = {}): Promise<number> {
  return clipGradNormSoon(params, maxNorm, opts);
}

/**
 * Replaces each gradient by gradient·coef (coef a number, or a 0-d tensor on the device). Replace
 * rather than mutate .grad: the gradient tensor may be shared with user code. The product is
 * taken in the wide dtype and rounded once to the gradient's dtype, as scaling a float32 array
 * by a double does. Gradients outlive the step's scope: keep them.
 */
function scaleGrads(ps: readonly Tensor[], coef: number | Tensor): void {
  for (const p of ps) {
    const gr = p.grad!;
    p.grad = keep(castTo(mul(castTo(gr, wideFloat(gr)), coef), gr.dtype));
  }
}

/**
 * clipGradNorm, reading the norm synchronously where the backend can and returning a promise
 * where it cannot (the GradClip callback's hook, awaited by the Trainer before the step). The
 * gradients are scaled by maxNorm / (norm + 1e-6) when that is below 1 (a NaN norm scales
 * nothing) before this returns: on a CPU from the norm read at once, on a GPU by a coefficient
 * computed on the device. The error for a non-finite norm is thrown once the norm is read (on a
 * CPU before any scaling, as before).
 */
export function clipGradNormSoon(params: Iterable<Tensor>, maxNorm: number, opts: ClipNormOptions = {}): Awaitable<number> {
  checkNumber('clipGradNorm', 'maxNorm', maxNorm, { min: 0 });
  const normType = opts.normType ?? 2;
  if (normType !== 2 && normType !== Infinity) throw new GradkitError('clipGradNorm', `normType must be 2 or Infinity, got ${String(normType)}`);
  const ps = withGrads('clipGradNorm', params);
  const errorIfNonfinite = opts.errorIfNonfinite ?? true;
  // Empty gradients add nothing to either norm (and have no max).
  const grads = ps.map((p) => p.grad!).filter((gr) => gr.size > 0);
  if (grads.length === 0) return 0;
  const failIfNonfinite = (norm: number): Awaitable<void> => {
    if (Number.isFinite(norm) || !errorIfNonfinite) return;
    // The error path only: the first parameter whose gradient holds NaN/Inf.
    return andThen(allOf(ps.map((p) => readNow(noGrad(() => sumSquares(p.grad!))))), (sq) => {
      const bad = sq.findIndex((q) => !Number.isFinite(q[0]));
      const p = ps[bad];
      throw new GradkitError('clipGradNorm', `the total gradient norm is ${norm}: the gradient of parameter ${bad}${p?.name ? ` (${p.name})` : ''} holds NaN or Inf`);
    });
  };
  const read = noGrad(() => scope(() => {
    const norm = normType === 2 ? sqrt(grads.map(sumSquares).reduce((a, b) => add(a, b))) : max(stack(grads.map(maxAbs)));
    if (canReadSync(norm)) {
      // The norm on the host (sqrt and the division in double, as the host loops did); the
      // gradients are replaced only when they are really scaled.
      const value = readSync(norm)[0];
      failIfNonfinite(value);
      const coef = maxNorm / (value + 1e-6);
      if (coef < 1) scaleGrads(ps, coef);
      return { norm: value };
    }
    // On the device: the same coefficient, min(1, ratio), with a NaN ratio scaling nothing.
    const ratio = div(maxNorm, add(norm, 1e-6));
    scaleGrads(ps, where(lt(ratio, 1), ratio, 1));
    return { norm: andThen(readNow(norm), (v) => v[0]) }; // a promise (wrapped: scopes refuse promises)
  }));
  // On a CPU the norm was checked above; on a GPU it is checked once it arrives.
  const norm = read.norm;
  return isPromise(norm) ? norm.then((n) => andThen(failIfNonfinite(n), () => n)) : norm;
}

/** Clamps every gradient element of `params` to [−clipValue, clipValue] (replacing each `.grad`). */
export function clipGradValue(params: Iterable<Tensor>, clipValue: number): void {
  checkNumber('clipGradValue', 'clipValue', clipValue, { min: 0 });
  noGrad(() => scope(() => {
    for (const p of withGrads('clipGradValue', params)) {
      // NaN stays NaN (both kernels propagate it), as the host clamp left it.
      p.grad = keep(minimum(maximum(p.grad!, -clipValue), clipValue));
    }
  }));
}
