/**
 * Method-style access to the ops (x.add(y).relu()), attached to Tensor.prototype here so that
 * tensor.ts does not import the ops (which import tensor.ts). Importing the package entry
 * installs them.
 */
import type { DType } from '../core/dtype.js';
import * as ops from '../ops/index.js';
import type { Conv2dOptions, Pool2dOptions, ReduceOptions, TensorLike, VarianceOptions } from '../ops/index.js';
import { Tensor } from './tensor.js';

type Axis = number | readonly number[];

declare module './tensor.js' {
  interface Tensor {
    add(b: TensorLike): Tensor;
    sub(b: TensorLike): Tensor;
    mul(b: TensorLike): Tensor;
    div(b: TensorLike): Tensor;
    pow(b: TensorLike): Tensor;
    maximum(b: TensorLike): Tensor;
    minimum(b: TensorLike): Tensor;
    eq(b: TensorLike): Tensor;
    ne(b: TensorLike): Tensor;
    lt(b: TensorLike): Tensor;
    le(b: TensorLike): Tensor;
    gt(b: TensorLike): Tensor;
    ge(b: TensorLike): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    sqrt(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    log1p(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    square(): Tensor;
    sign(): Tensor;
    clamp(min?: number, max?: number): Tensor;
    cast(dtype: DType): Tensor;
    sum(axis?: Axis, opts?: ReduceOptions): Tensor;
    mean(axis?: Axis, opts?: ReduceOptions): Tensor;
    max(axis?: Axis, opts?: ReduceOptions): Tensor;
    min(axis?: Axis, opts?: ReduceOptions): Tensor;
    var(axis?: Axis, opts?: VarianceOptions): Tensor;
    std(axis?: Axis, opts?: VarianceOptions): Tensor;
    logSumExp(axis?: Axis, opts?: ReduceOptions): Tensor;
    argmax(axis?: number, opts?: ReduceOptions): Tensor;
    argmin(axis?: number, opts?: ReduceOptions): Tensor;
    matmul(b: Tensor): Tensor;
    reshape(shape: readonly number[]): Tensor;
    flatten(startAxis?: number, endAxis?: number): Tensor;
    permute(perm?: readonly number[]): Tensor;
    transpose(axis0?: number, axis1?: number): Tensor;
    /** Matrix transpose of the last two axes. */
    readonly T: Tensor;
    squeeze(axis?: Axis): Tensor;
    unsqueeze(axis: number): Tensor;
    expand(shape: readonly number[]): Tensor;
    slice(begin: readonly number[], end?: readonly (number | undefined)[], step?: readonly number[]): Tensor;
    split(sizes: number | readonly number[], axis?: number): Tensor[];
    pad(pads: readonly (readonly [number, number])[], value?: number): Tensor;
    indexSelect(axis: number, indices: Tensor): Tensor;
    gather(axis: number, index: Tensor): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    conv2d(weight: Tensor, bias?: Tensor | null, opts?: Conv2dOptions): Tensor;
    maxPool2d(opts: Pool2dOptions): Tensor;
    avgPool2d(opts: Pool2dOptions): Tensor;
  }
}

const P = Tensor.prototype;
P.add = function (b) { return ops.add(this, b); };
P.sub = function (b) { return ops.sub(this, b); };
P.mul = function (b) { return ops.mul(this, b); };
P.div = function (b) { return ops.div(this, b); };
P.pow = function (b) { return ops.pow(this, b); };
P.maximum = function (b) { return ops.maximum(this, b); };
P.minimum = function (b) { return ops.minimum(this, b); };
P.eq = function (b) { return ops.eq(this, b); };
P.ne = function (b) { return ops.ne(this, b); };
P.lt = function (b) { return ops.lt(this, b); };
P.le = function (b) { return ops.le(this, b); };
P.gt = function (b) { return ops.gt(this, b); };
P.ge = function (b) { return ops.ge(this, b); };
P.neg = function () { return ops.neg(this); };
P.abs = function () { return ops.abs(this); };
P.sqrt = function () { return ops.sqrt(this); };
P.exp = function () { return ops.exp(this); };
P.log = function () { return ops.log(this); };
P.log1p = function () { return ops.log1p(this); };
P.sin = function () { return ops.sin(this); };
P.cos = function () { return ops.cos(this); };
P.tanh = function () { return ops.tanh(this); };
P.sigmoid = function () { return ops.sigmoid(this); };
P.relu = function () { return ops.relu(this); };
P.square = function () { return ops.square(this); };
P.sign = function () { return ops.sign(this); };
P.clamp = function (min, max) { return ops.clamp(this, min, max); };
P.cast = function (dtype) { return ops.cast(this, dtype); };
P.sum = function (axis, opts) { return ops.sum(this, axis, opts); };
P.mean = function (axis, opts) { return ops.mean(this, axis, opts); };
P.max = function (axis, opts) { return ops.max(this, axis, opts); };
P.min = function (axis, opts) { return ops.min(this, axis, opts); };
P.var = function (axis, opts) { return ops.variance(this, axis, opts); };
P.std = function (axis, opts) { return ops.std(this, axis, opts); };
P.logSumExp = function (axis, opts) { return ops.logSumExp(this, axis, opts); };
P.argmax = function (axis, opts) { return ops.argmax(this, axis, opts); };
P.argmin = function (axis, opts) { return ops.argmin(this, axis, opts); };
P.matmul = function (b) { return ops.matmul(this, b); };
P.reshape = function (shape) { return ops.reshape(this, shape); };
P.flatten = function (s, e) { return ops.flatten(this, s, e); };
P.permute = function (perm) { return ops.permute(this, perm); };
P.transpose = function (a, b) { return ops.transpose(this, a, b); };
Object.defineProperty(P, 'T', { get(this: Tensor) { return ops.transpose(this); } });
P.squeeze = function (axis) { return ops.squeeze(this, axis); };
P.unsqueeze = function (axis) { return ops.unsqueeze(this, axis); };
P.expand = function (shape) { return ops.expand(this, shape); };
P.slice = function (b, e, s) { return ops.slice(this, b, e, s); };
P.split = function (sizes, axis) { return ops.split(this, sizes, axis); };
P.pad = function (pads, value) { return ops.pad(this, pads, value); };
P.indexSelect = function (axis, idx) { return ops.indexSelect(this, axis, idx); };
P.gather = function (axis, idx) { return ops.gather(this, axis, idx); };
P.softmax = function (axis) { return ops.softmax(this, axis); };
P.logSoftmax = function (axis) { return ops.logSoftmax(this, axis); };
P.conv2d = function (w, b, o) { return ops.conv2d(this, w, b, o); };
P.maxPool2d = function (o) { return ops.maxPool2d(this, o); };
P.avgPool2d = function (o) { return ops.avgPool2d(this, o); };
