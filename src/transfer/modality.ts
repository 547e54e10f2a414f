/**
 * Modality transfer between grayscale and colour: a network trained on RGB expects 3 input
 * channels. Either copy the gray channel three times (grayscaleToRgb), or fold the first
 * convolution's three input-channel filters into one by summing them (conv1ToGrayscale): for
 * a gray image both give exactly the same output, the second at a third of the first layer's cost.
 */
import { GradkitError, fmtShape } from '../core/errors.js';
import { noGrad } from '../autograd/engine.js';
import { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { Conv2d } from '../nn/conv.js';

/** [N, 1, H, W] → [N, 3, H, W] (or [1, H, W] → [3, H, W]), the channel copied; differentiable. */
export function grayscaleToRgb(x: Tensor): Tensor {
  const op = 'grayscaleToRgb';
  if (!(x instanceof Tensor)) throw new GradkitError(op, `expected a Tensor, got ${x === null ? 'null' : typeof x}`);
  const axis = x.rank === 4 ? 1 : x.rank === 3 ? 0 : -1;
  if (axis < 0 || x.shape[axis] !== 1) {
    throw new GradkitError(op, `expected one channel, [N, 1, H, W] or [1, H, W], got ${fmtShape(x.shape)}`);
  }
  return ops.concat([x, x, x], axis);
}

/**
 * A copy of `conv` (trained on 3-channel input) that takes 1 channel: its weights summed over
 * the input channels, the bias kept. conv1ToGrayscale(conv)(g) equals conv(grayscaleToRgb(g)).
 */
export function conv1ToGrayscale(conv: Conv2d): Conv2d {
  const op = 'conv1ToGrayscale';
  if (!(conv instanceof Conv2d)) throw new GradkitError(op, `expected an nn.Conv2d, got ${conv === null ? 'null' : typeof conv}`);
  if (conv.groups !== 1) throw new GradkitError(op, `grouped convolutions (groups=${conv.groups}) cannot be folded; expected groups 1`);
  if (conv.inChannels < 2) throw new GradkitError(op, `the conv already has ${conv.inChannels} input channel`);
  const out = new Conv2d(1, conv.outChannels, conv.kernelSize, {
    stride: conv.stride, padding: conv.padding, dilation: conv.dilation, bias: conv.bias !== null, dtype: conv.weight.dtype as 'float32' | 'float64',
  });
  noGrad(() => {
    out.weight.assign(ops.sum(conv.weight, 1, { keepDims: true }).dataSync());
    if (conv.bias !== null && out.bias !== null) out.bias.assign(conv.bias.dataSync());
  });
  out.train(conv.training);
  return out;
}
