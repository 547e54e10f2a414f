/**
 * PCA and whitening, fitted on training data (x: [N, …], flattened to [N, D] features).
 * fit: mean μ, covariance C = Xcᵀ·Xc / (N − 1), eigendecomposition C = V·diag(λ)·Vᵀ (Jacobi).
 *  - PCA:           z = (x − μ)·V_k                    → [N, k]   (inverseTransform: z·V_kᵀ + μ)
 *  - PCA whitening: z = (x − μ)·V_k / sqrt(λ_k + eps)   → [N, k]   (unit variance, decorrelated)
 *  - ZCA whitening: z = (x − μ)·V·diag(1/sqrt(λ+eps))·Vᵀ → [N, …] (whitened, yet closest to x)
 */
import { GradkitError } from '../../core/errors.js';
import { sizeOf } from '../../core/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { alloc, tensorFrom, valuesOf } from '../util.js';
import { numberArray, openJSON, Preprocessor, shapeArray, type PreprocessorJSON } from './base.js';
import { symmetricEigen } from './eigen.js';

interface Fit {
  shape: number[];
  mean: Float64Array;
  /** All eigenvalues, largest first. */
  values: Float64Array;
  /** Eigenvectors as columns (D×D row-major). */
  vectors: Float64Array;
}

function fitCovariance(op: string, x: Tensor): Fit {
  const n = x.shape[0];
  if (n < 2) throw new GradkitError(op, `needs at least 2 samples to estimate a covariance, got ${n}`);
  const d = sizeOf(x.shape.slice(1));
  const v = valuesOf(x);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] += v[i * d + k];
  for (let k = 0; k < d; k++) mean[k] /= n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) row[k] = v[i * d + k] - mean[k];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += ra * row[b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) {
    cov[a * d + b] /= n - 1;
    cov[b * d + a] = cov[a * d + b];
  }
  const { values, vectors } = symmetricEigen(cov, d);
  // Round-off can leave tiny negative eigenvalues of a PSD matrix; they are zero.
  for (let i = 0; i < d; i++) if (values[i] < 0) values[i] = 0;
  return { shape: x.shape.slice(1), mean, values, vectors };
}

/** out[N×cols] = (x − μ)·M where M is D×cols (row-major), scaled per column. */
function project(x: Tensor, mean: Float64Array, m: Float64Array, cols: number, colScale: Float64Array | null, outShape: number[]): Tensor {
  const n = x.shape[0];
  const d = mean.length;
  const v = valuesOf(x);
  const out = alloc(x.dtype, n * cols);
  const row = new Float64Array(d);
  const acc = new Float64Array(cols);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) row[k] = v[i * d + k] - mean[k];
    acc.fill(0);
    for (let k = 0; k < d; k++) {
      const r = row[k];
      if (r === 0) continue;
      const base = k * cols;
      for (let j = 0; j < cols; j++) acc[j] += r * m[base + j];
    }
    for (let j = 0; j < cols; j++) out[i * cols + j] = colScale ? acc[j] * colScale[j] : acc[j];
  }
  return tensorFrom(out, outShape);
}

/** The first k columns of the D×D column-eigenvector matrix, as D×k. */
function leadingColumns(vectors: Float64Array, d: number, k: number): Float64Array {
  const out = new Float64Array(d * k);
  for (let i = 0; i < d; i++) for (let j = 0; j < k; j++) out[i * k + j] = vectors[i * d + j];
  return out;
}

function chooseK(op: string, values: Float64Array, components: number | undefined, varianceKept: number | undefined): number {
  const d = values.length;
  if (components !== undefined) {
    if (!Number.isInteger(components) || components < 1 || components > d) {
      throw new GradkitError(op, `components must be an integer in 1..${d} (the number of features), got ${components}`);
    }
    return components;
  }
  if (varianceKept !== undefined) {
    const total = values.reduce((a, b) => a + b, 0);
    if (total === 0) return 1;
    let acc = 0;
    for (let k = 0; k < d; k++) {
      acc += values[k];
      if (acc / total >= varianceKept - 1e-12) return k + 1;
    }
    return d;
  }
  return d;
}

/** Options of PCA: keep a number of components, or enough to reach a share of the variance. */
export interface PCAOptions {
  /** Keep this many components. */
  components?: number;
  /** Or keep the fewest components whose share of the variance reaches this fraction (0, 1]. */
  varianceKept?: number;
}

