/**
 * Mean subtraction and standardization. Three ways to pool statistics (the lecture's
 * "mean image" / "per-channel mean" / ResNet-style per-channel mean and std):
 *  - 'feature': one statistic per input position over the samples — for images, the mean image.
 *  - 'channel': one per channel over samples and pixels of an NCHW (or [N, C, …]) tensor.
 *  - 'image':   each sample uses its own statistics (nothing learned; the fitted shape is still checked).
 */
import { GradkitError } from '../../core/errors.js';
import { sizeOf } from '../../core/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { alloc, tensorFrom, valuesOf } from '../util.js';
import { numberArray, openJSON, Preprocessor, shapeArray, type PreprocessorJSON } from './base.js';

/** Which values share one mean (and std): each feature, each channel, or each image on its own. */
export type Pooling = 'feature' | 'channel' | 'image';

function checkPer(op: string, per: unknown): Pooling {
  if (per !== 'feature' && per !== 'channel' && per !== 'image') throw new GradkitError(op, `per must be 'feature', 'channel' or 'image', got ${String(per)}`);
  return per;
}

/** Group index of flat element k within one sample of `rowLen` values (per mode). */
interface Layout {
  groups: number;
  groupOf: (k: number) => number;
}

function layoutOf(per: Pooling, sampleShape: readonly number[]): Layout {
  const rowLen = sizeOf(sampleShape);
  if (per === 'feature') return { groups: rowLen, groupOf: (k) => k };
  if (per === 'channel') {
    const plane = rowLen / sampleShape[0];
    return { groups: sampleShape[0], groupOf: (k) => Math.floor(k / plane) };
  }
  return { groups: 1, groupOf: () => 0 };
}

/** Mean and population variance per group, over the samples (float64). */
function groupStats(x: Tensor, per: Pooling): { mean: Float64Array; variance: Float64Array } {
  const v = valuesOf(x);
  const n = x.shape[0];
  const { groups, groupOf } = layoutOf(per, x.shape.slice(1));
  const row = sizeOf(x.shape.slice(1));
  const sum = new Float64Array(groups);
  const count = new Float64Array(groups);
  for (let i = 0; i < n; i++) for (let k = 0; k < row; k++) {
    const g = groupOf(k);
    sum[g] += v[i * row + k];
    count[g]++;
  }
  const mean = sum.map((s, g) => s / count[g]);
  const sq = new Float64Array(groups);
  for (let i = 0; i < n; i++) for (let k = 0; k < row; k++) {
    const g = groupOf(k);
    const d = v[i * row + k] - mean[g];
    sq[g] += d * d;
  }
  return { mean, variance: sq.map((s, g) => s / count[g]) };
}

/** y = (x − mean) / scale with per-group mean/scale (per-sample stats when per = 'image'). */
function apply(x: Tensor, per: Pooling, mean: Float64Array | null, scale: Float64Array | null, eps: number, standardize: boolean): Tensor {
  const v = valuesOf(x);
  const n = x.shape[0];
  const row = sizeOf(x.shape.slice(1));
  const out = alloc(x.dtype, v.length);
  if (per === 'image') {
    for (let i = 0; i < n; i++) {
      let m = 0;
      for (let k = 0; k < row; k++) m += v[i * row + k];
      m /= row;
      let s = 1;
      if (standardize) {
        let q = 0;
        for (let k = 0; k < row; k++) q += (v[i * row + k] - m) ** 2;
        s = scaleFor(q / row, eps);
      }
      for (let k = 0; k < row; k++) out[i * row + k] = (v[i * row + k] - m) / s;
    }
  } else {
    const { groupOf } = layoutOf(per, x.shape.slice(1));
    for (let i = 0; i < n; i++) for (let k = 0; k < row; k++) {
      const g = groupOf(k);
      out[i * row + k] = (v[i * row + k] - mean![g]) / (scale ? scale[g] : 1);
    }
  }
  return tensorFrom(out, x.shape);
}

/** sqrt(var + eps); constant features (var < eps) are only centred, as in scikit-learn. */
function scaleFor(variance: number, eps: number): number {
  return variance < eps ? 1 : Math.sqrt(variance + eps);
}

/** Options of MeanSubtraction: whether the mean is per feature, per channel or per image. */
export interface MeanSubtractionOptions {
  /** How to pool the mean (default 'feature'). */
  per?: Pooling;
}

/**
 * Subtracts the training mean: `const m = new MeanSubtraction({ per: 'channel' }).fit(xTrain);`
 * then `m.transform(xTest)` uses the training means.
 */
export class MeanSubtraction extends Preprocessor {
  readonly type = 'MeanSubtraction';
  readonly per: Pooling;
  private shape: number[] | null = null;
  private _mean: Float64Array | null = null;

