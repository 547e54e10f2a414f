/**
 * Attention: scaled dot-product attention, multi-head attention and the Transformer encoder
 * layer (Vaswani et al. 2017). Batch-first throughout; composed from public ops.
 *
 * Mask convention (PyTorch's nn.MultiheadAttention): a **boolean** mask marks positions that
 * may NOT be attended (true = blocked); a **float** mask is added to the scores (use −Infinity to
 * block). Both broadcast against the scores [..., Lq, Lk].
 */
import type { FloatDType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { getGlobalRng, type Random } from '../core/rng.js';
import { broadcastShapes } from '../core/shape.js';
import { noGrad } from '../autograd/engine.js';
import { getBackend } from '../backend/registry.js';
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { checkNoneSet } from '../ops/util.js';
import { upload } from '../ops/util.js';
import { dropout, gelu, linear } from './functional.js';
import { constant, uniform, xavierUniform } from './init.js';
import { checkProb, checkSize, newParam } from './layer-options.js';
import { ModuleList } from './containers.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { LayerNorm } from './normalization.js';
import { Dropout } from './regularization.js';
import type { Parameter } from './parameter.js';

/** Options of scaled dot-product attention: mask, causal masking, dropout on the weights and the score scale. */
export interface AttentionOptions {
  /** Bool (true = blocked) or float (added to the scores) mask, broadcastable to [..., Lq, Lk]. */
  mask?: Tensor | null;
  /** Block key j for query i when j > i (the top-left aligned lower triangle, as PyTorch). */
  causal?: boolean;
  /** Dropout on the attention weights (default 0); applied only when `training` is true. */
  dropout?: number;
  /** Default true; with false, dropout is off. */
  training?: boolean;
  /** Multiplies QKᵀ (default 1/√d, d the last axis of q). */
  scale?: number;
  rng?: Random;
}

/** What scaled dot-product attention returns: the attended values and the attention weights. */
export interface AttentionResult {
  /** [..., Lq, dv] */
  output: Tensor;
  /** [..., Lq, Lk]: the softmax weights (before attention dropout); each row sums to 1. */
  weights: Tensor;
}

/** Causal masks by backend and size: uploaded once and reused by every later call (kept out of scopes). */
const causalMasks = new WeakMap<object, Map<string, Tensor>>();

/** Bool [lq, lk] with true above the diagonal: key j is in query i's future. Cached per size (do not assign into it). */
export function causalMask(lq: number, lk: number): Tensor {
  const backend = getBackend();
  let sizes = causalMasks.get(backend);
  if (sizes === undefined) causalMasks.set(backend, (sizes = new Map()));
  const key = `${lq}x${lk}`;
  const cached = sizes.get(key);
  if (cached !== undefined && !cached.isDisposed) return cached;
  const m = new Uint8Array(lq * lk);
  for (let i = 0; i < lq; i++) for (let j = i + 1; j < lk; j++) m[i * lk + j] = 1;
  const mask = keep(upload(m, [lq, lk]));
  sizes.set(key, mask);
  return mask;
}

/** Applies one mask to the scores; checks it broadcasts (naming the caller). */
function applyMask(op: string, what: string, scores: Tensor, mask: Tensor): Tensor {
  try {
    broadcastShapes(op, mask.shape, scores.shape);
  } catch {
    throw new GradkitError(op, `${what} of shape ${fmtShape(mask.shape)} does not broadcast to the attention scores ${fmtShape(scores.shape)} [..., Lq, Lk]`);
  }
  if (mask.dtype === 'bool') return ops.where(mask, -Infinity, scores);
  if (mask.dtype === 'float32' || mask.dtype === 'float64') return ops.add(scores, mask);
  throw new GradkitError(op, `${what} must be bool (true = blocked) or float (added to the scores), got ${mask.dtype}`);
}

/**
 * A row whose every key is blocked has no distribution (softmax of all −∞ is NaN). Report it
 * instead of letting NaN spread; NaN that comes from the inputs is reported as such. Only calls
 * with a mask can block a whole row, so only they are checked, and on the device: one flag is
 * read per call (no host scan of the weights or the mask); the rows are looked at on the host
 * only to word the error.
 */
function checkWeights(op: string, scores: Tensor, weights: Tensor): void {
  const lk = scores.shape[scores.rank - 1];
  noGrad(() => checkNoneSet(op, ops.ne(weights, weights), [weights, scores], ([w, s]) => {
    const row = Math.floor(w.findIndex((x) => Number.isNaN(x)) / lk);
    if (s.subarray(row * lk, (row + 1) * lk).every((v) => v === -Infinity)) {
      return `every key is masked for query row ${row} of the scores ${fmtShape(scores.shape)}; each query needs at least one allowed key`;
    }
    return `attention weights contain NaN at row ${row} of ${fmtShape(scores.shape)}: the inputs or the float mask hold NaN or +Infinity`;
  }));
}

/** The shared core: checks shapes, masks the scaled scores, softmax, dropout, weighted sum. */
export function attention(op: string, q: Tensor, k: Tensor, v: Tensor, masks: readonly (readonly [string, Tensor])[], opts: AttentionOptions): AttentionResult {
  if (q.rank < 2 || k.rank < 2 || v.rank < 2) {
    throw new GradkitError(op, `q, k, v must be at least 2-D [..., L, d], got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
  }
  const d = q.shape[q.rank - 1];
  const lq = q.shape[q.rank - 2];
  const lk = k.shape[k.rank - 2];
  if (k.shape[k.rank - 1] !== d) throw new GradkitError(op, `q ${fmtShape(q.shape)} and k ${fmtShape(k.shape)} must have the same last axis (d)`);
  if (v.shape[v.rank - 2] !== lk) throw new GradkitError(op, `k ${fmtShape(k.shape)} and v ${fmtShape(v.shape)} must have the same number of keys (axis −2)`);
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  if (!Number.isFinite(scale)) throw new GradkitError(op, `scale must be a finite number, got ${scale}`);
  let scores = ops.mul(ops.matmul(q, ops.transpose(k)), scale);
  for (const [what, m] of masks) scores = applyMask(op, what, scores, m);
  if (opts.mask) scores = applyMask(op, 'mask', scores, opts.mask);
  if (opts.causal) scores = applyMask(op, 'causal mask', scores, causalMask(lq, lk));
  const weights = ops.softmax(scores, -1);
  // A causal mask alone always leaves key 0 (lk ≥ 1), so unmasked and causal-only calls skip the check.
  if (masks.length > 0 || opts.mask) checkWeights(op, scores, weights);
  const p = checkProb(op, opts.dropout ?? 0);
  const dropped = p > 0 && (opts.training ?? true) ? dropout(weights, { p, rng: opts.rng ?? getGlobalRng() }) : weights;
  return { output: ops.matmul(dropped, v), weights };
}

/**
 * softmax(Q·Kᵀ·scale + mask)·V over the last two axes, scale = 1/√d by default.
 * q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv] → [..., Lq, dv]; leading axes broadcast.
 *
 * `mask`: bool (true = blocked, as nn.MultiheadAttention; note this is the opposite of PyTorch's
 * functional scaled_dot_product_attention) or float (added). `causal` blocks future keys.
 *
 * ```ts
 * const y = nn.scaledDotProductAttention(q, k, v, { causal: true });
 * ```
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  return attention('scaledDotProductAttention', q, k, v, [], opts).output;
}

// ---- multi-head attention ------------------------------------------------------------------------

/** Options of the MultiheadAttention layer: dropout, biases, key/value sizes, initialization and dtype. */
export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights in training (default 0). */
  dropout?: number;
  /** Biases on the input and output projections (default true). */
  bias?: boolean;
  /** Feature size of the keys (default embedDim); another value gives separate q/k/v projection weights. */
  kdim?: number;
  /** Feature size of the values (default embedDim). */
  vdim?: number;
  rng?: Random;
  dtype?: FloatDType;
}

/** Per-call options of MultiheadAttention: padding and attention masks, causal masking and which weights to return. */
export interface MultiheadForwardOptions {
  /** [N, S] (or [S] unbatched): bool, true = this key is padding and is ignored; or float, added. */
  keyPaddingMask?: Tensor | null;
  /** [L, S] or [N·numHeads, L, S]: bool (true = blocked) or float (added to the scores). */
  attnMask?: Tensor | null;
  /** Also block future keys (key j for query i when j > i). */
  isCausal?: boolean;
  /** Return the attention weights (default true). */
  needWeights?: boolean;
  /** Average the weights over heads → [N, L, S] (default true); false gives [N, numHeads, L, S]. */
  averageAttnWeights?: boolean;
}

/** What MultiheadAttention returns: the attended output and (optionally) the attention weights. */
export interface MultiheadAttentionOutput {
  /** [N, L, E] (or [L, E] for unbatched input). */
  output: Tensor;
  /** Softmax weights before dropout; null when needWeights is false. */
  weights: Tensor | null;
}

/**
 * Multi-head attention: Q, K, V are projected by one packed weight inProjWeight [3E, E] (rows
 * q, k, v), split into numHeads heads of E/numHeads, attended separately, concatenated and
 * projected by outProj (Linear E→E). Inputs are batch-first [N, L, E] / [N, S, kdim] /
 * [N, S, vdim], or unbatched [L, E]. Key and value default to the query (self-attention).
 * With kdim or vdim ≠ E the projections are separate: qProjWeight [E, E], kProjWeight
 * [E, kdim], vProjWeight [E, vdim] (inProjWeight is then null), as in PyTorch.
 *
 * Init as PyTorch: projection weights Xavier-uniform, biases 0, outProj.weight U(−1/√E, 1/√E).
 *
 * ```ts
 * const mha = new nn.MultiheadAttention(64, 8, { dropout: 0.1 });
 * const { output, weights } = mha.call(x, x, x, { keyPaddingMask: pad });   // weights [N, L, S]
 * ```
 */
export class MultiheadAttention extends Module<[Tensor, Tensor?, Tensor?, MultiheadForwardOptions?], MultiheadAttentionOutput> {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly dropout: number;
  readonly kdim: number;
  readonly vdim: number;
  /** The packed [3E, E] projection when kdim = vdim = E; else null and the three below are used. */
  inProjWeight: Parameter | null;
  qProjWeight: Parameter | null;
  kProjWeight: Parameter | null;
  vProjWeight: Parameter | null;
  inProjBias: Parameter | null;
  outProj: Linear;

  constructor(embedDim: number, numHeads: number, readonly opts: MultiheadAttentionOptions = {}) {
    super();
    this.embedDim = checkSize('MultiheadAttention', 'embedDim', embedDim);
    this.numHeads = checkSize('MultiheadAttention', 'numHeads', numHeads);
    if (embedDim % numHeads !== 0) {
      throw new GradkitError('MultiheadAttention', `embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`);
    }
    this.headDim = embedDim / numHeads;
    this.dropout = checkProb('MultiheadAttention', opts.dropout ?? 0);
    const rng = opts.rng ?? getGlobalRng();
    const bias = opts.bias ?? true;
    this.kdim = checkSize('MultiheadAttention', 'kdim', opts.kdim ?? embedDim);
    this.vdim = checkSize('MultiheadAttention', 'vdim', opts.vdim ?? embedDim);
    const weight = (name: string, cols: number, rows = embedDim): Parameter => {
      const p = this.registerParameter(name, newParam([rows, cols], opts.dtype));
      xavierUniform(p, { rng });
      return p;
    };
    if (this.kdim === embedDim && this.vdim === embedDim) {
      this.inProjWeight = weight('inProjWeight', embedDim, 3 * embedDim);
      this.qProjWeight = this.kProjWeight = this.vProjWeight = null;
    } else {
      this.inProjWeight = null;
      this.qProjWeight = weight('qProjWeight', embedDim);
      this.kProjWeight = weight('kProjWeight', this.kdim);
      this.vProjWeight = weight('vProjWeight', this.vdim);
    }
    this.inProjBias = this.registerParameter('inProjBias', bias ? newParam([3 * embedDim], opts.dtype, ['noDecay']) : null);
    const k = 1 / Math.sqrt(embedDim);
    this.outProj = this.registerModule('outProj', new Linear(embedDim, embedDim, {
      bias, dtype: opts.dtype, rng, init: (w, r) => void uniform(w, { low: -k, high: k, rng: r }),
    }));
    if (this.outProj.bias) constant(this.outProj.bias, 0);
  }

  override forward(query: Tensor, key: Tensor = query, value: Tensor = key, opts: MultiheadForwardOptions = {}): MultiheadAttentionOutput {
    const op = 'MultiheadAttention';
    const e = this.embedDim;
    const unbatched = query.rank === 2;
    for (const [name, t, dim, len] of [['query', query, e, 'L'], ['key', key, this.kdim, 'S'], ['value', value, this.vdim, 'S']] as const) {
      if (t.rank !== (unbatched ? 2 : 3) || t.shape[t.rank - 1] !== dim) {
        throw new GradkitError(op, `${name} must be [N, ${len}, ${dim}] (or [${len}, ${dim}] unbatched, like the query), got ${fmtShape(t.shape)}`);
      }
    }
    const q3 = unbatched ? ops.unsqueeze(query, 0) : query;
    const k3 = unbatched ? ops.unsqueeze(key, 0) : key;
    const v3 = unbatched ? ops.unsqueeze(value, 0) : value;
    const [n, l] = q3.shape;
    const s = k3.shape[1];
    if (k3.shape[0] !== n || v3.shape[0] !== n) {
      throw new GradkitError(op, `query, key and value must have the same batch size, got ${fmtShape(query.shape)}, ${fmtShape(key.shape)}, ${fmtShape(value.shape)}`);
    }
    if (v3.shape[1] !== s) throw new GradkitError(op, `key ${fmtShape(key.shape)} and value ${fmtShape(value.shape)} must have the same length S`);

    const [wq, wk, wv] = this.inProjWeight !== null
      ? ops.split(this.inProjWeight, 3, 0)
      : [this.qProjWeight!, this.kProjWeight!, this.vProjWeight!];
    const [bq, bk, bv] = this.inProjBias ? ops.split(this.inProjBias, 3, 0) : [null, null, null];
    // [N, L, E] → [N, heads, L, headDim]
    const heads = (x: Tensor, len: number): Tensor => ops.permute(ops.reshape(x, [n, len, this.numHeads, this.headDim]), [0, 2, 1, 3]);
    const q = heads(linear(q3, wq, bq), l);
    const k = heads(linear(k3, wk, bk), s);
    const v = heads(linear(v3, wv, bv), s);

    const masks: [string, Tensor][] = [];
    if (opts.keyPaddingMask) {
      const kpm = opts.keyPaddingMask;
      const want = unbatched ? [s] : [n, s];
      if (kpm.rank !== want.length || kpm.shape.some((d, i) => d !== want[i])) {
        throw new GradkitError(op, `keyPaddingMask must be ${fmtShape(want)} (${unbatched ? 'S' : 'N, S'}), got ${fmtShape(kpm.shape)}`);
      }
      masks.push(['keyPaddingMask', ops.reshape(kpm, [unbatched ? 1 : n, 1, 1, s])]);
    }
    if (opts.attnMask) {
      const am = opts.attnMask;
      if (am.rank === 2 && am.shape[0] === l && am.shape[1] === s) masks.push(['attnMask', am]);
      else if (am.rank === 3 && am.shape[0] === n * this.numHeads && am.shape[1] === l && am.shape[2] === s) {
        masks.push(['attnMask', ops.reshape(am, [n, this.numHeads, l, s])]);
      } else {
        throw new GradkitError(op, `attnMask must be [L, S] = ${fmtShape([l, s])} or [N·numHeads, L, S] = ${fmtShape([n * this.numHeads, l, s])}, got ${fmtShape(am.shape)}`);
      }
    }
    const r = attention(op, q, k, v, masks, {
      causal: opts.isCausal, dropout: this.dropout, training: this.training, rng: this.opts.rng,
    });
    // [N, heads, L, headDim] → [N, L, E]
    let out = this.outProj.call(ops.reshape(ops.permute(r.output, [0, 2, 1, 3]), [n, l, e]));
    let weights: Tensor | null = null;
    if (opts.needWeights ?? true) {
      weights = (opts.averageAttnWeights ?? true) ? ops.mean(r.weights, 1) : r.weights;
      if (unbatched) weights = ops.squeeze(weights, 0);
    }
    if (unbatched) out = ops.squeeze(out, 0);
    return { output: out, weights };
  }

  override extraRepr(): string {
    const dims = this.inProjWeight === null ? `, kdim=${this.kdim}, vdim=${this.vdim}` : '';
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}${dims}, dropout=${this.dropout}, bias=${this.inProjBias !== null}`;
  }
}

// ---- Transformer encoder layer -------------------------------------------------------------------

/** Options of TransformerEncoderLayer: feed-forward width, dropout, activation, norm placement and biases. */
export interface TransformerEncoderLayerOptions {
  /** Hidden width of the feed-forward block (default 2048, as PyTorch). */
  dimFeedforward?: number;
  /** Dropout after attention, inside and after the feed-forward block (default 0.1). */
  dropout?: number;
  /** Feed-forward nonlinearity (default 'relu'). */
  activation?: 'relu' | 'gelu';
  /** LayerNorm eps (default 1e-5). */
  layerNormEps?: number;
  /** Pre-norm (x + f(norm(x))) when true; post-norm (norm(x + f(x)), the original) by default. */
  normFirst?: boolean;
  /** Biases in the attention and feed-forward linear layers (default true; the LayerNorms keep theirs). */
  bias?: boolean;
  rng?: Random;
  dtype?: FloatDType;
}

/** Per-call options of the Transformer encoder (layer or stack): the attention mask, padding mask and causal masking. */
export interface EncoderForwardOptions {
  /** [L, L] or [N·nhead, L, L]: bool (true = blocked) or float (added). */
  srcMask?: Tensor | null;
  /** [N, L]: true marks padding tokens that no position attends to. */
  srcKeyPaddingMask?: Tensor | null;
  /** Block attention to later positions. */
  isCausal?: boolean;
}

/**
 * One Transformer encoder layer, batch-first [N, L, dModel]: self-attention then a position-wise
 * feed-forward block (Linear dModel→dimFeedforward, activation, dropout, Linear back), each with
 * dropout and a residual connection and LayerNorm.
 *
 * - post-norm (default, the original paper): x = norm1(x + sa(x)); x = norm2(x + ff(x))
 * - `normFirst: true` (pre-norm, more stable for deep stacks): x = x + sa(norm1(x)); x = x + ff(norm2(x))
 *
 * Init: selfAttn as MultiheadAttention; linear1 He (it feeds the ReLU/GELU), linear2 Xavier.
 */
export class TransformerEncoderLayer extends Module<[Tensor, EncoderForwardOptions?], Tensor> {
  readonly dModel: number;
  readonly nhead: number;
  readonly dimFeedforward: number;
  readonly activation: 'relu' | 'gelu';
  readonly normFirst: boolean;
  selfAttn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;

  constructor(dModel: number, nhead: number, opts: TransformerEncoderLayerOptions = {}) {
    super();
    const op = 'TransformerEncoderLayer';
    this.dModel = checkSize(op, 'dModel', dModel);
    this.nhead = checkSize(op, 'nhead', nhead);
    this.dimFeedforward = checkSize(op, 'dimFeedforward', opts.dimFeedforward ?? 2048);
    const p = checkProb(op, opts.dropout ?? 0.1);
    const act = opts.activation ?? 'relu';
    if (act !== 'relu' && act !== 'gelu') throw new GradkitError(op, `activation must be 'relu' or 'gelu', got '${String(act)}'`);
    this.activation = act;
    this.normFirst = opts.normFirst ?? false;
    const bias = opts.bias ?? true;
    const rng = opts.rng ?? getGlobalRng();
    const common = { bias, dtype: opts.dtype, rng };
    this.selfAttn = new MultiheadAttention(dModel, nhead, { dropout: p, ...common });
    this.linear1 = new Linear(dModel, this.dimFeedforward, { ...common, init: 'he' });
    this.dropout = new Dropout({ p, rng: opts.rng });
    this.linear2 = new Linear(this.dimFeedforward, dModel, { ...common, init: 'xavier' });
    const norm = { eps: opts.layerNormEps ?? 1e-5, dtype: opts.dtype };
    this.norm1 = new LayerNorm(dModel, norm);
    this.norm2 = new LayerNorm(dModel, norm);
    this.dropout1 = new Dropout({ p, rng: opts.rng });
    this.dropout2 = new Dropout({ p, rng: opts.rng });
  }

  private selfAttention(x: Tensor, opts: EncoderForwardOptions): Tensor {
    const { output } = this.selfAttn.call(x, x, x, {
      attnMask: opts.srcMask, keyPaddingMask: opts.srcKeyPaddingMask, isCausal: opts.isCausal, needWeights: false,
    });
    return this.dropout1.call(output);
  }

  private feedForward(x: Tensor): Tensor {
    const h = this.linear1.call(x);
    const a = this.activation === 'relu' ? ops.relu(h) : gelu(h);
    return this.dropout2.call(this.linear2.call(this.dropout.call(a)));
  }

  override forward(src: Tensor, opts: EncoderForwardOptions = {}): Tensor {
    if (src.rank !== 3 || src.shape[2] !== this.dModel) {
      throw new GradkitError('TransformerEncoderLayer', `expected batch-first input [N, L, ${this.dModel}], got ${fmtShape(src.shape)}`);
    }
    let x = src;
    if (this.normFirst) {
      x = ops.add(x, this.selfAttention(this.norm1.call(x), opts));
      return ops.add(x, this.feedForward(this.norm2.call(x)));
    }
    x = this.norm1.call(ops.add(x, this.selfAttention(x, opts)));
    return this.norm2.call(ops.add(x, this.feedForward(x)));
  }

  override extraRepr(): string {
    return `dModel=${this.dModel}, nhead=${this.nhead}, dimFeedforward=${this.dimFeedforward}, activation='${this.activation}', normFirst=${this.normFirst}`;
  }
}

/** Options of TransformerEncoder: an optional final normalization after the stacked layers. */
export interface TransformerEncoderOptions {
  /** A final normalization after the last layer (PyTorch's `norm`; usual with pre-norm layers). */
  norm?: LayerNorm | null;
}

/**
 * A stack of encoder layers applied in order, then the optional final norm. Layers come from a
 * factory so each has its own parameters (PyTorch deep-copies one layer; we build fresh ones).
 *
 * ```ts
 * const enc = new nn.TransformerEncoder(() => new nn.TransformerEncoderLayer(64, 4, { normFirst: true }), 6,
 *   { norm: new nn.LayerNorm(64) });
 * const y = enc.call(x, { srcKeyPaddingMask: pad });   // x, y: [N, L, 64]
 * ```
 */
export class TransformerEncoder extends Module<[Tensor, EncoderForwardOptions?], Tensor> {
  layers: ModuleList<TransformerEncoderLayer>;
  norm: LayerNorm | null;

  constructor(makeLayer: (index: number) => TransformerEncoderLayer, numLayers: number, opts: TransformerEncoderOptions = {}) {
    super();
    checkSize('TransformerEncoder', 'numLayers', numLayers);
    if (typeof makeLayer !== 'function') throw new GradkitError('TransformerEncoder', 'makeLayer must be a function returning a new TransformerEncoderLayer');
    const layers: TransformerEncoderLayer[] = [];
    for (let i = 0; i < numLayers; i++) {
      const layer = makeLayer(i);
      if (!(layer instanceof TransformerEncoderLayer)) throw new GradkitError('TransformerEncoder', `makeLayer(${i}) must return a TransformerEncoderLayer`);
      if (layers.includes(layer)) throw new GradkitError('TransformerEncoder', `makeLayer(${i}) returned a layer already in the stack; build a new one per call so layers do not share parameters`);
      layers.push(layer);
    }
    this.layers = new ModuleList(layers);
    this.norm = opts.norm ?? null;
  }

  override forward(src: Tensor, opts: EncoderForwardOptions = {}): Tensor {
    let x = src;
    for (const layer of this.layers) x = layer.call(x, opts);
    return this.norm === null ? x : this.norm.call(x);
  }
}
