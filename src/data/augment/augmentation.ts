/**
 * The augmentation interface: a batch of NCHW float images in, a new batch out, randomness only
 * from the generator passed in (so a seed reproduces every draw). Augmentations never change
 * their input tensor.
 */
import { GradkitError } from '../../core/errors.js';
import type { Random } from '../../core/rng.js';
import type { Tensor } from '../../tensor/tensor.js';
import { sizeOf } from '../../core/shape.js';
import { alloc, checkImages, checkProbability, pickRng, tensorFrom, valuesOf, type SeedOptions } from '../util.js';
import { gatherRows } from '../dataset.js';

/** A named image augmentation: transforms a batch of images using the given random generator. */
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

/**
 * Applies `aug` to each image independently with probability `p` (like torchvision's
 * RandomApply, but per image): the chosen images are augmented together, the rest pass through.
 */
export function randomApply(aug: Augmentation, p: number): Augmentation {
  checkProbability('randomApply', 'p', p);
  if (aug === null || typeof aug !== 'object' || typeof aug.apply !== 'function') throw new GradkitError('randomApply', 'expected an augmentation');
  return {
    name: `randomApply(${aug.name}, ${p})`,
    apply(images: Tensor, rng: Random): Tensor {
      const { n } = checkImages('randomApply', images);
      const chosen: number[] = [];
      for (let i = 0; i < n; i++) if (rng.next() < p) chosen.push(i);
      if (chosen.length === 0) return images;
      const changed = aug.apply(gatherRows(images, chosen), rng);
      const row = sizeOf(images.shape.slice(1));
      if (changed.size !== chosen.length * row) {
        throw new GradkitError('randomApply', `${aug.name} changed the image size; randomApply needs size-preserving augmentations`);
      }
      const out = alloc(images.dtype, images.size);
      out.set(valuesOf(images) as ArrayLike<number>);
      const src = valuesOf(changed);
      chosen.forEach((img, k) => out.set(src.subarray(k * row, (k + 1) * row) as ArrayLike<number>, img * row));
      return tensorFrom(out, images.shape);
    },
  };
}
