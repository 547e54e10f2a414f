/**
 * Fused kernels for training hot paths (ReLU backward, batch normalization): plain loops that
 * touch each full-size buffer once or twice, where the composed ops take many broadcasting
 * passes and temporaries. Accumulation is in float64 (JS numbers) for either input dtype.
 */
import type { DataArray } from '../../core/dtype.js';
import type { Shape } from '../../core/shape.js';
import type { BatchNormGrads, BatchNormTrainResult, FusedActivation } from '../../backend/kernels.js';
import { allocLike } from './util.js';

export function reluBackward(x: DataArray, dy: DataArray): DataArray {
  const dx = allocLike(dy, dy.length);
  for (let i = 0; i < dx.length; i++) {
    const v = x[i];
    // Multiply by the 0/1 mask instead of branching on the sign: activations have random signs,
    // and a mispredicted branch per element made this 2–3× slower. The NaN test is almost never
    // taken, so it predicts well. (dy·0 is NaN for infinite dy, exactly as the composed mul.)
    let r = dy[i] * +(v > 0);
    if (v !== v) r = v;
    dx[i] = r;
  }
  return dx;
}

/** [N, C, ...spatial] → N, C and the spatial size S (1 for [N, C]). */
/** [N, C, S]: batch, channels, and the spatial size per channel (1 for [N, C]). */
export function dims(shape: Shape): [number, number, number] {
  let s = 1;
  for (let i = 2; i < shape.length; i++) s *= shape[i];
  return [shape[0], shape[1], s];
}

export function batchNormForwardTrain(x: DataArray, shape: Shape, gamma: DataArray | null, beta: DataArray | null, eps: number): BatchNormTrainResult<DataArray> {
  const [n, c, s] = dims(shape);
  const m = n * s;
  // One pass for both moments, on values shifted by each channel's first element K:
  // var = (Σd² − (Σd)²/M)/M with d = x − K. Unshifted (K = 0) this cancels catastrophically when
  // |mean| ≫ std; K is a data point, so |K − mean| ≤ √M·std and the float64 sums keep a relative
  // error near M·2⁻⁵³. Saves the third read of x a separate centring pass would cost.
  const shiftK = new Float64Array(c);
  if (m > 0) for (let ch = 0; ch < c; ch++) shiftK[ch] = x[ch * s];
  const sumD = new Float64Array(c);
  const sumD2 = new Float64Array(c);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (b * c + ch) * s;
      const k = shiftK[ch];
      let a1 = 0;
      let a2 = 0;
      for (let i = base; i < base + s; i++) {
        const d = x[i] - k;
        a1 += d;
        a2 += d * d;
      }
      sumD[ch] += a1;
      sumD2[ch] += a2;
    }
  }
  const mean = allocLike(x, c);
  const variance = allocLike(x, c);
  const invstd = allocLike(x, c);
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  batchStatsFromSums({ sumD, sumD2, shiftK, m, eps, gamma, beta }, { mean, variance, invstd, scale, shift });
  return { out: affine(x, n, c, s, scale, shift), mean, invstd, variance };
}

/** Writable per-channel arrays (typed arrays, or float64 views into wasm memory). */
type Channels = { [ch: number]: number; readonly length: number };

/**
 * BatchNorm's per-channel statistics from the sums of the shifted values d = x − K (one pass):
 * mean, biased variance, invstd, and the affine map y = x·scale + shift that applies them with γ/β.
 * Shared by every backend so that they finish the statistics the same way.
 */
