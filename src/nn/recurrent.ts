/**
 * Recurrent layers: RNN (tanh/relu), LSTM, GRU. Batch-first, multi-layer, PyTorch's gate order
 * and parameter names, composed from public ops so autograd needs no rules of its own.
 *
 * Per layer the input projection x·W_ihᵀ + b_ih is one matmul over the whole sequence; only the
 * recurrent product h·W_hhᵀ runs inside the loop over time (it depends on the previous step).
 */
import type { FloatDType } from '../core/dtype.js';
import { GradkitError, fmtShape } from '../core/errors.js';
import { getGlobalRng, type Random } from '../core/rng.js';
import { shapesEqual } from '../core/shape.js';
import { zeros } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { dropout } from './functional.js';
import { uniform } from './init.js';
import { unstack } from './seq-unstack.js';
import { checkProb, checkSize, newParam } from './layer-options.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';

/** Options shared by RNN, LSTM and GRU: layers, bias, dropout between layers, direction and initialization. */
export interface RecurrentOptions {
  /** Stacked layers; layer l > 0 reads the outputs of layer l − 1 (default 1). */
  numLayers?: number;
  /** Learn biasIh{l} and biasHh{l} (default true). */
  bias?: boolean;
  /** Dropout on the outputs of every layer but the last, in training only (default 0), as in PyTorch. */
  dropout?: number;
  /**
   * Also run each layer backwards in time (default false). Outputs of both directions are
   * concatenated ([N, T, 2H]); states are [numLayers·2, N, H], layer-major (index 2l + d); the
   * reverse direction's parameters are weightIh{l}Reverse etc.
   */
  bidirectional?: boolean;
  /** Generator for the initial weights (default: the global one). */
  rng?: Random;
  /** Parameter dtype (default float32; float64 for gradient checks). */
  dtype?: FloatDType;
}

/** Options of the plain RNN: the recurrent options plus its nonlinearity (tanh or ReLU). */
export interface RNNOptions extends RecurrentOptions {
  /** h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh); default 'tanh'. */
  nonlinearity?: 'tanh' | 'relu';
}

/** The result of a recurrent layer: every step's top-layer output and each layer's final state. */
export interface RecurrentOutput {
  /** [N, T, H] ([N, T, 2H] bidirectional): the last layer's hidden state at every step. */
  output: Tensor;
  /** [numLayers·D, N, H] (D = 2 if bidirectional): each layer's hidden state after its last step. */
  hidden: Tensor;
}

/** What an LSTM returns: the outputs and final hidden states of every recurrent layer, plus the final cell states. */
export interface LSTMOutput extends RecurrentOutput {
  /** [numLayers·D, N, H]: each layer's cell state after its last step. */
  cell: Tensor;
}

/** Initial state; missing parts start at zero. Shapes [numLayers·D, N, H] (D = 2 if bidirectional). */
export interface RecurrentState {
  hidden?: Tensor;
}

/** The initial state an LSTM may start from: hidden and cell state, each optional. */
export interface LSTMState extends RecurrentState {
  cell?: Tensor;
}

type Mode = 'rnnTanh' | 'rnnRelu' | 'lstm' | 'gru';
const GATES: Record<Mode, number> = { rnnTanh: 1, rnnRelu: 1, lstm: 4, gru: 3 };

/** The per-layer weights a step needs (tensors, so a gradient check can pass its own). */
interface LayerWeights {
  wIh: Tensor;
  wHh: Tensor;
  bIh: Tensor | null;
  bHh: Tensor | null;
}

/**
 * Shared machinery of RNN/LSTM/GRU: parameter creation, input checks, the layer loop. Subclasses
 * only name themselves; the step functions below hold the maths.
 */
abstract class RecurrentBase<S extends RecurrentState, O extends RecurrentOutput> extends Module<[Tensor, S?], O> {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** 2 when bidirectional, else 1. */
  readonly numDirections: number;
  protected abstract readonly mode: Mode;
  /** Per-layer parameters as fields, PyTorch's names: weightIh0, weightHh0, biasIh0, biasHh0, weightIh1, … */
  [name: `${'weightIh' | 'weightHh' | 'biasIh' | 'biasHh'}${number}${'' | 'Reverse'}`]: Parameter;

