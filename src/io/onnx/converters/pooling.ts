/** Pooling layers and Flatten. */
import { AdaptiveAvgPool2d, AvgPool2d, GlobalAvgPool2d, MaxPool2d } from '../../../nn/conv.js';
import { Flatten } from '../../../nn/basic.js';
import { onnxAttr, type OnnxAttrValue } from '../graph.js';
import { registerOnnxConverter } from '../registry.js';
import { pairOf, type Pair } from './util.js';

/** kernel_shape, strides and pads of a window op (gradkit pads symmetrically; floor output size). */
function windowAttrs(kernelSize: Pair, stride: Pair | undefined, padding: Pair | undefined): Record<string, OnnxAttrValue> {
  const [ph, pw] = pairOf(padding ?? 0);
  return {
    kernel_shape: onnxAttr.ints(pairOf(kernelSize)),
    strides: onnxAttr.ints(pairOf(stride ?? kernelSize)),
    pads: onnxAttr.ints([ph, pw, ph, pw]),
  };
}

registerOnnxConverter(MaxPool2d, (m, x, ctx) => ctx.node('MaxPool', [x.name], windowAttrs(m.kernelSize, m.opts.stride, m.opts.padding)));

registerOnnxConverter(AvgPool2d, (m, x, ctx) => ctx.node('AveragePool', [x.name], {
  ...windowAttrs(m.kernelSize, m.opts.stride, m.opts.padding),
  count_include_pad: onnxAttr.int(m.opts.countIncludePad ?? true ? 1 : 0),
}));

registerOnnxConverter(GlobalAvgPool2d, (m, x, ctx) => {
  const pooled = ctx.node('GlobalAveragePool', [x.name]);
  return m.flatten ? ctx.node('Flatten', [pooled], { axis: onnxAttr.int(1) }) : pooled;
});

registerOnnxConverter(AdaptiveAvgPool2d, (m, x, ctx) => {
  const [oh, ow] = pairOf(m.outputSize);
  const [h, w] = [x.shape[2], x.shape[3]];
  if (oh === 1 && ow === 1) return ctx.node('GlobalAveragePool', [x.name]);
  // Bins of equal size are a plain average pool; uneven bins have no ONNX counterpart.
  if (h % oh !== 0 || w % ow !== 0) {
    ctx.fail(`output size ${oh}x${ow} does not divide the input ${h}x${w}; only 1x1 or evenly dividing output sizes can be exported`);
  }
  return ctx.node('AveragePool', [x.name], { kernel_shape: onnxAttr.ints([h / oh, w / ow]), strides: onnxAttr.ints([h / oh, w / ow]) });
});

registerOnnxConverter(Flatten, (m, x, ctx) => {
  const rank = x.shape.length;
  const start = m.startAxis < 0 ? rank + m.startAxis : m.startAxis;
  const end = m.endAxis < 0 ? rank + m.endAxis : m.endAxis;
  if (start >= end) return x.name; // nothing to merge
  if (start === 1 && end === rank - 1) return ctx.node('Flatten', [x.name], { axis: onnxAttr.int(1) });
  if (start === 0 && ctx.dynamicBatch) ctx.fail(`startAxis ${m.startAxis} merges the batch axis; export with dynamicBatch: false`);
  // Axes before the merged run are copied (0), the run is inferred (-1), the rest are fixed.
  const target = [...new Array<number>(start).fill(0), -1, ...x.shape.slice(end + 1)];
  return ctx.node('Reshape', [x.name, ctx.int64s(target)]);
});
