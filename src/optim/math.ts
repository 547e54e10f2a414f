/**
 * The per-parameter update maths of the composed transforms, one small loop per transform, on
 * host arrays: `u` holds the incoming update and is overwritten with the outgoing one; slot
 * arrays (m, v, ...) are advanced in place. The named optimizers' one-pass steps are backend
 * kernels (src/backends/reference/optim.ts) that reproduce these loops bit for bit.
 */
type Buf = Float32Array | Float64Array;

/** Heavy-ball momentum as PyTorch's SGD: the first step seeds the buffer with the gradient. */
export function momentumStep(u: Buf, buf: Buf, first: boolean, momentum: number, dampening: number, nesterov: boolean): void {
  for (let i = 0; i < u.length; i++) {
    buf[i] = first ? u[i] : momentum * buf[i] + (1 - dampening) * u[i];
    u[i] = nesterov ? u[i] + momentum * buf[i] : buf[i];
  }
}

/** Adam at step t (1-based): bias-corrected first and second moments, optionally AMSGrad's running max. */
export function adamStep(u: Buf, m: Buf, v: Buf, vMax: Buf | null, b1: number, b2: number, eps: number, t: number): void {
  const bc1 = 1 - b1 ** t;
  const bc2Sqrt = Math.sqrt(1 - b2 ** t);
  for (let i = 0; i < u.length; i++) {
    const g = u[i];
    m[i] = b1 * m[i] + (1 - b1) * g;
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    let second = v[i];
    if (vMax !== null) {
      if (second > vMax[i]) vMax[i] = second;
      second = vMax[i];
    }
    u[i] = m[i] / bc1 / (Math.sqrt(second) / bc2Sqrt + eps);
  }
}

/**
 * RMSprop as PyTorch: a running mean of g² (minus the squared running mean of g when centered),
 * g divided by its root, then optional momentum on the result.
 */
export function rmsStep(u: Buf, sq: Buf, gAvg: Buf | null, buf: Buf | null, alpha: number, eps: number, momentum: number): void {
  for (let i = 0; i < u.length; i++) {
    const g = u[i];
    sq[i] = alpha * sq[i] + (1 - alpha) * g * g;
    let meanSq = sq[i];
    if (gAvg !== null) {
      gAvg[i] = alpha * gAvg[i] + (1 - alpha) * g;
      // E[g²] − E[g]² is >= 0 in exact arithmetic; round-off must not turn it into sqrt(−tiny) = NaN.
      meanSq = Math.max(0, meanSq - gAvg[i] * gAvg[i]);
    }
    const step = g / (Math.sqrt(meanSq) + eps);
    if (buf !== null) {
      buf[i] = momentum * buf[i] + step;
      u[i] = buf[i];
    } else {
      u[i] = step;
    }
  }
}

/** Adagrad: accumulate g², divide by its root; `factor` carries the lr-decay term. */
export function adagradStep(u: Buf, sum: Buf, eps: number, factor: number): void {
  for (let i = 0; i < u.length; i++) {
    const g = u[i];
    sum[i] += g * g;
    u[i] = (factor * g) / (Math.sqrt(sum[i]) + eps);
  }
}

/** u += λ·p: weight decay, coupled (before the preconditioner) or decoupled (after it). */
export function decayStep(u: Buf, p: ArrayLike<number>, lambda: number): void {
  for (let i = 0; i < u.length; i++) u[i] += lambda * p[i];
}

/** u *= s (the learning-rate step, with s = −lr). */
export function scaleStep(u: Buf, s: number): void {
  for (let i = 0; i < u.length; i++) u[i] *= s;
}

/** Elementwise clamp to [−c, c]. */
export function clipValueStep(u: Buf, c: number): void {
  for (let i = 0; i < u.length; i++) {
    if (u[i] > c) u[i] = c;
    else if (u[i] < -c) u[i] = -c;
  }
}

/** Σ u² (float64 accumulation, so large models do not lose the small terms). */
export function sumSquares(u: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i] * u[i];
  return s;
}

/** max |u| */
export function maxAbs(u: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < u.length; i++) {
    const a = Math.abs(u[i]);
    if (a > m || Number.isNaN(a)) m = a;
  }
  return m;
}
