/**
 * The preprocessor contract: `fit(x)` learns statistics from the training data only,
 * `transform(x)` applies them unchanged (to train, validation and test alike), and
 * `toJSON()`/`fromJSON()` save them with a model so inference sees the same transform.
 * Statistics are computed in float64; outputs keep the input's float dtype.
 */
import { GradkitError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkTensor } from '../util.js';

/** A fitted (or unfitted) preprocessor as JSON: its type, format version, options and learned state. */
export interface PreprocessorJSON {
  type: string;
  version: number;
  options: Record<string, unknown>;
  /** null before fit. */
  state: Record<string, unknown> | null;
}

/** Base of the preprocessing steps: fitted on training data only, then applied to any split; state saves to JSON. */
export abstract class Preprocessor {
  /** Class name, used in errors and in JSON. */
  abstract readonly type: string;
  /** Whether fit() has run (or a fitted state was loaded). */
  abstract get fitted(): boolean;
  abstract fit(x: Tensor): this;
  abstract transform(x: Tensor): Tensor;
  abstract toJSON(): PreprocessorJSON;

  fitTransform(x: Tensor): Tensor {
    return this.fit(x).transform(x);
  }

  protected requireFitted(method: string): void {
    if (!this.fitted) throw new GradkitError(`${this.type}.${method}`, 'not fitted yet: call fit(x) on the training data first');
  }

  protected checkInput(method: string, x: unknown, minRank: number): Tensor {
    const t = checkTensor(`${this.type}.${method}`, 'x', x);
    if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new GradkitError(`${this.type}.${method}`, `expected a float tensor, got ${t.dtype}`);
    if (t.rank < minRank) throw new GradkitError(`${this.type}.${method}`, `expected a tensor of rank >= ${minRank} (samples first), got shape ${fmtShape(t.shape)}`);
    return t;
  }

  protected checkTrailing(method: string, x: Tensor, fittedShape: readonly number[], from = 1): void {
    const got = x.shape.slice(from);
    if (got.length !== fittedShape.length || got.some((d, i) => d !== fittedShape[i])) {
      throw new GradkitError(
        `${this.type}.${method}`,
        `input shape ${fmtShape(x.shape)} does not match the fitted data: expected [N, ${fittedShape.join(', ')}]`,
      );
    }
  }
}

/** Reads and checks the common JSON envelope. */
export function openJSON(json: unknown, type: string): PreprocessorJSON {
  const op = `${type}.fromJSON`;
  if (json === null || typeof json !== 'object') throw new GradkitError(op, `expected an object from toJSON(), got ${json === null ? 'null' : typeof json}`);
  const j = json as PreprocessorJSON;
  if (j.type !== type) throw new GradkitError(op, `this JSON is for ${String(j.type)}, not ${type}`);
  if (j.version !== 1) throw new GradkitError(op, `unsupported version ${String(j.version)} (this gradkit reads version 1)`);
  if (typeof j.options !== 'object' || j.options === null) throw new GradkitError(op, 'missing options');
  return j;
}

/** A numeric array field of a JSON state, with its expected length checked. */
export function numberArray(op: string, state: Record<string, unknown>, key: string, length?: number): Float64Array {
  const v = state[key];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw new GradkitError(op, `state.${key} must be an array of finite numbers`);
  if (length !== undefined && v.length !== length) throw new GradkitError(op, `state.${key} has ${v.length} values, expected ${length}`);
  return Float64Array.from(v as number[]);
}

export function shapeArray(op: string, state: Record<string, unknown>, key: string): number[] {
  const v = state[key];
  if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x) || x < 0)) throw new GradkitError(op, `state.${key} must be a shape (array of non-negative integers)`);
  return [...(v as number[])];
}