  constructor(inputSize: number, hiddenSize: number, gates: number, opts: RecurrentOptions) {
    super();
    const name = this.constructor.name;
    this.inputSize = checkSize(name, 'inputSize', inputSize);
    this.hiddenSize = checkSize(name, 'hiddenSize', hiddenSize);
    this.numLayers = checkSize(name, 'numLayers', opts.numLayers ?? 1);
    this.bias = opts.bias ?? true;
    this.dropout = checkProb(name, opts.dropout ?? 0);
    this.bidirectional = opts.bidirectional ?? false;
    this.numDirections = this.bidirectional ? 2 : 1;
    const rng = opts.rng ?? getGlobalRng();
    // PyTorch's default: every weight and bias ~ U(−1/√H, 1/√H).
    const k = 1 / Math.sqrt(hiddenSize);
    const make = (pname: string, shape: number[], tags: string[] = []): void => {
      const p = this.registerParameter(pname, newParam(shape, opts.dtype, tags));
      uniform(p, { low: -k, high: k, rng });
      (this as unknown as Record<string, Parameter>)[pname] = p;
    };
    const gh = gates * hiddenSize;
    for (let l = 0; l < this.numLayers; l++) {
      for (const suffix of this.bidirectional ? ['', 'Reverse'] : ['']) {
        make(`weightIh${l}${suffix}`, [gh, l === 0 ? inputSize : hiddenSize * this.numDirections]);
        make(`weightHh${l}${suffix}`, [gh, hiddenSize]);
        if (this.bias) {
          make(`biasIh${l}${suffix}`, [gh], ['noDecay']);
          make(`biasHh${l}${suffix}`, [gh], ['noDecay']);
        }
      }
    }
  }

  /** Layer l's weights for direction d, read from the fields (so a reassigned field is what forward uses). */
  protected layerWeights(l: number, d = 0): LayerWeights {
    const self = this as unknown as Record<string, Tensor | undefined>;
    const sfx = d === 0 ? '' : 'Reverse';
    return {
      wIh: self[`weightIh${l}${sfx}`]!,
      wHh: self[`weightHh${l}${sfx}`]!,
      bIh: this.bias ? self[`biasIh${l}${sfx}`]! : null,
      bHh: this.bias ? self[`biasHh${l}${sfx}`]! : null,
    };
  }

  protected checkInput(x: Tensor): [number, number] {
    const name = this.constructor.name;
    if (x.rank !== 3 || x.shape[2] !== this.inputSize) {
      throw new GradkitError(name, `expected batch-first input [N, T, ${this.inputSize}], got ${fmtShape(x.shape)}`);
    }
    if (x.shape[0] === 0 || x.shape[1] === 0) throw new GradkitError(name, `input ${fmtShape(x.shape)} has no batch or no time steps`);
    return [x.shape[0], x.shape[1]];
  }

  /** The initial state as one [N, H] tensor per (layer, direction), layer-major. */
  protected checkState(what: string, s: Tensor | undefined, n: number, dtype: FloatDType): Tensor[] {
    const count = this.numLayers * this.numDirections;
    const want = [count, n, this.hiddenSize];
    if (s === undefined) return Array.from({ length: count }, () => zeros([n, this.hiddenSize], { dtype }));
    if (!shapesEqual(s.shape, want)) {
      const layout = this.bidirectional ? '[numLayers·2, N, H]' : '[numLayers, N, H]';
      throw new GradkitError(this.constructor.name, `initial ${what} must be ${layout} = ${fmtShape(want)}, got ${fmtShape(s.shape)}`);
    }
    return ops.split(s, count, 0).map((t) => ops.reshape(t, [n, this.hiddenSize]));
  }

  /** Runs every layer over the sequence; returns the top output and per-layer final states. */
  protected run(x: Tensor, h0: Tensor[], c0: Tensor[] | null): { output: Tensor; hs: Tensor[]; cs: Tensor[] } {
    let input = x;
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      if (l > 0 && this.dropout > 0) input = dropout(input, { p: this.dropout, training: this.training });
      const outs: Tensor[] = [];
      for (let d = 0; d < this.numDirections; d++) {
        const i = l * this.numDirections + d;
        const r = runLayer(this.mode, input, this.layerWeights(l, d), h0[i], c0 === null ? null : c0[i], d === 1);
        outs.push(r.output);
        hs.push(r.h);
        if (r.c !== null) cs.push(r.c);
      }
      input = outs.length === 1 ? outs[0] : ops.concat(outs, 2);
    }
    return { output: input, hs, cs };
  }

  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.numLayers !== 1) s += `, numLayers=${this.numLayers}`;
    if (!this.bias) s += ', bias=false';
    if (this.dropout !== 0) s += `, dropout=${this.dropout}`;
    if (this.bidirectional) s += ', bidirectional=true';
    return s;
  }
}

