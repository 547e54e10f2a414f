import { GradkitError, fmtShape } from '../core/errors.js';
import type { Conv2dParams, Pool2dParams } from '../backend/kernels.js';
import { record, registerRules, type RuleTable, type Spec } from '../autograd/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { add } from './elementwise.js';
import { reshape } from './shape.js';
import { castTo, checkTensor, kernels, requireFloat, wrap } from './util.js';

/** A size per spatial axis: one number for both, or [height, width]. */
export type Pair = number | readonly [number, number];

/** Options of the `conv2d` op: stride, padding, dilation and groups. */
export interface Conv2dOptions {
  stride?: Pair;
  /** Zero padding per side: a number, [h, w], 'valid' (0) or 'same' (output size = input size; stride 1 only). */
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  groups?: number;
}

function pair(op: string, name: string, v: Pair, min: number): [number, number] {
  const ok = typeof v === 'number' || (Array.isArray(v) && v.length === 2);
  const p: [number, number] = typeof v === 'number' ? [v, v] : ok ? [v[0], v[1]] : [NaN, NaN];
  if (!p.every((x) => Number.isInteger(x) && x >= min)) {
    throw new GradkitError(op, `${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Resolves and validates conv geometry; every error names the shapes involved. */
export function conv2dParams(op: string, xShape: readonly number[], wShape: readonly number[], optsIn: Conv2dOptions | null | undefined): Conv2dParams {
  const opts = optsIn ?? {};
  if (xShape.length !== 4) throw new GradkitError(op, `input must be 4-D [N, C, H, W], got ${fmtShape(xShape)}`);
  if (wShape.length !== 4) throw new GradkitError(op, `weight must be 4-D [C_out, C_in/groups, kH, kW], got ${fmtShape(wShape)}`);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new GradkitError(op, `groups must be a positive integer, got ${groups}`);
  const [n, cIn, h, w] = xShape;
  const [cOut, cInG, kh, kw] = wShape;
  if (cIn % groups !== 0 || cOut % groups !== 0) {
    throw new GradkitError(op, `input channels (${cIn}) and output channels (${cOut}) must both be divisible by groups (${groups})`);
  }
  if (cInG * groups !== cIn) {
    throw new GradkitError(op, `weight ${fmtShape(wShape)} expects ${cInG * groups} input channels (${cInG} per group × ${groups} groups) but the input ${fmtShape(xShape)} has ${cIn}`);
  }
  const [sh, sw] = pair(op, 'stride', opts.stride ?? 1, 1);
  const [dh, dw] = pair(op, 'dilation', opts.dilation ?? 1, 1);
  let pt: number, pb: number, pl: number, pr: number;
  const padding = opts.padding ?? 0;
  if (padding === 'same') {
    if (sh !== 1 || sw !== 1) throw new GradkitError(op, `padding 'same' needs stride 1, got [${sh}, ${sw}]`);
    const th = dh * (kh - 1);
    const tw = dw * (kw - 1);
    // Odd totals put the extra pixel after (bottom/right), as PyTorch and TensorFlow do.
    [pt, pb, pl, pr] = [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  } else if (padding === 'valid') {
    [pt, pb, pl, pr] = [0, 0, 0, 0];
  } else if (typeof padding === 'string') {
    throw new GradkitError(op, `padding must be a number, a pair, 'same' or 'valid', got '${padding}'`);
  } else {
    const [ph, pw] = pair(op, 'padding', padding, 0);
    [pt, pb, pl, pr] = [ph, ph, pw, pw];
  }
  const effH = dh * (kh - 1) + 1;
  const effW = dw * (kw - 1) + 1;
  const outH = Math.floor((h + pt + pb - effH) / sh) + 1;
  const outW = Math.floor((w + pl + pr - effW) / sw) + 1;
  if (outH <= 0 || outW <= 0) {
    throw new GradkitError(op, `kernel ${kh}×${kw} (dilation ${dh}×${dw}) is larger than the padded input ${h + pt + pb}×${w + pl + pr} (input ${fmtShape(xShape)})`);
  }
  return {
    n, cIn, h, w, cOut, kh, kw, strideH: sh, strideW: sw, padTop: pt, padBottom: pb, padLeft: pl, padRight: pr,
    dilationH: dh, dilationW: dw, groups, outH, outW,
  };
}

/**
 * 2-D convolution (cross-correlation, as in every DL library) of NCHW input with an
 * [C_out, C_in/groups, kH, kW] weight, plus an optional [C_out] bias.
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  checkTensor('conv2d', 'input', x);
  checkTensor('conv2d', 'weight', weight);
  requireFloat('conv2d', x);
  requireFloat('conv2d', weight);
  const p = conv2dParams('conv2d', x.shape, weight.shape, opts);
  const dtype = x.dtype === 'float64' || weight.dtype === 'float64' ? 'float64' : 'float32';
  const xc = castTo(x, dtype);
  const wc = castTo(weight, dtype);
  const y = wrap(kernels().conv2d(xc.handle, wc.handle, p), [p.n, p.cOut, p.outH, p.outW]);
  const out = record('conv2d', y, [x, weight], [xc, wc], p);
  if (bias === undefined || bias === null) return out;
  checkTensor('conv2d', 'bias', bias);
  if (bias.rank !== 1 || bias.shape[0] !== p.cOut) {
    throw new GradkitError('conv2d', `bias must have shape [${p.cOut}] (one per output channel), got ${fmtShape(bias.shape)}`);
  }
  return add(out, reshape(bias, [1, p.cOut, 1, 1]));
}

/** Options of the pooling ops (maxPool2d, avgPool2d): window, stride, padding and how padding counts in averages. */
export interface Pool2dOptions {
  kernelSize: Pair;
  /** Default: kernelSize. */
  stride?: Pair;
  padding?: Pair;
  /** avgPool2d only: divide by the padded window size (true, PyTorch's default) or the in-bounds count. */
  countIncludePad?: boolean;
}

function poolParams(op: string, shape: readonly number[], opts: Pool2dOptions): Pool2dParams {
  if (shape.length !== 4) throw new GradkitError(op, `input must be 4-D [N, C, H, W], got ${fmtShape(shape)}`);
  if (opts === undefined || opts === null || opts.kernelSize === undefined) throw new GradkitError(op, 'kernelSize is required (options { kernelSize, stride?, padding? })');
  const [kh, kw] = pair(op, 'kernelSize', opts.kernelSize, 1);
  const [sh, sw] = pair(op, 'stride', opts.stride ?? opts.kernelSize, 1);
  const [ph, pw] = pair(op, 'padding', opts.padding ?? 0, 0);
  if (ph > kh / 2 || pw > kw / 2) throw new GradkitError(op, `padding [${ph}, ${pw}] must be at most half the kernel [${kh}, ${kw}]`);
  const [n, c, h, w] = shape;
  const outH = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const outW = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (outH <= 0 || outW <= 0) throw new GradkitError(op, `kernel ${kh}×${kw} is larger than the padded input (input ${fmtShape(shape)})`);
  return { n, c, h, w, kh, kw, strideH: sh, strideW: sw, padTop: ph, padLeft: pw, outH, outW, countIncludePad: opts.countIncludePad ?? true };
}

/** 2-D max pooling over [N, C, H, W] (kernel, stride, padding); the gradient goes to each window's max. */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  checkTensor('maxPool2d', 'input', x);
  requireFloat('maxPool2d', x);
  const p = poolParams('maxPool2d', x.shape, opts);
  const { out, argmax } = kernels().maxPool2d(x.handle, p);
  const outShape = [p.n, p.c, p.outH, p.outW];
  const y = wrap(out, outShape);
  return record('maxPool2d', y, [x], [wrap(argmax, outShape)], p);
}

/** 2-D average pooling over [N, C, H, W] (kernel, stride, padding; padded cells counted unless countIncludePad is false). */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  checkTensor('avgPool2d', 'input', x);
  requireFloat('avgPool2d', x);
  const p = poolParams('avgPool2d', x.shape, opts);
  const y = wrap(kernels().avgPool2d(x.handle, p), [p.n, p.c, p.outH, p.outW]);
  return record('avgPool2d', y, [x], [], p);
}

/** What each conv primitive's rule saves and its attributes (the resolved geometry). */
export interface ConvSpecs {
  /** x, w: input and weight in the product's dtype. */
  conv2d: Spec<[x: Tensor, w: Tensor], Conv2dParams>;
  /** argmax: per output, the flat index of its window's max. */
  maxPool2d: Spec<[argmax: Tensor], Pool2dParams>;
  avgPool2d: Spec<[], Pool2dParams>;
}

/** The conv family's primitives. */
export type ConvPrimitive = keyof ConvSpecs;

const convRules: RuleTable<ConvPrimitive> = {
  conv2d: (g, [xc, wc], p, needs) => [
    needs[0] ? wrap(kernels().conv2dBackwardInput(g.handle, wc.handle, p), xc.shape) : null,
    needs[1] ? wrap(kernels().conv2dBackwardFilter(xc.handle, g.handle, p), wc.shape) : null,
  ],
  maxPool2d: (g, [argmax], p) => [wrap(kernels().maxPool2dBackward(g.handle, argmax.handle, p), [p.n, p.c, p.h, p.w])],
  avgPool2d: (g, _saved, p) => [wrap(kernels().avgPool2dBackward(g.handle, p), [p.n, p.c, p.h, p.w])],
};
registerRules(convRules);
