/**
 * Gamma and Beta samplers (for mixup/cutmix). Gamma uses Marsaglia & Tsang's squeeze method
 * ("A simple method for generating gamma variables", 2000); Beta(a, b) = G_a / (G_a + G_b).
 */
import { GradkitError } from '../core/errors.js';
import type { Random } from '../core/rng.js';

/** One draw from Gamma(shape, 1). */
export function sampleGamma(rng: Random, shape: number): number {
  if (!(shape > 0) || !Number.isFinite(shape)) throw new GradkitError('sampleGamma', `shape must be a positive finite number, got ${shape}`);
  if (shape < 1) {
    // Boost: if G ~ Gamma(shape + 1) and U ~ U(0,1) then G·U^(1/shape) ~ Gamma(shape).
    let u = rng.next();
    while (u === 0) u = rng.next();
    return sampleGamma(rng, shape + 1) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    let v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v; // cheap squeeze accepts most draws
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** One draw from Beta(a, b) via two Gamma draws. */
export function sampleBeta(rng: Random, a: number, b: number): number {
  if (!(a > 0) || !(b > 0)) throw new GradkitError('sampleBeta', `parameters must be positive, got a=${a}, b=${b}`);
  const x = sampleGamma(rng, a);
  const y = sampleGamma(rng, b);
  // Both tiny (very small a, b) can underflow to 0: fall back on which one is larger in odds.
  if (x + y === 0) return rng.next() < a / (a + b) ? 1 : 0;
  return x / (x + y);
}
