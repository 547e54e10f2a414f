/**
 * Weight initialization. Every function fills a tensor in place (through `assign`, so a
 * Parameter keeps its identity), draws from the seeded RNG (`rng` option, default the global
 * one) and returns the tensor.
 *
 * Guidance from the lectures (seed 000): biases start at 0 (a small positive constant is fine
 * before a ReLU); weights must be random to break symmetry, with a variance calibrated to the
 * layer's fan: Xavier/Glorot (2/(fan_in+fan_out)) for linear/tanh/sigmoid units, He/Kaiming
 * (2/fan_in) for ReLU-family units, LeCun (1/fan_in) for SELU networks.
 *
 * ```ts
 * const lin = new nn.Linear(256, 128);                 // He normal by default
 * nn.init.xavierUniform(lin.weight, { gain: nn.init.calculateGain('tanh') });
 * nn.init.constant(lin.bias!, 0.01);
 * ```
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import { getGlobalRng, type Random } from '../core/rng.js';
import type { Tensor } from '../tensor/tensor.js';

export type Nonlinearity =
  | 'linear' | 'identity' | 'conv1d' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu' | 'gelu' | 'silu';

export interface RngOption {
  /** Generator to draw from (default: the global one, see manualSeed). */
  rng?: Random;
}

/**
 * The recommended scale for a nonlinearity, used by Xavier/He: 1 for linear/sigmoid, 5/3 for
 * tanh, √2 for ReLU, √(2/(1+slope²)) for leaky ReLU (`param` = slope, default 0.01), 3/4 for SELU
 * (PyTorch's value, for self-normalizing nets initialised with lecunNormal prefer gain 1).
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'identity': case 'conv1d': case 'conv2d': case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu': case 'gelu': case 'silu':
      // GELU/SiLU behave like ReLU for the variance argument (zero for negative inputs, identity for large positive).
      return Math.SQRT2;
    case 'leakyRelu': {
      const slope = param ?? 0.01;
      if (!Number.isFinite(slope)) throw new GradkitError('calculateGain', `leakyRelu slope must be a finite number, got ${slope}`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new GradkitError('calculateGain', `unknown nonlinearity '${String(nonlinearity)}'; expected one of linear, identity, conv1d, conv2d, sigmoid, tanh, relu, leakyRelu, selu, gelu, silu`);
  }
}

/**
 * Fan-in and fan-out of a weight. Linear weights are [out, in]; conv weights are
 * [c_out, c_in/groups, kH, kW], whose fan-in is kH·kW·c_in/groups (every output sums that many
 * products) and fan-out kH·kW·c_out.
 */
export function fanInOut(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    throw new GradkitError('fanInOut', `fan-in and fan-out need a weight with at least 2 dimensions, got shape ${fmtShape(shape)}`);
  }
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i];
  const fanIn = shape[1] * receptive;
  const fanOut = shape[0] * receptive;
  if (!(fanIn > 0 && fanOut > 0)) throw new GradkitError('fanInOut', `shape ${fmtShape(shape)} has an empty axis, so fan-in/fan-out is 0`);
  return { fanIn, fanOut };
}

function fill(t: Tensor, draw: () => number): Tensor {
  checkFloat(t);
  const values = new Float64Array(t.size);
  for (let i = 0; i < values.length; i++) values[i] = draw();
  return t.assign(values);
}

function checkFloat(t: Tensor): void {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new GradkitError('init', `can only fill float tensors, got ${t.dtype} (shape ${fmtShape(t.shape)})`);
}

function checkPositive(op: string, name: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new GradkitError(op, `${name} must be a positive finite number, got ${v}`);
}

export function zeros(t: Tensor): Tensor {
  checkFloat(t);
  return t.assign(new Float64Array(t.size));
}

export function ones(t: Tensor): Tensor {
  return constant(t, 1);
}

export function constant(t: Tensor, value: number): Tensor {
  if (!Number.isFinite(value)) throw new GradkitError('init.constant', `value must be finite, got ${value}`);
  checkFloat(t);
  return t.assign(new Float64Array(t.size).fill(value));
}

