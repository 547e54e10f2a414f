/**
 * Intensity augmentations (brightness, contrast, saturation, noise) and cutout. Values are not
 * clamped: after normalization images are no longer in [0, 1], and clamping there would be wrong.
 */
import { GradkitError } from '../../core/errors.js';
import type { Random } from '../../core/rng.js';
import type { Tensor } from '../../tensor/tensor.js';
import { alloc, checkImages, checkNonNegative, checkPositiveInt, tensorFrom, valuesOf } from '../util.js';
import type { Augmentation } from './augmentation.js';

/** Options of `colorJitter`: the random brightness, contrast and saturation ranges. */
export interface ColorJitterOptions {
  /** Multiply by a factor from [max(0, 1−b), 1+b] (default 0: off). */
  brightness?: number;
  /** Scale the distance from the image's mean by a factor from [max(0, 1−c), 1+c] (default 0). */
  contrast?: number;
  /** RGB only: scale the distance from the pixel's grey value by a factor from [max(0, 1−s), 1+s]. */
  saturation?: number;
}

function factor(rng: Random, amount: number): number {
  return amount > 0 ? rng.uniform(Math.max(0, 1 - amount), 1 + amount) : 1;
}

/** Random brightness, contrast and (for 3-channel images) saturation per image, in that order. */
export function colorJitter(opts: ColorJitterOptions): Augmentation {
  const op = 'colorJitter';
  const b = checkNonNegative(op, 'brightness', opts.brightness ?? 0);
  const ct = checkNonNegative(op, 'contrast', opts.contrast ?? 0);
  const sat = checkNonNegative(op, 'saturation', opts.saturation ?? 0);
  return {
    name: op,
    apply(images: Tensor, rng: Random): Tensor {
      const { n, c, h, w } = checkImages(op, images);
      if (sat > 0 && c !== 3) throw new GradkitError(op, `saturation needs 3-channel (RGB) images, got ${c} channel(s)`);
      const src = valuesOf(images);
      const dst = alloc(images.dtype, src.length);
      const plane = h * w;
      const per = c * plane;
      for (let i = 0; i < n; i++) {
        const fb = factor(rng, b);
        const fc = factor(rng, ct);
        const fs = factor(rng, sat);
        const off = i * per;
        let mean = 0;
        for (let k = 0; k < per; k++) {
          dst[off + k] = src[off + k] * fb;
          mean += dst[off + k];
        }
        mean /= per;
        if (fc !== 1) for (let k = 0; k < per; k++) dst[off + k] = (dst[off + k] - mean) * fc + mean;
        if (fs !== 1) {
          for (let p = 0; p < plane; p++) {
            const r = dst[off + p];
            const g = dst[off + plane + p];
            const bl = dst[off + 2 * plane + p];
            const grey = 0.299 * r + 0.587 * g + 0.114 * bl;
            dst[off + p] = grey + (r - grey) * fs;
            dst[off + plane + p] = grey + (g - grey) * fs;
            dst[off + 2 * plane + p] = grey + (bl - grey) * fs;
          }
        }
      }
      return tensorFrom(dst, images.shape);
    },
  };
}

/** Multiplies each image's brightness by a random factor in [1 − amount, 1 + amount] (colorJitter with brightness only). */
export const randomBrightness = (amount: number): Augmentation => colorJitter({ brightness: amount });
/** Scales each image's contrast around its mean by a random factor in [1 − amount, 1 + amount] (colorJitter with contrast only). */
export const randomContrast = (amount: number): Augmentation => colorJitter({ contrast: amount });

/** Adds independent N(0, std²) noise to every value. */
export function gaussianNoise(opts: { std: number }): Augmentation {
  const std = checkNonNegative('gaussianNoise', 'std', opts.std);
  return {
    name: 'gaussianNoise',
    apply(images: Tensor, rng: Random): Tensor {
      checkImages('gaussianNoise', images);
      const src = valuesOf(images);
      const dst = alloc(images.dtype, src.length);
      for (let k = 0; k < src.length; k++) dst[k] = src[k] + std * rng.normal();
      return tensorFrom(dst, images.shape);
    },
  };
}

/** Options of `cutout`: hole size, holes per image and the fill value. */
export interface CutoutOptions {
  /** Side of the square hole in pixels. */
  size: number;
  /** Holes per image (default 1). */
  count?: number;
  /** Value written into the hole (default 0). */
  fill?: number;
}

/**
 * Cutout (DeVries & Taylor): a size×size square, centred at a uniformly random pixel and clipped
 * at the border, set to `fill` in every channel.
 */
export function cutout(opts: CutoutOptions): Augmentation {
  const size = checkPositiveInt('cutout', 'size', opts.size);
  const count = checkPositiveInt('cutout', 'count', opts.count ?? 1);
  const fill = opts.fill ?? 0;
  return {
    name: 'cutout',
    apply(images: Tensor, rng: Random): Tensor {
      const { n, c, h, w } = checkImages('cutout', images);
      const src = valuesOf(images);
      const dst = alloc(images.dtype, src.length);
      dst.set(src as ArrayLike<number>);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < count; k++) {
          const cy = rng.int(0, h);
          const cx = rng.int(0, w);
          const y0 = Math.max(0, cy - Math.floor(size / 2));
          const x0 = Math.max(0, cx - Math.floor(size / 2));
          const y1 = Math.min(h, cy - Math.floor(size / 2) + size);
          const x1 = Math.min(w, cx - Math.floor(size / 2) + size);
          for (let ch = 0; ch < c; ch++) {
            const off = (i * c + ch) * h * w;
            for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) dst[off + y * w + x] = fill;
          }
        }
      }
      return tensorFrom(dst, images.shape);
    },
  };
}
