/** BatchNorm1d/2d, LayerNorm, InstanceNorm2d and GroupNorm in their eval-mode form. */
import { BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm } from '../../../nn/normalization.js';
import type { Parameter } from '../../../nn/parameter.js';
import { onnxAttr } from '../graph.js';
import { registerOnnxConverter, type OnnxConverter, type OnnxConverterContext } from '../registry.js';
import { channelDims, reduce } from './util.js';
import { readSync } from '../../../tensor/host.js';

/** γ, or ones when the module has no affine scale (the ONNX ops require one). */
function scaleOf(ctx: OnnxConverterContext, weight: Parameter | null, dims: readonly number[]): string {
  return weight === null ? ctx.initializer('ones', dims, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(1)) : ctx.weight(weight, 'weight');
}

/** β, or zeros when the module has no affine shift. */
function shiftOf(ctx: OnnxConverterContext, bias: Parameter | null, dims: readonly number[]): string {
  return bias === null ? ctx.initializer('zeros', dims, new Float32Array(dims.reduce((a, b) => a * b, 1))) : ctx.weight(bias, 'bias');
}

/** Per-channel affine y·γ + β with γ, β of shape [C] broadcast from axis 1. */
function channelAffine(ctx: OnnxConverterContext, y: string, rank: number, weight: Parameter | null, bias: Parameter | null): string {
  const dims = (p: Parameter): number[] => channelDims(p.shape[0], rank);
  if (weight !== null) y = ctx.node('Mul', [y, ctx.initializer('weightC', dims(weight), readSync(weight))]);
  if (bias !== null) y = ctx.node('Add', [y, ctx.initializer('biasC', dims(bias), readSync(bias))]);
  return y;
}

const batchNorm: OnnxConverter<BatchNorm1d | BatchNorm2d> = (m, x, ctx) => {
  const c = m.numFeatures;
  if (m.runningMean !== null && m.runningVar !== null) {
    const inputs = [x.name, scaleOf(ctx, m.weight, [c]), shiftOf(ctx, m.bias, [c]), ctx.weight(m.runningMean, 'runningMean'), ctx.weight(m.runningVar, 'runningVar')];
    return ctx.node('BatchNormalization', inputs, { epsilon: onnxAttr.float(m.eps) });
  }
  // trackRunningStats false: eval normalizes with the batch's own mean and biased variance.
  const rank = x.shape.length;
  const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
  const centered = ctx.node('Sub', [x.name, reduce(ctx, 'ReduceMean', x.name, axes, true)]);
  const variance = reduce(ctx, 'ReduceMean', ctx.node('Mul', [centered, centered]), axes, true);
  const y = ctx.node('Div', [centered, ctx.node('Sqrt', [ctx.node('Add', [variance, ctx.scalar(m.eps)])])]);
  return channelAffine(ctx, y, rank, m.weight, m.bias);
};
registerOnnxConverter(BatchNorm1d, batchNorm);
registerOnnxConverter(BatchNorm2d, batchNorm);

registerOnnxConverter(LayerNorm, (m, x, ctx) => {
  const dims = m.normalizedShape;
  const inputs = [x.name, scaleOf(ctx, m.weight, dims), ...(m.bias === null ? [] : [ctx.weight(m.bias, 'bias')])];
  return ctx.node('LayerNormalization', inputs, { axis: onnxAttr.int(-dims.length), epsilon: onnxAttr.float(m.eps) });
});

registerOnnxConverter(InstanceNorm2d, (m, x, ctx) => {
  const c = m.numFeatures;
  return ctx.node('InstanceNormalization', [x.name, scaleOf(ctx, m.weight, [c]), shiftOf(ctx, m.bias, [c])], { epsilon: onnxAttr.float(m.eps) });
});

registerOnnxConverter(GroupNorm, (m, x, ctx) => {
  // Each group of a sample is one "instance" of [N, G, rest]: InstanceNormalization without
  // affine normalizes it (the opset-18 GroupNormalization op changed meaning in opset 21).
  const g = m.numGroups;
  const grouped = ctx.node('Reshape', [x.name, ctx.int64s([0, g, -1])]);
  const normalized = ctx.node('InstanceNormalization', [grouped, scaleOf(ctx, null, [g]), shiftOf(ctx, null, [g])], { epsilon: onnxAttr.float(m.eps) });
  const back = ctx.node('Reshape', [normalized, ctx.int64s([0, ...x.shape.slice(1)])]);
  return channelAffine(ctx, back, x.shape.length, m.weight, m.bias);
});