/** float dtype of a layer's computation: float64 if the input or the weights are. */
function floatOf(x: Tensor, w: Tensor): FloatDType {
  return x.dtype === 'float64' || w.dtype === 'float64' ? 'float64' : 'float32';
}

/**
 * One layer over the whole sequence. The input projection is computed for all steps at once,
 * then split per step along time (see unstack for why not a flat split); the loop applies the
 * recurrent part.
 */
function runLayer(mode: Mode, x: Tensor, w: LayerWeights, h0: Tensor, c0: Tensor | null, reverse: boolean): { output: Tensor; h: Tensor; c: Tensor | null } {
  let xp = ops.matmul(x, ops.transpose(w.wIh));
  if (w.bIh !== null) xp = ops.add(xp, w.bIh);
  // For RNN and LSTM both biases sit outside any product, so b_hh joins the one big addition.
  // GRU's b_hh (new gate) is multiplied by the reset gate and must stay inside the step.
  if (w.bHh !== null && mode !== 'gru') xp = ops.add(xp, w.bHh);
  const steps = unstack(xp, 1);
  // The reverse direction reads the sequence from the end; its outputs are put back in time order.
  if (reverse) steps.reverse();
  const wHhT = ops.transpose(w.wHh);
  let h = h0;
  let c = c0 ?? zeros(h0.shape, { dtype: floatOf(x, w.wIh) });
  const outs: Tensor[] = [];
  for (const xt of steps) {
    if (mode === 'lstm') [h, c] = lstmStep(xt, h, c, wHhT);
    else if (mode === 'gru') h = gruStep(xt, h, wHhT, w.bHh);
    else h = rnnStep(xt, h, wHhT, mode === 'rnnRelu' ? 'relu' : 'tanh');
    outs.push(h);
  }
  if (reverse) outs.reverse();
  return { output: ops.stack(outs, 1), h, c: mode === 'lstm' ? c : null };
}

/** h' = act(xp + h·W_hhᵀ), where xp already holds x·W_ihᵀ + b_ih + b_hh. */
function rnnStep(xp: Tensor, h: Tensor, wHhT: Tensor, act: 'tanh' | 'relu'): Tensor {
  const pre = ops.add(xp, ops.matmul(h, wHhT));
  return act === 'tanh' ? ops.tanh(pre) : ops.relu(pre);
}

/**
 * LSTM step, gates in PyTorch's order (input, forget, cell candidate, output):
 * i, f, o = σ(·), g = tanh(·); c' = f⊙c + i⊙g; h' = o⊙tanh(c').
 */
function lstmStep(xp: Tensor, h: Tensor, c: Tensor, wHhT: Tensor): [Tensor, Tensor] {
  const [ai, af, ag, ao] = ops.split(ops.add(xp, ops.matmul(h, wHhT)), 4, 1);
  const c2 = ops.add(ops.mul(ops.sigmoid(af), c), ops.mul(ops.sigmoid(ai), ops.tanh(ag)));
  return [ops.mul(ops.sigmoid(ao), ops.tanh(c2)), c2];
}

/**
 * GRU step, gates in PyTorch's order (reset, update, new):
 * r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r⊙h_n), h' = (1 − z)⊙n + z⊙h,
 * where x_* include b_ih and h_* = h·W_hhᵀ + b_hh.
 */
function gruStep(xp: Tensor, h: Tensor, wHhT: Tensor, bHh: Tensor | null): Tensor {
  let hp = ops.matmul(h, wHhT);
  if (bHh !== null) hp = ops.add(hp, bHh);
  const [xr, xz, xn] = ops.split(xp, 3, 1);
  const [hr, hz, hn] = ops.split(hp, 3, 1);
  const r = ops.sigmoid(ops.add(xr, hr));
  const z = ops.sigmoid(ops.add(xz, hz));
  const nGate = ops.tanh(ops.add(xn, ops.mul(r, hn)));
  // (1 − z)⊙n + z⊙h = n + z⊙(h − n): one product fewer.
  return ops.add(nGate, ops.mul(z, ops.sub(h, nGate)));
}

