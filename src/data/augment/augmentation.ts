/**
 * The augmentation interface: a batch of NCHW float images in, a new batch out, randomness only
 * from the generator passed in (so a seed reproduces every draw). Augmentations never change
 * their input tensor.
 */
import { GradkitError } from '../../core/errors.js';
import type { Random } from '../../core/rng.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkImages, pickRng, type SeedOptions } from '../util.js';

export interface Augmentation {
  readonly name: string;
  apply(images: Tensor, rng: Random): Tensor;
}

/** Applies augmentations in order, all drawing from the same generator. */
export function compose(augmentations: readonly Augmentation[]): Augmentation {
  if (!Array.isArray(augmentations)) throw new GradkitError('compose', 'expected an array of augmentations');
  for (const [i, a] of augmentations.entries()) {
    if (a === null || typeof a !== 'object' || typeof a.apply !== 'function') {
      throw new GradkitError('compose', `element ${i} is not an augmentation (an object with apply(images, rng))`);
    }
  }
  const list = [...augmentations];
  return {
    name: `compose(${list.map((a) => a.name).join(', ')})`,
    apply(images: Tensor, rng: Random): Tensor {
      checkImages('compose', images);
      return list.reduce((x, a) => a.apply(x, rng), images);
    },
  };
}

/**
 * Runs an augmentation once, outside a DataLoader: `augment(x, compose([...]), { seed: 1 })`.
 * With `training: false` the images come back unchanged (the evaluation path).
 */
export function augment(images: Tensor, aug: Augmentation, opts: SeedOptions & { training?: boolean } = {}): Tensor {
  checkImages('augment', images);
  if (opts.training === false) return images;
  return aug.apply(images, pickRng('augment', opts));
}
