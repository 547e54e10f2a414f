/** Activation modules. Formulas follow src/nn/functional.ts term by term. */
import { ELU, GELU, LeakyReLU, LogSoftmax, PReLU, ReLU, SELU, Sigmoid, SiLU, Softmax, Softplus, Swish, Tanh } from '../../../nn/activation.js';
import { SELU_ALPHA, SELU_SCALE } from '../../../nn/functional.js';
import { onnxAttr } from '../graph.js';
import { registerOnnxConverter, type OnnxConverterContext } from '../registry.js';
import { channelDims } from './util.js';
import { readSync } from '../../../tensor/host.js';

registerOnnxConverter(ReLU, (_m, x, ctx) => ctx.node('Relu', [x.name]));
registerOnnxConverter(Sigmoid, (_m, x, ctx) => ctx.node('Sigmoid', [x.name]));
registerOnnxConverter(Tanh, (_m, x, ctx) => ctx.node('Tanh', [x.name]));
registerOnnxConverter(LeakyReLU, (m, x, ctx) => ctx.node('LeakyRelu', [x.name], { alpha: onnxAttr.float(m.negativeSlope) }));
registerOnnxConverter(ELU, (m, x, ctx) => ctx.node('Elu', [x.name], { alpha: onnxAttr.float(m.alpha) }));
registerOnnxConverter(SELU, (_m, x, ctx) => ctx.node('Selu', [x.name], { alpha: onnxAttr.float(SELU_ALPHA), gamma: onnxAttr.float(SELU_SCALE) }));

registerOnnxConverter(PReLU, (m, x, ctx) => {
  const n = m.weight.size;
  // One α: a scalar; one per channel: [C, 1, …] so it broadcasts from axis 1 (PRelu broadcasts from the right).
  const dims = n === 1 ? [] : channelDims(n, x.shape.length);
  if (n !== 1 && (x.shape.length < 2 || x.shape[1] !== n)) ctx.fail(`has ${n} parameters but its input ${JSON.stringify(x.shape)} has no matching channel axis`);
  return ctx.node('PRelu', [x.name, ctx.initializer('weight', dims, readSync(m.weight))]);
});

/** x·σ(βx) with β a number or a learnable [1] tensor. */
function swish(ctx: OnnxConverterContext, x: string, beta: string | null): string {
  const gate = ctx.node('Sigmoid', [beta === null ? x : ctx.node('Mul', [x, beta])]);
  return ctx.node('Mul', [x, gate]);
}

registerOnnxConverter(SiLU, (_m, x, ctx) => swish(ctx, x.name, null));
registerOnnxConverter(Swish, (m, x, ctx) => {
  if (typeof m.beta === 'number') return swish(ctx, x.name, m.beta === 1 ? null : ctx.scalar(m.beta));
  return swish(ctx, x.name, ctx.initializer('beta', [], readSync(m.beta)));
});

registerOnnxConverter(GELU, (m, x, ctx) => {
  // ONNX has Gelu only from opset 20, so both forms are written out.
  const half = ctx.node('Mul', [x.name, ctx.scalar(0.5)]);
  if ((m.opts.approximate ?? 'none') === 'none') {
    const erf = ctx.node('Erf', [ctx.node('Mul', [x.name, ctx.scalar(Math.SQRT1_2)])]);
    return ctx.node('Mul', [half, ctx.node('Add', [erf, ctx.scalar(1)])]);
  }
  const cube = ctx.node('Mul', [ctx.node('Mul', [x.name, x.name]), x.name]);
  const inner = ctx.node('Mul', [ctx.node('Add', [x.name, ctx.node('Mul', [cube, ctx.scalar(0.044715)])]), ctx.scalar(Math.sqrt(2 / Math.PI))]);
  return ctx.node('Mul', [half, ctx.node('Add', [ctx.node('Tanh', [inner]), ctx.scalar(1)])]);
});

registerOnnxConverter(Softplus, (m, x, ctx) => {
  const beta = m.opts.beta ?? 1;
  const threshold = ctx.scalar(m.opts.threshold ?? 20);
  const bx = beta === 1 ? x.name : ctx.node('Mul', [x.name, ctx.scalar(beta)]);
  // Linear above the threshold, as the module (and PyTorch) computes it.
  const soft = ctx.node('Softplus', [ctx.node('Min', [bx, threshold])]);
  const y = ctx.node('Where', [ctx.node('Greater', [bx, threshold]), bx, soft]);
  return beta === 1 ? y : ctx.node('Div', [y, ctx.scalar(beta)]);
});

registerOnnxConverter(Softmax, (m, x, ctx) => ctx.node('Softmax', [x.name], { axis: onnxAttr.int(m.axis) }));
registerOnnxConverter(LogSoftmax, (m, x, ctx) => ctx.node('LogSoftmax', [x.name], { axis: onnxAttr.int(m.axis) }));