/** Principal component analysis: `new PCA({ varianceKept: 0.95 }).fit(xTrain).transform(xTest)`. */
export class PCA extends Preprocessor {
  readonly type: string = 'PCA';
  readonly components: number | undefined;
  readonly varianceKept: number | undefined;
  protected fitState: (Omit<Fit, 'vectors'> & { k: number; basis: Float64Array }) | null = null;

  constructor(opts: PCAOptions = {}) {
    super();
    checkPcaOptions('PCA', opts);
    this.components = opts.components;
    this.varianceKept = opts.varianceKept;
  }

  get fitted(): boolean {
    return this.fitState !== null;
  }

  /** Number of components kept. */
  get k(): number {
    this.requireFitted('k');
    return this.fitState!.k;
  }

  /** Variance along each kept component (eigenvalues of the covariance), largest first. */
  get explainedVariance(): Float64Array {
    this.requireFitted('explainedVariance');
    return this.fitState!.values.slice(0, this.fitState!.k);
  }

  /** explainedVariance as fractions of the total variance. */
  get explainedVarianceRatio(): Float64Array {
    const all = this.fitState?.values;
    const ev = this.explainedVariance;
    const total = all!.reduce((a, b) => a + b, 0);
    return ev.map((v) => (total > 0 ? v / total : 0));
  }

  /** The kept components as rows: [k, D] (each row a unit vector). */
  get componentMatrix(): Float64Array {
    this.requireFitted('componentMatrix');
    const { basis, k, mean } = this.fitState!;
    const d = mean.length;
    const out = new Float64Array(k * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < k; j++) out[j * d + i] = basis[i * k + j];
    return out;
  }

  fit(x: Tensor): this {
    const t = this.checkInput('fit', x, 2);
    const f = fitCovariance(`${this.type}.fit`, t);
    const k = chooseK(`${this.type}.fit`, f.values, this.components, this.varianceKept);
    this.fitState = { shape: f.shape, mean: f.mean, values: f.values, k, basis: leadingColumns(f.vectors, f.mean.length, k) };
    return this;
  }

  transform(x: Tensor): Tensor {
    this.requireFitted('transform');
    const t = this.checkInput('transform', x, 2);
    this.checkTrailing('transform', t, this.fitState!.shape);
    const { mean, basis, k } = this.fitState!;
    return project(t, mean, basis, k, null, [t.shape[0], k]);
  }

  /** Back from [N, k] components to the input space [N, …]: z·V_kᵀ + μ. */
  inverseTransform(z: Tensor): Tensor {
    this.requireFitted('inverseTransform');
    const t = this.checkInput('inverseTransform', z, 2);
    const { mean, basis, k, shape } = this.fitState!;
    this.checkTrailing('inverseTransform', t, [k]);
    const d = mean.length;
    const n = t.shape[0];
    const v = valuesOf(t);
    const out = alloc(t.dtype, n * d);
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < d; a++) {
        let s = mean[a];
        for (let j = 0; j < k; j++) s += v[i * k + j] * basis[a * k + j];
        out[i * d + a] = s;
      }
    }
    return tensorFrom(out, [n, ...shape]);
  }

  protected optionsJSON(): Record<string, unknown> {
    return { components: this.components, varianceKept: this.varianceKept };
  }

  toJSON(): PreprocessorJSON {
    const f = this.fitState;
    return {
      type: this.type,
      version: 1,
      options: this.optionsJSON(),
      state: f ? { shape: f.shape, k: f.k, mean: [...f.mean], values: [...f.values], basis: [...f.basis] } : null,
    };
  }

  protected loadState(state: Record<string, unknown>): void {
    const op = `${this.type}.fromJSON`;
    const shape = shapeArray(op, state, 'shape');
    const d = sizeOf(shape);
    const k = state.k;
    if (!Number.isInteger(k) || (k as number) < 1 || (k as number) > d) throw new GradkitError(op, `state.k must be an integer in 1..${d}, got ${String(k)}`);
    const mean = numberArray(op, state, 'mean', d);
    const values = numberArray(op, state, 'values', d);
    const basis = numberArray(op, state, 'basis', d * (k as number));
    this.fitState = { shape, mean, values, k: k as number, basis };
  }

  static fromJSON(json: unknown): PCA {
    const j = openJSON(json, 'PCA');
    const p = new PCA(j.options as PCAOptions);
    if (j.state) p.loadState(j.state);
    return p;
  }
}

