/**
 * Test-time augmentation: average a model's predictions over a set of input transforms
 * (flips, small shifts) declared with the model.
 */
import { GradkitError } from '../core/errors.js';
import { noGrad } from '../autograd/engine.js';
import { Module, type AnyModule } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { flipImages, translateImages } from '../data/augment/geometric.js';
import { combineOutputs, type Combine } from './ensemble.js';

/** A deterministic input transform applied at test time. */
export type TtaTransform = (x: Tensor) => Tensor;

/** The input unchanged. */
export const identity: TtaTransform = (x) => x;
/** Left–right mirror of NCHW images. */
export const hflip: TtaTransform = (x) => flipImages(x, 'horizontal');
/** Whole-pixel shift of NCHW images (zeros shifted in): the "crops" of a padded image. */
export const shift = (dx: number, dy: number): TtaTransform => (x) => translateImages(x, dx, dy);

/**
 * A model wrapped with its test-time transforms; forward returns the combined prediction (log
 * mean probabilities by default, see combineOutputs), with the same shape as the model's output.
 *
 * ```ts
 * const tta = new metrics.TestTimeAugmentation(cnn, [metrics.tta.identity, metrics.tta.shift(1, 0), metrics.tta.shift(-1, 0)]);
 * ```
 */
export class TestTimeAugmentation extends Module<[Tensor], Tensor> {
  readonly model: AnyModule;

  constructor(model: AnyModule, readonly transforms: readonly TtaTransform[], readonly combine: Combine = 'probs') {
    super();
    if (!Array.isArray(transforms) || transforms.length === 0 || transforms.some((t) => typeof t !== 'function')) {
      throw new GradkitError('TestTimeAugmentation', 'transforms must be a non-empty array of functions (x) => x′');
    }
    this.model = model;
  }

  override forward(x: Tensor): Tensor {
    return combineOutputs(this.transforms.map((t) => this.model.call(t(x)) as Tensor), this.combine, 'TestTimeAugmentation');
  }
}

/** One-shot TTA prediction in eval mode without gradients; the model's training flag is restored. */
export function ttaPredict(model: AnyModule, x: Tensor, transforms: readonly TtaTransform[], opts: { combine?: Combine } = {}): Tensor {
  const wrapped = new TestTimeAugmentation(model, transforms, opts.combine);
  const mode = model.training;
  try {
    model.eval();
    return noGrad(() => wrapped.forward(x));
  } finally {
    if (mode) model.train();
  }
}