export function batchStatsFromSums(
  sums: { sumD: ArrayLike<number>; sumD2: ArrayLike<number>; shiftK: ArrayLike<number>; m: number; eps: number; gamma: DataArray | null; beta: DataArray | null },
  out: { mean: Channels; variance: Channels; invstd: Channels; scale: Channels; shift: Channels },
): void {
  const { sumD, sumD2, shiftK, m, eps, gamma, beta } = sums;
  for (let ch = 0; ch < out.mean.length; ch++) {
    const md = sumD[ch] / m;
    const mu = shiftK[ch] + md;
    // Rounding can leave a tiny negative for a constant channel; a variance is ≥ 0.
    const v = Math.max(sumD2[ch] - md * sumD[ch], 0) / m;
    const inv = 1 / Math.sqrt(v + eps);
    out.mean[ch] = mu;
    out.variance[ch] = v;
    out.invstd[ch] = inv;
    out.scale[ch] = gamma === null ? inv : inv * gamma[ch];
    out.shift[ch] = (beta === null ? 0 : beta[ch]) - mu * out.scale[ch];
  }
}

/** y = x·scale[c] + shift[c]. */
function affine(x: DataArray, n: number, c: number, s: number, scale: ArrayLike<number>, shift: ArrayLike<number>): DataArray {
  const out = allocLike(x, x.length);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (b * c + ch) * s;
      const k = scale[ch];
      const t = shift[ch];
      for (let i = base; i < base + s; i++) out[i] = x[i] * k + t;
    }
  }
  return out;
}

export function batchNormForwardEval(x: DataArray, shape: Shape, scale: DataArray, shift: DataArray): DataArray {
  const [n, c, s] = dims(shape);
  return affine(x, n, c, s, scale, shift);
}

export function batchNormBackward(x: DataArray, dy: DataArray, shape: Shape, mean: DataArray, invstd: DataArray, gamma: DataArray | null, batchStats: boolean): BatchNormGrads<DataArray> {
  const [n, c, s] = dims(shape);
  const m = n * s;
  // Pass 1: Σdy and Σdy·(x − μ) per channel (x̂ = (x − μ)·invstd is applied once per channel).
  const sumDy = new Float64Array(c);
  const sumDyXc = new Float64Array(c);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (b * c + ch) * s;
      const mu = mean[ch];
      let a1 = 0;
      let a2 = 0;
      for (let i = base; i < base + s; i++) {
        const g = dy[i];
        a1 += g;
        a2 += g * (x[i] - mu);
      }
      sumDy[ch] += a1;
      sumDyXc[ch] += a2;
    }
  }
  const dgamma = allocLike(x, c);
  const dbeta = allocLike(x, c);
  // Pass 2: dx = k·dy − q·(x − μ) − r per channel (batchNormCoefficients).
  const k = new Float64Array(c);
  const q = new Float64Array(c);
  const r = new Float64Array(c);
  batchNormCoefficients({ sumDy, sumDyXc, invstd, gamma, batchStats, m }, { dgamma, dbeta, k, q, r });
  const dx = allocLike(x, x.length);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (b * c + ch) * s;
      const kk = k[ch];
      const qq = q[ch];
      const rr = r[ch];
      const mu = mean[ch];
      for (let i = base; i < base + s; i++) dx[i] = kk * dy[i] - qq * (x[i] - mu) - rr;
    }
  }
  return { dx, dgamma, dbeta };
}

/**
 * From Σdy and Σdy·(x − μ) per channel: dγ = Σdy·x̂, dβ = Σdy, and the coefficients of
 * dx = k·dy − q·(x − μ) − r: k = γ·invstd and, for batch statistics, q = k·invstd·Σ(dy·x̂)/M and
 * r = k·Σdy/M (zero when the statistics were constants). Shared by every backend.
 */
export function batchNormCoefficients(
  sums: { sumDy: ArrayLike<number>; sumDyXc: ArrayLike<number>; invstd: DataArray; gamma: DataArray | null; batchStats: boolean; m: number },
  out: { dgamma: Channels; dbeta: Channels; k: Channels; q: Channels; r: Channels },
): void {
  const { sumDy, sumDyXc, invstd, gamma, batchStats, m } = sums;
  for (let ch = 0; ch < out.k.length; ch++) {
    const inv = invstd[ch];
    const dyXhat = sumDyXc[ch] * inv;
    out.dgamma[ch] = dyXhat;
    out.dbeta[ch] = sumDy[ch];
    const kk = gamma === null ? inv : gamma[ch] * inv;
    out.k[ch] = kk;
    out.q[ch] = batchStats ? (kk * inv * dyXhat) / m : 0;
    out.r[ch] = batchStats ? (kk * sumDy[ch]) / m : 0;
  }
}