/** U(low, high), default U(0, 1). */
export function uniform(t: Tensor, opts: { low?: number; high?: number } & RngOption = {}): Tensor {
  const low = opts.low ?? 0;
  const high = opts.high ?? 1;
  if (!(high > low)) throw new GradkitError('init.uniform', `high (${high}) must be greater than low (${low})`);
  const rng = opts.rng ?? getGlobalRng();
  return fill(t, () => rng.uniform(low, high));
}

/** N(mean, std²), default N(0, 1). */
export function normal(t: Tensor, opts: { mean?: number; std?: number } & RngOption = {}): Tensor {
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  if (!(Number.isFinite(std) && std >= 0)) throw new GradkitError('init.normal', `std must be a non-negative finite number, got ${std}`);
  const rng = opts.rng ?? getGlobalRng();
  return fill(t, () => rng.normal(mean, std));
}

export interface GainOption extends RngOption {
  /** Multiplies the standard deviation (see calculateGain). Default 1. */
  gain?: number;
}

/** Glorot/Xavier uniform: U(−a, a), a = gain·√(6/(fan_in+fan_out)), so Var = gain²·2/(fan_in+fan_out). */
export function xavierUniform(t: Tensor, opts: GainOption = {}): Tensor {
  const { fanIn, fanOut } = fanInOut(t.shape);
  const gain = opts.gain ?? 1;
  checkPositive('init.xavierUniform', 'gain', gain);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, { low: -a, high: a, rng: opts.rng });
}

/** Glorot/Xavier normal: N(0, gain²·2/(fan_in+fan_out)). */
export function xavierNormal(t: Tensor, opts: GainOption = {}): Tensor {
  const { fanIn, fanOut } = fanInOut(t.shape);
  const gain = opts.gain ?? 1;
  checkPositive('init.xavierNormal', 'gain', gain);
  return normal(t, { std: gain * Math.sqrt(2 / (fanIn + fanOut)), rng: opts.rng });
}

export interface HeOptions extends RngOption {
  /** Preserve the variance of activations ('fanIn', default) or of gradients ('fanOut'). */
  mode?: 'fanIn' | 'fanOut';
  /** Default 'relu' (gain √2); 'leakyRelu' uses negativeSlope. */
  nonlinearity?: Nonlinearity;
  /** Slope of the leaky ReLU that follows; setting it implies nonlinearity 'leakyRelu'. */
  negativeSlope?: number;
}

function heStd(op: string, t: Tensor, opts: HeOptions): number {
  const { fanIn, fanOut } = fanInOut(t.shape);
  const mode = opts.mode ?? 'fanIn';
  if (mode !== 'fanIn' && mode !== 'fanOut') throw new GradkitError(op, `mode must be 'fanIn' or 'fanOut', got '${String(mode)}'`);
  const nl = opts.nonlinearity ?? (opts.negativeSlope !== undefined ? 'leakyRelu' : 'relu');
  const gain = calculateGain(nl, opts.negativeSlope);
  return gain / Math.sqrt(mode === 'fanIn' ? fanIn : fanOut);
}

/** He/Kaiming normal: N(0, gain²/fan), i.e. variance 2/fan_in for ReLU. */
export function heNormal(t: Tensor, opts: HeOptions = {}): Tensor {
  return normal(t, { std: heStd('init.heNormal', t, opts), rng: opts.rng });
}

/** He/Kaiming uniform: U(−√3·std, √3·std) with the same variance as heNormal. */
export function heUniform(t: Tensor, opts: HeOptions = {}): Tensor {
  const b = Math.sqrt(3) * heStd('init.heUniform', t, opts);
  return uniform(t, { low: -b, high: b, rng: opts.rng });
}

/** LeCun normal: N(0, 1/fan_in) — the initialization SELU's self-normalization assumes. */
export function lecunNormal(t: Tensor, opts: RngOption = {}): Tensor {
  return normal(t, { std: 1 / Math.sqrt(fanInOut(t.shape).fanIn), rng: opts.rng });
}

/** LeCun uniform: U(−√(3/fan_in), √(3/fan_in)), variance 1/fan_in. */
export function lecunUniform(t: Tensor, opts: RngOption = {}): Tensor {
  const b = Math.sqrt(3 / fanInOut(t.shape).fanIn);
  return uniform(t, { low: -b, high: b, rng: opts.rng });
}

