/** Shape and lookup layers: Identity, Flatten, Embedding. */
import { GradkitError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { arange } from '../tensor/creation.js';
import { noGrad } from '../autograd/engine.js';
import { initWeight, normal, type InitScheme } from './init.js';
import { checkSize, newParam, rngOf } from './layer-options.js';
import { Module } from './module.js';
import type { Random } from '../core/rng.js';

/** Returns its input (a placeholder, e.g. the shortcut of a residual block). */
export class Identity extends Module {
  override forward(x: Tensor): Tensor { return x; }
}

/** Merges axes startAxis..endAxis (default 1..−1: everything but the batch axis). */
export class Flatten extends Module {
  constructor(readonly startAxis = 1, readonly endAxis = -1) { super(); }
  override forward(x: Tensor): Tensor { return ops.flatten(x, this.startAxis, this.endAxis); }
  override extraRepr(): string { return `startAxis=${this.startAxis}, endAxis=${this.endAxis}`; }
}

/** Options of the Embedding layer: padding row, initialization, generator and dtype. */
export interface EmbeddingOptions {
  /** Row that maps to zeros and receives no gradient (e.g. the padding token). */
  paddingIdx?: number;
  /** Default: N(0, 1), as PyTorch. */
  init?: InitScheme;
  rng?: Random;
  dtype?: 'float32' | 'float64';
}

/** A lookup table: int32 indices of any shape S → S + [embeddingDim]. */
export class Embedding extends Module {
  readonly weight: Tensor;
  readonly paddingIdx: number | undefined;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    checkSize('Embedding', 'numEmbeddings', numEmbeddings);
    checkSize('Embedding', 'embeddingDim', embeddingDim);
    const rng = rngOf(opts);
    const w = this.registerParameter('weight', newParam([numEmbeddings, embeddingDim], opts.dtype));
    if (opts.init === undefined) normal(w, { rng });
    else initWeight(w, opts.init, { rng });
    this.weight = w;
    if (opts.paddingIdx !== undefined) {
      const p = opts.paddingIdx < 0 ? numEmbeddings + opts.paddingIdx : opts.paddingIdx;
      if (!Number.isInteger(p) || p < 0 || p >= numEmbeddings) {
        throw new GradkitError('Embedding', `paddingIdx ${opts.paddingIdx} is out of range for ${numEmbeddings} embeddings`);
      }
      this.paddingIdx = p;
      // Zero row p on the backend (a GPU cannot hand the weights to the host synchronously).
      const rowKept = ops.cast(ops.ne(arange(0, numEmbeddings, 1, { dtype: 'int32' }), p), w.dtype);
      w.assign(noGrad(() => ops.mul(w, ops.reshape(rowKept, [numEmbeddings, 1]))));
    }
  }

  override forward(indices: Tensor): Tensor {
    if (indices.dtype !== 'int32') throw new GradkitError('Embedding', `indices must be int32, got ${indices.dtype} (shape ${fmtShape(indices.shape)})`);
    const flat = ops.reshape(indices, [indices.size]);
    let rows = ops.indexSelect(this.weight, 0, flat);
    if (this.paddingIdx !== undefined) {
      // Zero the padding rows' output, which also stops their gradient.
      const keep = ops.cast(ops.ne(flat, this.paddingIdx), rows.dtype === 'float64' ? 'float64' : 'float32');
      rows = ops.mul(rows, ops.reshape(keep, [flat.size, 1]));
    }
    return ops.reshape(rows, [...indices.shape, this.embeddingDim]);
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== undefined ? `, paddingIdx=${this.paddingIdx}` : ''}`;
  }
}
