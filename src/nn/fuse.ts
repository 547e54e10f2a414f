/**
 * Folding an eval-mode BatchNorm into the Linear/Conv2d before it, for inference: with
 * s = γ/√(σ² + ε), the fused layer has W' = s·W (per output unit) and b' = s·(b − μ) + β,
 * so W'x + b' equals BN(Wx + b) computed with the running statistics.
 */
import { GradkitError } from '../core/errors.js';
import { noGrad } from '../autograd/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { Identity } from './basic.js';
import { Sequential } from './containers.js';
import { Conv2d } from './conv.js';
import { Linear } from './linear.js';
import type { AnyModule } from './module.js';
import { BatchNorm1d, BatchNorm2d } from './normalization.js';

type BatchNorm = BatchNorm1d | BatchNorm2d;

/** [s, shift] of an eval BatchNorm as an affine map per channel. */
function bnAffine(op: string, bn: BatchNorm, channels: number): [Tensor, Tensor] {
  if (bn.runningMean === null || bn.runningVar === null) {
    throw new GradkitError(op, 'the BatchNorm has no running statistics (trackRunningStats false), so it is not a fixed affine map');
  }
  if (bn.numFeatures !== channels) throw new GradkitError(op, `the layer has ${channels} outputs but the BatchNorm has ${bn.numFeatures} features`);
  let s = ops.div(1, ops.sqrt(ops.add(bn.runningVar, bn.eps)));
  if (bn.weight) s = ops.mul(s, bn.weight);
  let shift = ops.neg(ops.mul(bn.runningMean, s));
  if (bn.bias) shift = ops.add(shift, bn.bias);
  return [s, shift];
}

function fusedValues(op: string, layer: Linear | Conv2d, bn: BatchNorm): [Tensor, Tensor] {
  const { weight, bias } = layer;
  // BatchNorm after a layer's own activation (or pooling) is not an affine map of its output.
  if (layer.activation !== 'none' || (layer instanceof Conv2d && layer.maxPool !== null)) {
    throw new GradkitError(op, 'the layer applies its own activation or pooling (nn.fuse), so a BatchNorm after it cannot be folded in; fold BatchNorm first');
  }
  return noGrad(() => {
    const [s, shift] = bnAffine(op, bn, weight.shape[0]);
    const w = ops.mul(weight, ops.reshape(s, [weight.shape[0], ...new Array<number>(weight.rank - 1).fill(1)]));
    const b = bias === null ? shift : ops.add(ops.mul(bias, s), shift);
    return [w, b];
  });
}

/** A new Linear equal to bn(linear(x)) for an eval-mode BatchNorm1d. */
export function fuseLinearBn(linear: Linear, bn: BatchNorm1d): Linear {
  const [w, b] = fusedValues('fuseLinearBn', linear, bn);
  const out = new Linear(linear.inFeatures, linear.outFeatures, { dtype: w.dtype === 'float64' ? 'float64' : 'float32', init: () => {} });
  out.weight.assign(w);
  out.bias!.assign(b);
  return out.train(linear.training);
}

/** A new Conv2d equal to bn(conv(x)) for an eval-mode BatchNorm2d. */
export function fuseConvBn(conv: Conv2d, bn: BatchNorm2d): Conv2d {
  const [w, b] = fusedValues('fuseConvBn', conv, bn);
  const out = new Conv2d(conv.inChannels, conv.outChannels, conv.kernelSize, {
    stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups,
    dtype: w.dtype === 'float64' ? 'float64' : 'float32', init: () => {},
  });
  out.weight.assign(w);
  out.bias!.assign(b);
  return out.train(conv.training);
}

/**
 * Fuses, in place, every Linear→BatchNorm1d and Conv2d→BatchNorm2d pair that sits next to each
 * other in a Sequential anywhere in `model`: the pair becomes the fused layer followed by an
 * Identity (so indices and names stay stable). The model must be in eval mode, since only then
 * is BatchNorm a fixed affine map. Returns the model and the number of pairs fused.
 *
 * ```ts
 * model.eval();
 * const { fused } = nn.fuseBatchNorm(model);   // same outputs, fewer passes at inference
 * ```
 */
export function fuseBatchNorm<M extends AnyModule>(model: M): { model: M; fused: number } {
  let fused = 0;
  for (const m of [...model.modules()]) {
    if (!(m instanceof Sequential)) continue;
    for (let i = 0; i + 1 < m.length; i++) {
      const a = m.at(i);
      const b = m.at(i + 1);
      const pairOk = (a instanceof Linear && b instanceof BatchNorm1d) || (a instanceof Conv2d && b instanceof BatchNorm2d);
      if (!pairOk) continue;
      if (b.training || a.training) {
        throw new GradkitError('fuseBatchNorm', `model must be in eval mode (call model.eval() first); the BatchNorm at index ${i + 1} is in training mode`);
      }
      m.set(i, a instanceof Linear ? fuseLinearBn(a, b as BatchNorm1d) : fuseConvBn(a as Conv2d, b as BatchNorm2d));
      m.set(i + 1, new Identity().eval());
      fused++;
    }
  }
  return { model, fused };
}

