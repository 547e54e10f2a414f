import { GradkitError } from '../core/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { clipValueStep, maxAbs, scaleStep, sumSquares } from './math.js';
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

/**
 * Rescales the gradients of `params` (replacing each `.grad`) so their global norm is at most maxNorm (by
 * maxNorm / (norm + 1e-6) when over, as PyTorch's clip_grad_norm_). Returns the norm before
 * clipping, which is worth logging. Parameters without a gradient are skipped.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, opts: ClipNormOptions = {}): number {
  checkNumber('clipGradNorm', 'maxNorm', maxNorm, { min: 0 });
  const normType = opts.normType ?? 2;
  if (normType !== 2 && normType !== Infinity) throw new GradkitError('clipGradNorm', `normType must be 2 or Infinity, got ${String(normType)}`);
  const ps = withGrads('clipGradNorm', params);
  let norm = 0;
  for (const p of ps) {
    const gb = p.grad!.buffer;
    norm = normType === 2 ? norm + sumSquares(gb) : Math.max(norm, maxAbs(gb));
  }
  if (normType === 2) norm = Math.sqrt(norm);
  if (!Number.isFinite(norm) && (opts.errorIfNonfinite ?? true)) {
    const bad = ps.findIndex((p) => !Number.isFinite(sumSquares(p.grad!.buffer)));
    const p = ps[bad];
    throw new GradkitError('clipGradNorm', `the total gradient norm is ${norm}: the gradient of parameter ${bad}${p?.name ? ` (${p.name})` : ''} holds NaN or Inf`);
  }
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    // Replace rather than mutate .grad: the gradient tensor may be shared with user code.
    for (const p of ps) {
      const gb = p.grad!.buffer.slice() as Float32Array | Float64Array;
      scaleStep(gb, coef);
      p.grad = new Tensor(gb, p.grad!.shape);
    }
  }
  return norm;
}

/** Clamps every gradient element of `params` to [−clipValue, clipValue] (replacing each `.grad`). */
export function clipGradValue(params: Iterable<Tensor>, clipValue: number): void {
  checkNumber('clipGradValue', 'clipValue', clipValue, { min: 0 });
  for (const p of withGrads('clipGradValue', params)) {
    const gb = p.grad!.buffer.slice() as Float32Array | Float64Array;
    clipValueStep(gb, clipValue);
    p.grad = new Tensor(gb, p.grad!.shape);
  }
}
