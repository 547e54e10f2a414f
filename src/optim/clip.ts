import { GradkitError } from '../core/errors.js';
import { noGrad } from '../autograd/engine.js';
import { abs, add, maximum, minimum, mul, square } from '../ops/elementwise.js';
import { max, sum } from '../ops/reduce.js';
import { stack } from '../ops/shape.js';
import { castTo } from '../ops/util.js';
import { item } from '../tensor/host.js';
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
// the sums accumulate in double), so the norm read back is the one the host loops computed.
const sumSquares = (g: Tensor): Tensor => sum(square(castTo(g, 'float64')));
const maxAbs = (g: Tensor): Tensor => max(abs(castTo(g, 'float64')));

/**
 * Rescales the gradients of `params` (replacing each `.grad`) so their global norm is at most maxNorm (by
 * maxNorm / (norm + 1e-6) when over, as PyTorch's clip_grad_norm_). Returns the norm before
 * clipping, which is worth logging. Parameters without a gradient are skipped. The norm is
 * computed on the device and read back once (the return value needs it on the host).
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, opts: ClipNormOptions = {}): number {
  checkNumber('clipGradNorm', 'maxNorm', maxNorm, { min: 0 });
  const normType = opts.normType ?? 2;
  if (normType !== 2 && normType !== Infinity) throw new GradkitError('clipGradNorm', `normType must be 2 or Infinity, got ${String(normType)}`);
  const ps = withGrads('clipGradNorm', params);
  return noGrad(() => scope(() => {
    // Empty gradients add nothing to either norm (and have no max).
    const grads = ps.map((p) => p.grad!).filter((gr) => gr.size > 0);
    let norm = 0;
    if (grads.length > 0) {
      norm = normType === 2
        ? Math.sqrt(item(grads.map(sumSquares).reduce((a, b) => add(a, b))))
        : item(max(stack(grads.map(maxAbs))));
    }
    if (!Number.isFinite(norm) && (opts.errorIfNonfinite ?? true)) {
      // The error path only: one read per parameter to name the culprit.
      const bad = ps.findIndex((p) => !Number.isFinite(item(sumSquares(p.grad!))));
      const p = ps[bad];
      throw new GradkitError('clipGradNorm', `the total gradient norm is ${norm}: the gradient of parameter ${bad}${p?.name ? ` (${p.name})` : ''} holds NaN or Inf`);
    }
    const coef = maxNorm / (norm + 1e-6);
    if (coef < 1) {
      // Replace rather than mutate .grad: the gradient tensor may be shared with user code. The
      // product is taken in float64 and rounded once to the gradient's dtype, as scaling a
      // float32 array by a double does. Gradients outlive the step's scope: keep them.
      for (const p of ps) {
        const gr = p.grad!;
        p.grad = keep(castTo(mul(castTo(gr, 'float64'), coef), gr.dtype));
      }
    }
    return norm;
  }));
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
