import type { FloatDType } from '../core/dtype.js';
import { GradkitError } from '../core/errors.js';
import { getGlobalRng, type Random } from '../core/rng.js';
import { zeros } from '../tensor/creation.js';
import type { BiasInit, InitScheme, Nonlinearity } from './init.js';
import { Parameter, parameterFrom } from './parameter.js';

/** Options shared by layers that own a weight (Linear, Conv2d, Embedding, …). */
export interface WeightLayerOptions {
  /** Weight initialization; each layer documents its default. */
  init?: InitScheme;
  /** Bias initialization: a constant (default 0; a small positive value such as 0.01 can help ReLU units start alive) or a function. */
  biasInit?: BiasInit;
  /** The nonlinearity that follows, for He's gain (default 'relu'). */
  nonlinearity?: Nonlinearity;
  /** Slope of a following leaky ReLU, for He's gain √(2/(1+slope²)) (implies nonlinearity 'leakyRelu'). */
  negativeSlope?: number;
  /** Generator for the initial weights (default: the global one). */
  rng?: Random;
  /** Parameter dtype (default float32; float64 for gradient checks). */
  dtype?: FloatDType;
}

export function rngOf(opts: { rng?: Random }): Random {
  return opts.rng ?? getGlobalRng();
}

/** A zero-filled Parameter of the given shape and dtype. */
export function newParam(shape: readonly number[], dtype: FloatDType = 'float32', tags: string[] = []): Parameter {
  return parameterFrom(zeros(shape, { dtype }), { tags });
}

/** Validates a positive integer size argument. */
export function checkSize(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new GradkitError(op, `${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Validates a probability in [0, 1) (1 would divide by zero in inverted dropout). */
export function checkProb(op: string, p: number): number {
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new GradkitError(op, `p must be in [0, 1), got ${String(p)}`);
  return p;
}