/**
 * (Semi-)orthogonal matrix (Saxe et al.): the weight viewed as [shape[0], rest] gets orthonormal
 * rows (when rows ≤ cols) or columns, times `gain`. Built by Gram–Schmidt QR of a Gaussian
 * matrix, with Q's signs fixed by R's diagonal so the result is uniformly distributed.
 */
export function orthogonal(t: Tensor, opts: GainOption = {}): Tensor {
  if (t.rank < 2) throw new GradkitError('init.orthogonal', `needs a tensor with at least 2 dimensions, got shape ${fmtShape(t.shape)}`);
  checkFloat(t);
  const gain = opts.gain ?? 1;
  checkPositive('init.orthogonal', 'gain', gain);
  const rng = opts.rng ?? getGlobalRng();
  const rows = t.shape[0];
  const cols = t.size / rows;
  // Orthonormalise the shorter side: q is tall (big × small) with orthonormal columns.
  const big = Math.max(rows, cols);
  const small = Math.min(rows, cols);
  const q = new Float64Array(big * small); // column-major: column j at q[j*big ...]
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  for (let j = 0; j < small; j++) {
    const cj = q.subarray(j * big, (j + 1) * big);
    // Modified Gram–Schmidt, twice ("twice is enough") for orthogonality to machine precision.
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        const ck = q.subarray(k * big, (k + 1) * big);
        let dot = 0;
        for (let i = 0; i < big; i++) dot += ck[i] * cj[i];
        for (let i = 0; i < big; i++) cj[i] -= dot * ck[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < big; i++) norm += cj[i] * cj[i];
    norm = Math.sqrt(norm);
    if (norm < 1e-12) throw new GradkitError('init.orthogonal', 'degenerate random draw; try another seed');
    // R's diagonal is +norm here, so the sign correction of QR is already applied.
    for (let i = 0; i < big; i++) cj[i] /= norm;
  }
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // rows >= cols: W[r, c] = q[r, c]; otherwise W = qᵀ, W[r, c] = q[c, r].
      out[r * cols + c] = gain * (rows >= cols ? q[c * big + r] : q[r * big + c]);
    }
  }
  return t.assign(out);
}

/** How a layer initializes its weight: a named scheme or a function filling the tensor. */
export type InitScheme = 'he' | 'heUniform' | 'xavier' | 'xavierUniform' | 'lecun' | 'orthogonal' | ((weight: Tensor, rng: Random) => void);

/** How a layer initializes its bias: a constant (default 0) or a function. */
export type BiasInit = number | ((bias: Tensor, rng: Random) => void);

/** Applies an InitScheme to a weight; `nonlinearity` picks He's gain (default 'relu'). */
export function initWeight(w: Tensor, scheme: InitScheme, opts: { rng?: Random; nonlinearity?: Nonlinearity; negativeSlope?: number } = {}): void {
  const rng = opts.rng ?? getGlobalRng();
  if (typeof scheme === 'function') {
    scheme(w, rng);
    return;
  }
  switch (scheme) {
    case 'he': heNormal(w, { rng, nonlinearity: opts.nonlinearity, negativeSlope: opts.negativeSlope }); return;
    case 'heUniform': heUniform(w, { rng, nonlinearity: opts.nonlinearity, negativeSlope: opts.negativeSlope }); return;
    case 'xavier': xavierNormal(w, { rng }); return;
    case 'xavierUniform': xavierUniform(w, { rng }); return;
    case 'lecun': lecunNormal(w, { rng }); return;
    case 'orthogonal': orthogonal(w, { rng }); return;
    default:
      throw new GradkitError('init', `unknown init '${String(scheme)}'; expected 'he', 'heUniform', 'xavier', 'xavierUniform', 'lecun', 'orthogonal' or a function`);
  }
}

/** Applies a BiasInit. */
export function initBias(b: Tensor, biasInit: BiasInit, rng: Random = getGlobalRng()): void {
  if (typeof biasInit === 'function') biasInit(b, rng);
  else constant(b, biasInit);
}
