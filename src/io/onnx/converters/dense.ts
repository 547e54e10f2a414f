/** Linear (Gemm, or MatMul + Add beyond 2-D), Conv2d (Conv) and Maxout. */
import { Linear } from '../../../nn/linear.js';
import { Conv2d } from '../../../nn/conv.js';
import { Maxout } from '../../../nn/activation.js';
import { onnxAttr } from '../graph.js';
import { registerOnnxConverter } from '../registry.js';
import { pairOf, reduce } from './util.js';
import { readSync } from '../../../tensor/host.js';

registerOnnxConverter(Linear, (m, x, ctx) => {
  const bias = m.bias === null ? [] : [ctx.weight(m.bias, 'bias')];
  // Gemm is the one fused op ONNX Runtime optimizes best, but it takes 2-D inputs only.
  if (x.shape.length === 2) return ctx.node('Gemm', [x.name, ctx.weight(m.weight, 'weight'), ...bias], { transB: onnxAttr.int(1) });
  const [out, inF] = m.weight.shape;
  const w = readSync(m.weight);
  const wt = new Float64Array(out * inF);
  for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) wt[i * out + o] = w[o * inF + i];
  const y = ctx.node('MatMul', [x.name, ctx.initializer('weightT', [inF, out], wt)]);
  return bias.length === 0 ? y : ctx.node('Add', [y, bias[0]]);
});

registerOnnxConverter(Conv2d, (m, x, ctx) => {
  const [kh, kw] = m.kernelSize;
  const [sh, sw] = pairOf(m.stride);
  const [dh, dw] = pairOf(m.dilation);
  let pads: [number, number, number, number]; // ONNX order: top, left, bottom, right
  if (m.padding === 'same') {
    // As ops.conv2d: an odd total puts the extra pixel at the bottom/right.
    const th = dh * (kh - 1);
    const tw = dw * (kw - 1);
    pads = [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
  } else if (m.padding === 'valid') {
    pads = [0, 0, 0, 0];
  } else {
    const [ph, pw] = pairOf(m.padding);
    pads = [ph, pw, ph, pw];
  }
  const inputs = [x.name, ctx.weight(m.weight, 'weight'), ...(m.bias === null ? [] : [ctx.weight(m.bias, 'bias')])];
  return ctx.node('Conv', inputs, {
    kernel_shape: onnxAttr.ints([kh, kw]),
    strides: onnxAttr.ints([sh, sw]),
    dilations: onnxAttr.ints([dh, dw]),
    pads: onnxAttr.ints(pads),
    group: onnxAttr.int(m.groups),
  });
});

registerOnnxConverter(Maxout, (m, x, ctx) => {
  const y = ctx.convert(m.linear, x, 'linear');
  // [..., units·k] → [..., units, k] (leading axes copied with 0) → max over the k pieces.
  const lead = new Array<number>(y.shape.length - 1).fill(0);
  const grouped = ctx.node('Reshape', [y.name, ctx.int64s([...lead, m.outFeatures, m.k])]);
  return reduce(ctx, 'ReduceMax', grouped, [-1], false);
});
