/**
 * One-pass float32 update loops for the standard recipes: gradient in, weight out, slots
 * advanced, without materializing the update buffer. Each reproduces its composed chain
 * (addL2ToGradient → preconditioner → addDecayedWeights → scaleByLearningRate → applyUpdates)
 * bit for bit: every value the composed path stores in a Float32Array is rounded here with
 * Math.fround at the same point, and the float operations keep their order (no 1/bc1
 * reciprocal, no fused lr·bias factor), so the fast path is an optimization, never a change
 * of results. Locals and one loop over plain Float32Arrays is what V8 compiles best.
 */

const fround = Math.fround;

/**
 * Adam/AdamW step at t (1-based), for one float32 parameter `w` with gradient `g`.
 * `l2`: coupled decay added to the gradient (0 = none); `decay`: decoupled decay added to the
 * preconditioned update (0 = none); `s` = −lr; `apply` false advances the slots only (lr 0).
 */
export function adamFusedStep(
  w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, vMax: Float32Array | null,
  b1: number, b2: number, eps: number, t: number, l2: number, decay: number, s: number, apply: boolean,
): void {
  const bc1 = 1 - b1 ** t;
  const bc2Sqrt = Math.sqrt(1 - b2 ** t);
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    let gi = g[i];
    if (l2 !== 0) gi = fround(gi + l2 * wi);
    const mi = fround(b1 * m[i] + c1 * gi);
    m[i] = mi;
    let vi = fround(b2 * v[i] + c2 * gi * gi);
    v[i] = vi;
    if (vMax !== null) {
      if (vi > vMax[i]) vMax[i] = vi;
      else vi = vMax[i];
    }
    let ui = fround(mi / bc1 / (Math.sqrt(vi) / bc2Sqrt + eps));
    if (decay !== 0) ui = fround(ui + decay * wi);
    ui = fround(ui * s);
    if (apply) w[i] = wi + ui;
  }
}

/**
 * SGD step for one float32 parameter: coupled decay `l2`, then (when `buf` is given) PyTorch
 * momentum (buf seeded with the gradient on the parameter's first step), then w += s·update.
 */
export function sgdFusedStep(
  w: Float32Array, g: Float32Array, buf: Float32Array | null, first: boolean,
  momentum: number, dampening: number, nesterov: boolean, l2: number, s: number, apply: boolean,
): void {
  const n = w.length;
  if (buf === null) {
    for (let i = 0; i < n; i++) {
      const wi = w[i];
      let gi = g[i];
      if (l2 !== 0) gi = fround(gi + l2 * wi);
      const ui = fround(gi * s);
      if (apply) w[i] = wi + ui;
    }
    return;
  }
  const keep = 1 - dampening;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    let gi = g[i];
    if (l2 !== 0) gi = fround(gi + l2 * wi);
    const bi = first ? gi : fround(momentum * buf[i] + keep * gi);
    buf[i] = bi;
    let ui = nesterov ? fround(gi + momentum * bi) : bi;
    ui = fround(ui * s);
    if (apply) w[i] = wi + ui;
  }
}

/**
 * RMSprop step (PyTorch semantics) for one float32 parameter: coupled decay `l2`, the running
 * mean of g² in `sq` (and of g in `gAvg` when centered), g over the root (+ eps), then momentum
 * into `buf` when given, then w += s·update. The division result is kept in double until the
 * composed path would store it (buf, or the update buffer), exactly as math.ts rmsStep.
 */
export function rmsFusedStep(
  w: Float32Array, g: Float32Array, sq: Float32Array, gAvg: Float32Array | null, buf: Float32Array | null,
  alpha: number, eps: number, momentum: number, l2: number, s: number, apply: boolean,
): void {
  const c = 1 - alpha;
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    let gi = g[i];
    if (l2 !== 0) gi = fround(gi + l2 * wi);
    let meanSq = fround(alpha * sq[i] + c * gi * gi);
    sq[i] = meanSq;
    if (gAvg !== null) {
      const ai = fround(alpha * gAvg[i] + c * gi);
      gAvg[i] = ai;
      // As rmsStep: round-off must not make the variance negative (sqrt(−tiny) = NaN).
      meanSq = Math.max(0, meanSq - ai * ai);
    }
    const step = gi / (Math.sqrt(meanSq) + eps);
    let ui: number;
    if (buf !== null) {
      ui = fround(momentum * buf[i] + step);
      buf[i] = ui;
    } else {
      ui = fround(step);
    }
    ui = fround(ui * s);
    if (apply) w[i] = wi + ui;
  }
}