function checkPcaOptions(op: string, opts: PCAOptions): void {
  if (opts.components !== undefined && opts.varianceKept !== undefined) throw new GradkitError(op, 'pass either components or varianceKept, not both');
  if (opts.components !== undefined && (!Number.isInteger(opts.components) || opts.components < 1)) {
    throw new GradkitError(op, `components must be a positive integer, got ${opts.components}`);
  }
  if (opts.varianceKept !== undefined && !(opts.varianceKept > 0 && opts.varianceKept <= 1)) {
    throw new GradkitError(op, `varianceKept must be a fraction in (0, 1], got ${opts.varianceKept}`);
  }
}

/** Options of Whitening: the PCA options plus PCA or ZCA output and the eps added to eigenvalues. */
export interface WhiteningOptions extends PCAOptions {
  /** 'pca' (rotate onto the components, [N, k]) or 'zca' (rotate back, same shape as x). Default 'zca'. */
  method?: 'pca' | 'zca';
  /** Added to each eigenvalue before dividing by its square root (default 1e-5). */
  eps?: number;
}

/** Whitening: decorrelates features and gives them unit variance (on the training data). */
export class Whitening extends PCA {
  override readonly type: string = 'Whitening';
  readonly method: 'pca' | 'zca';
  readonly eps: number;

  constructor(opts: WhiteningOptions = {}) {
    super({ components: opts.components, varianceKept: opts.varianceKept });
    const method = opts.method ?? 'zca';
    if (method !== 'pca' && method !== 'zca') throw new GradkitError('Whitening', `method must be 'pca' or 'zca', got ${String(method)}`);
    if (method === 'zca' && (opts.components !== undefined || opts.varianceKept !== undefined)) {
      throw new GradkitError('Whitening', 'ZCA whitening keeps every component; components/varianceKept apply to method: "pca"');
    }
    this.method = method;
    this.eps = opts.eps ?? 1e-5;
    if (!(this.eps >= 0) || !Number.isFinite(this.eps)) throw new GradkitError('Whitening', `eps must be a finite number >= 0, got ${this.eps}`);
  }

  // W (D×cols) with the 1/sqrt(λ + eps) already folded in.
  private matrix(): { m: Float64Array; cols: number } {
    const { basis, k, values, mean } = this.fitState!;
    const d = mean.length;
    const inv = values.map((v) => 1 / Math.sqrt(v + this.eps));
    if (this.method === 'pca') {
      const m = new Float64Array(d * k);
      for (let i = 0; i < d; i++) for (let j = 0; j < k; j++) m[i * k + j] = basis[i * k + j] * inv[j];
      return { m, cols: k };
    }
    const m = new Float64Array(d * d);
    for (let a = 0; a < d; a++) for (let b = a; b < d; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += basis[a * d + j] * inv[j] * basis[b * d + j];
      m[a * d + b] = s;
      m[b * d + a] = s;
    }
    return { m, cols: d };
  }

  private cached: { m: Float64Array; cols: number } | null = null;

  override fit(x: Tensor): this {
    super.fit(x);
    if (this.fitState!.values[this.fitState!.k - 1] + this.eps <= 0) {
      throw new GradkitError('Whitening.fit', 'a kept direction has zero variance and eps is 0; use eps > 0 or fewer components');
    }
    this.cached = this.matrix();
    return this;
  }

  override transform(x: Tensor): Tensor {
    this.requireFitted('transform');
    const t = this.checkInput('transform', x, 2);
    this.checkTrailing('transform', t, this.fitState!.shape);
    this.cached ??= this.matrix();
    const { m, cols } = this.cached;
    const shape = this.method === 'pca' ? [t.shape[0], cols] : [...t.shape];
    return project(t, this.fitState!.mean, m, cols, null, shape);
  }

  override inverseTransform(): Tensor {
    throw new GradkitError('Whitening.inverseTransform', 'not supported; use PCA for a reversible projection');
  }

  protected override optionsJSON(): Record<string, unknown> {
    return { method: this.method, eps: this.eps, components: this.components, varianceKept: this.varianceKept };
  }

  static override fromJSON(json: unknown): Whitening {
    const j = openJSON(json, 'Whitening');
    const w = new Whitening(j.options as WhiteningOptions);
    if (j.state) w.loadState(j.state);
    return w;
  }
}