/**
 * Elman RNN: h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh), act tanh (default) or relu.
 *
 * Input [N, T, inputSize] (batch first); optional initial `{ hidden: [numLayers, N, H] }`.
 * Returns `{ output: [N, T, H], hidden: [numLayers, N, H] }`. Parameters per layer l:
 * weightIh{l} [H, in], weightHh{l} [H, H], biasIh{l} [H], biasHh{l} [H], all initialised
 * U(−1/√H, 1/√H) as in PyTorch.
 *
 * ```ts
 * const rnn = new nn.RNN(8, 16, { numLayers: 2 });
 * const { output, hidden } = rnn.call(x);   // x: [N, T, 8] → output [N, T, 16], hidden [2, N, 16]
 * ```
 */
export class RNN extends RecurrentBase<RecurrentState, RecurrentOutput> {
  readonly nonlinearity: 'tanh' | 'relu';
  protected readonly mode: Mode;
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super(inputSize, hiddenSize, GATES.rnnTanh, opts);
    const act = opts.nonlinearity ?? 'tanh';
    if (act !== 'tanh' && act !== 'relu') throw new GradkitError('RNN', `nonlinearity must be 'tanh' or 'relu', got '${String(act)}'`);
    this.nonlinearity = act;
    this.mode = act === 'tanh' ? 'rnnTanh' : 'rnnRelu';
  }
  override forward(x: Tensor, state: RecurrentState = {}): RecurrentOutput {
    const [n] = this.checkInput(x);
    const dtype = floatOf(x, this.layerWeights(0).wIh);
    const { output, hs } = this.run(x, this.checkState('hidden', state.hidden, n, dtype), null);
    return { output, hidden: ops.stack(hs, 0) };
  }
  override extraRepr(): string {
    return super.extraRepr() + (this.nonlinearity === 'relu' ? ", nonlinearity='relu'" : '');
  }
}

/**
 * Long short-term memory (Hochreiter & Schmidhuber), PyTorch's formulation and gate order
 * (input, forget, cell, output) stacked in weightIh{l} [4H, in], weightHh{l} [4H, H],
 * biasIh{l} / biasHh{l} [4H]; init U(−1/√H, 1/√H).
 *
 * Input [N, T, inputSize]; optional initial `{ hidden, cell }`, each [numLayers, N, H] (zeros
 * when missing). Returns `{ output: [N, T, H], hidden: [numLayers, N, H], cell: [numLayers, N, H] }`.
 */
export class LSTM extends RecurrentBase<LSTMState, LSTMOutput> {
  protected readonly mode: Mode = 'lstm';
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super(inputSize, hiddenSize, GATES.lstm, opts);
  }
  override forward(x: Tensor, state: LSTMState = {}): LSTMOutput {
    const [n] = this.checkInput(x);
    const dtype = floatOf(x, this.layerWeights(0).wIh);
    const h0 = this.checkState('hidden', state.hidden, n, dtype);
    const c0 = this.checkState('cell', state.cell, n, dtype);
    const { output, hs, cs } = this.run(x, h0, c0);
    return { output, hidden: ops.stack(hs, 0), cell: ops.stack(cs, 0) };
  }
}

/**
 * Gated recurrent unit (Cho et al.), PyTorch's formulation and gate order (reset, update, new):
 * r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
 * n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn)), h' = (1 − z)⊙n + z⊙h.
 * Weights weightIh{l} [3H, in], weightHh{l} [3H, H], biases [3H]; init U(−1/√H, 1/√H).
 *
 * Input [N, T, inputSize]; optional initial `{ hidden: [numLayers, N, H] }`.
 * Returns `{ output: [N, T, H], hidden: [numLayers, N, H] }`.
 */
export class GRU extends RecurrentBase<RecurrentState, RecurrentOutput> {
  protected readonly mode: Mode = 'gru';
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super(inputSize, hiddenSize, GATES.gru, opts);
  }
  override forward(x: Tensor, state: RecurrentState = {}): RecurrentOutput {
    const [n] = this.checkInput(x);
    const dtype = floatOf(x, this.layerWeights(0).wIh);
    const { output, hs } = this.run(x, this.checkState('hidden', state.hidden, n, dtype), null);
    return { output, hidden: ops.stack(hs, 0) };
  }
}