export function softmaxCrossEntropy(logits: DataArray, rows: number, classes: number, labels: Int32Array, smoothing: number, ignoreIndex: number | null): { loss: DataArray; probs: DataArray } {
  const loss = allocLike(logits, rows);
  const probs = allocLike(logits, logits.length);
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let max = -Infinity;
    for (let j = 0; j < classes; j++) max = Math.max(max, logits[base + j]);
    // All −∞ (or a +∞) would give ∞ − ∞ = NaN below; shifting by 0 lets that NaN/∞ show honestly.
    if (!Number.isFinite(max)) max = 0;
    let sum = 0;
    let zSum = 0;
    for (let j = 0; j < classes; j++) {
      const z = logits[base + j] - max;
      const e = Math.exp(z);
      probs[base + j] = e;
      sum += e;
      zSum += z;
    }
    for (let j = base; j < base + classes; j++) probs[j] /= sum;
    const label = labels[r];
    if (label === ignoreIndex) continue;
    // With z shifted by max: −log p[label] = log Σe^z − z[label].
    const logSum = Math.log(sum);
    const zl = logits[base + label] - max;
    loss[r] = smoothing === 0 ? logSum - zl : logSum - (1 - smoothing) * zl - (smoothing * zSum) / classes;
  }
  return { loss, probs };
}

export function softmaxCrossEntropyBackward(probs: DataArray, labels: Int32Array, dloss: DataArray, rows: number, classes: number, smoothing: number, ignoreIndex: number | null): DataArray {
  const dx = allocLike(probs, probs.length);
  const off = smoothing / classes;
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    if (label === ignoreIndex) continue;
    const base = r * classes;
    const g = dloss[r];
    for (let j = 0; j < classes; j++) dx[base + j] = g * (probs[base + j] - off);
    dx[base + label] -= g * (1 - smoothing);
  }
  return dx;
}

/** shape split around `axis` into [outer, size, inner]. */
/** [outer, size, inner]: the sizes before, at and after `axis`. */
export function around(shape: Shape, axis: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[axis], inner];
}

export function biasAct(x: DataArray, shape: Shape, bias: DataArray, axis: number, act: FusedActivation): DataArray {
  const [outer, size, inner] = around(shape, axis);
  const out = allocLike(x, x.length);
  const relu = act === 'relu';
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < size; j++) {
      const base = (o * size + j) * inner;
      const b = bias[j];
      if (relu) {
        // Math.max compiles to a max instruction (no branch on the sign), keeps NaN as the relu
        // kernel does, and maps −∞ to 0 (a 0/1 mask multiply would give −∞·0 = NaN).
        for (let i = base; i < base + inner; i++) out[i] = Math.max(x[i] + b, 0);
      } else {
        for (let i = base; i < base + inner; i++) out[i] = x[i] + b;
      }
    }
  }
  return out;
}

export function biasActBackward(y: DataArray, dy: DataArray, shape: Shape, axis: number, act: FusedActivation): { dx: DataArray; dbias: DataArray } {
  const [outer, size, inner] = around(shape, axis);
  const relu = act === 'relu';
  const dx = allocLike(dy, dy.length);
  const sums = new Float64Array(size);
  // One pass: the masked gradient is written and summed per bias entry in the same loop.
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < size; j++) {
      const base = (o * size + j) * inner;
      let acc = 0;
      for (let i = base; i < base + inner; i++) {
        let r = dy[i];
        if (relu) {
          const v = y[i];
          r *= +(v > 0); // mask multiply, as in reluBackward (no branch on the sign)
          if (v !== v) r = v;
        }
        dx[i] = r;
        acc += r;
      }
      sums[j] += acc;
    }
  }
  const dbias = allocLike(dy, size);
  dbias.set(sums);
  return { dx, dbias };
}