  constructor(opts: MeanSubtractionOptions = {}) {
    super();
    this.per = checkPer('MeanSubtraction', opts.per ?? 'feature');
  }

  get fitted(): boolean {
    return this.shape !== null;
  }

  /** The learned means (one per feature or channel; empty for per: 'image'). */
  get mean(): Float64Array {
    this.requireFitted('mean');
    return this._mean!.slice();
  }

  fit(x: Tensor): this {
    const t = this.checkInput('fit', x, this.per === 'channel' ? 2 : 1);
    if (t.shape[0] === 0) throw new GradkitError('MeanSubtraction.fit', 'cannot fit on zero samples');
    this.shape = t.shape.slice(1);
    this._mean = this.per === 'image' ? new Float64Array(0) : groupStats(t, this.per).mean;
    return this;
  }

  transform(x: Tensor): Tensor {
    this.requireFitted('transform');
    const t = this.checkInput('transform', x, 1);
    this.checkTrailing('transform', t, this.shape!);
    return apply(t, this.per, this._mean, null, 0, false);
  }

  toJSON(): PreprocessorJSON {
    return { type: this.type, version: 1, options: { per: this.per }, state: this.shape ? { shape: this.shape, mean: [...this._mean!] } : null };
  }

  static fromJSON(json: unknown): MeanSubtraction {
    const j = openJSON(json, 'MeanSubtraction');
    const m = new MeanSubtraction(j.options as MeanSubtractionOptions);
    if (j.state) {
      const op = 'MeanSubtraction.fromJSON';
      m.shape = shapeArray(op, j.state, 'shape');
      m._mean = numberArray(op, j.state, 'mean', m.per === 'image' ? 0 : layoutOf(m.per, m.shape).groups);
    }
    return m;
  }
}

/** Options of Standardize: how mean and std are pooled, and the eps under the square root. */
export interface StandardizeOptions {
  /** How to pool mean and std (default 'feature'). */
  per?: Pooling;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

/** (x − mean) / sqrt(var + eps) with training statistics (population variance). */
export class Standardize extends Preprocessor {
  readonly type = 'Standardize';
  readonly per: Pooling;
  readonly eps: number;
  private shape: number[] | null = null;
  private _mean: Float64Array | null = null;
  private _scale: Float64Array | null = null;

  constructor(opts: StandardizeOptions = {}) {
    super();
    this.per = checkPer('Standardize', opts.per ?? 'feature');
    this.eps = opts.eps ?? 1e-5;
    if (!(this.eps >= 0) || !Number.isFinite(this.eps)) throw new GradkitError('Standardize', `eps must be a finite number >= 0, got ${this.eps}`);
  }

  get fitted(): boolean {
    return this.shape !== null;
  }

  get mean(): Float64Array {
    this.requireFitted('mean');
    return this._mean!.slice();
  }

  /** The divisors sqrt(var + eps) (1 for constant features). */
  get scale(): Float64Array {
    this.requireFitted('scale');
    return this._scale!.slice();
  }

  fit(x: Tensor): this {
    const t = this.checkInput('fit', x, this.per === 'channel' ? 2 : 1);
    if (t.shape[0] === 0) throw new GradkitError('Standardize.fit', 'cannot fit on zero samples');
    this.shape = t.shape.slice(1);
    if (this.per === 'image') {
      this._mean = new Float64Array(0);
      this._scale = new Float64Array(0);
    } else {
      const { mean, variance } = groupStats(t, this.per);
      this._mean = mean;
      this._scale = variance.map((v) => scaleFor(v, this.eps));
    }
    return this;
  }

  transform(x: Tensor): Tensor {
    this.requireFitted('transform');
    const t = this.checkInput('transform', x, 1);
    this.checkTrailing('transform', t, this.shape!);
    return apply(t, this.per, this._mean, this._scale, this.eps, true);
  }

  toJSON(): PreprocessorJSON {
    return {
      type: this.type,
      version: 1,
      options: { per: this.per, eps: this.eps },
      state: this.shape ? { shape: this.shape, mean: [...this._mean!], scale: [...this._scale!] } : null,
    };
  }

  static fromJSON(json: unknown): Standardize {
    const j = openJSON(json, 'Standardize');
    const s = new Standardize(j.options as StandardizeOptions);
    if (j.state) {
      const op = 'Standardize.fromJSON';
      s.shape = shapeArray(op, j.state, 'shape');
      const groups = s.per === 'image' ? 0 : layoutOf(s.per, s.shape).groups;
      s._mean = numberArray(op, j.state, 'mean', groups);
      s._scale = numberArray(op, j.state, 'scale', groups);
    }
    return s;
  }
}
