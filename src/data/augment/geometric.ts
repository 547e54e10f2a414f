/**
 * Geometric augmentations. Every one is an affine map sampled bilinearly: for each output pixel
 * (x, y) we compute where it comes from in the source and interpolate; pixels that come from
 * outside the image get `fill`. Coordinates are pixel centres, rotation and scaling are about
 * the image centre, and positive angles turn the picture counter-clockwise as displayed (y down).
 */
import { GradkitError } from '../../core/errors.js';
import type { Random } from '../../core/rng.js';
import type { Tensor } from '../../tensor/tensor.js';
import { alloc, checkImages, checkNonNegative, checkProbability, tensorFrom, valuesOf } from '../util.js';
import type { Augmentation } from './augmentation.js';

/** Source coordinates of output pixel (x, y): sx = a·x + b·y + tx, sy = c·x + d·y + ty. */
export type AffineMatrix = readonly [a: number, b: number, tx: number, c: number, d: number, ty: number];

// Rounding noise from cos(90°) ≈ 6e-17 must not move a sample point into the wrong pixel, so
// matrix entries within 1e-12 of an integer are made that integer (exact permutations stay exact).
function snap(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - r) < 1e-12 ? r : v;
}

/**
 * Warps one h×w plane (at `off` in src) into dst with matrix m. The source point moves by
 * (a, c) per output column, so it is updated incrementally; interior points (all four
 * neighbours inside) take the fast path without bounds checks.
 */
function warpPlane(src: ArrayLike<number>, dst: { [i: number]: number }, off: number, h: number, w: number, m: AffineMatrix, fill: number): void {
  const [a, b, tx, c, d, ty] = m.map(snap);
  for (let y = 0; y < h; y++) {
    let sx = b * y + tx;
    let sy = d * y + ty;
    const rowOut = off + y * w;
    for (let x = 0; x < w; x++, sx += a, sy += c) {
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      let v: number;
      if (x0 >= 0 && y0 >= 0 && x0 < w - 1 && y0 < h - 1) {
        const i = off + y0 * w + x0;
        const top = src[i] + fx * (src[i + 1] - src[i]);
        const bottom = src[i + w] + fx * (src[i + w + 1] - src[i + w]);
        v = fx === 0 && fy === 0 ? src[i] : top + fy * (bottom - top);
      } else if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        v = fill; // all four neighbours outside
      } else {
        const p00 = x0 >= 0 && y0 >= 0 ? src[off + y0 * w + x0] : fill;
        const p01 = x0 + 1 < w && y0 >= 0 ? src[off + y0 * w + x0 + 1] : fill;
        const p10 = x0 >= 0 && y0 + 1 < h ? src[off + (y0 + 1) * w + x0] : fill;
        const p11 = x0 + 1 < w && y0 + 1 < h ? src[off + (y0 + 1) * w + x0 + 1] : fill;
        if (fx === 0 && fy === 0) v = p00; // exact for whole-pixel moves
        else {
          const top = p00 + fx * (p01 - p00);
          const bottom = p10 + fx * (p11 - p10);
          v = top + fy * (bottom - top);
        }
      }
      dst[rowOut + x] = v;
    }
  }
}

/**
 * Matrix for: rotate by `degrees`, scale by `scale` (>1 enlarges), then shift by (dx, dy) pixels
 * (positive dx moves content right, positive dy moves it down), all about the image centre.
 */
export function affineMatrix(h: number, w: number, p: { degrees?: number; scale?: number; dx?: number; dy?: number }): AffineMatrix {
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const t = ((p.degrees ?? 0) * Math.PI) / 180;
  const s = p.scale ?? 1;
  const dx = p.dx ?? 0;
  const dy = p.dy ?? 0;
  if (!(s > 0) || !Number.isFinite(s)) throw new GradkitError('affine', `scale must be a positive number, got ${s}`);
  // Output offset (u, v) from the centre (after undoing the shift) maps back through R(θ)/s.
  const cos = Math.cos(t) / s;
  const sin = Math.sin(t) / s;
  // sx = cx + cos·u − sin·v,  sy = cy + sin·u + cos·v, with u = x − cx − dx, v = y − cy − dy
  const u0 = -cx - dx;
  const v0 = -cy - dy;
  return [cos, -sin, cx + cos * u0 - sin * v0, sin, cos, cy + sin * u0 + cos * v0];
}

/** Applies one matrix per image (`matrices[i]`) or the same matrix to all. */
export function affineImages(images: Tensor, matrices: AffineMatrix | readonly AffineMatrix[], opts: { fill?: number } = {}): Tensor {
  const { n, c, h, w } = checkImages('affineImages', images);
  const fill = opts.fill ?? 0;
  const perImage = Array.isArray(matrices[0]);
  if (perImage && matrices.length !== n) throw new GradkitError('affineImages', `got ${matrices.length} matrices for ${n} images`);
  const src = valuesOf(images);
  const dst = alloc(images.dtype, src.length);
  for (let i = 0; i < n; i++) {
    const m = (perImage ? (matrices as readonly AffineMatrix[])[i] : matrices) as AffineMatrix;
    if (!Array.isArray(m) || m.length !== 6 || m.some((v) => !Number.isFinite(v))) {
      throw new GradkitError('affineImages', `matrix ${i} must hold 6 finite numbers [a, b, tx, c, d, ty]`);
    }
    for (let ch = 0; ch < c; ch++) warpPlane(src, dst, (i * c + ch) * h * w, h, w, m, fill);
  }
  return tensorFrom(dst, images.shape);
}

/** Shifts every image by (dx, dy) pixels; whole-pixel shifts move values exactly. */
export function translateImages(images: Tensor, dx: number, dy: number, opts: { fill?: number } = {}): Tensor {
  const { h, w } = checkImages('translateImages', images);
  return affineImages(images, affineMatrix(h, w, { dx, dy }), opts);
}

/** Rotates every image counter-clockwise by `degrees` about its centre. */
export function rotateImages(images: Tensor, degrees: number, opts: { fill?: number } = {}): Tensor {
  const { h, w } = checkImages('rotateImages', images);
  return affineImages(images, affineMatrix(h, w, { degrees }), opts);
}

/** Zooms every image by `factor` about its centre (>1 enlarges). */
export function scaleImages(images: Tensor, factor: number, opts: { fill?: number } = {}): Tensor {
  const { h, w } = checkImages('scaleImages', images);
  return affineImages(images, affineMatrix(h, w, { scale: factor }), opts);
}

/** Mirrors images left–right (`axis: 'horizontal'`) or top–bottom (`'vertical'`), for a selection. */
export function flipImages(images: Tensor, axis: 'horizontal' | 'vertical', which?: readonly boolean[]): Tensor {
  const { n, c, h, w } = checkImages('flipImages', images);
  if (axis !== 'horizontal' && axis !== 'vertical') throw new GradkitError('flipImages', `axis must be 'horizontal' or 'vertical', got ${String(axis)}`);
  const src = valuesOf(images);
  const dst = alloc(images.dtype, src.length);
  dst.set(src as ArrayLike<number>);
  for (let i = 0; i < n; i++) {
    if (which && !which[i]) continue;
    for (let ch = 0; ch < c; ch++) {
      const off = (i * c + ch) * h * w;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const sy = axis === 'vertical' ? h - 1 - y : y;
          const sx = axis === 'horizontal' ? w - 1 - x : x;
          dst[off + y * w + x] = src[off + sy * w + sx];
        }
      }
    }
  }
  return tensorFrom(dst, images.shape);
}

/** Options of `randomFlip`: which flips are enabled and their probability. */
export interface RandomFlipOptions {
  /** Flip left–right (default false: mirrored digits and letters change meaning, e.g. 'b'/'d'). */
  horizontal?: boolean;
  /** Flip top–bottom (default false: a flipped '6' reads as a '9'). */
  vertical?: boolean;
  /** Probability of each enabled flip per image (default 0.5). */
  p?: number;
}

/** Random flips, off unless asked for; each enabled axis flips an image with probability p. */
export function randomFlip(opts: RandomFlipOptions = {}): Augmentation {
  const p = checkProbability('randomFlip', 'p', opts.p ?? 0.5);
  const horizontal = opts.horizontal ?? false;
  const vertical = opts.vertical ?? false;
  return {
    name: 'randomFlip',
    apply(images: Tensor, rng: Random): Tensor {
      const { n } = checkImages('randomFlip', images);
      let out = images;
      if (horizontal) out = flipImages(out, 'horizontal', Array.from({ length: n }, () => rng.next() < p));
      if (vertical) out = flipImages(out, 'vertical', Array.from({ length: n }, () => rng.next() < p));
      return out;
    },
  };
}

/** Options of `randomAffine`: ranges of rotation, shift and zoom, and the fill value. */
export interface RandomAffineOptions {
  /** Rotation angle drawn uniformly from [−degrees, degrees] (default 0). */
  degrees?: number;
  /** Shift in pixels drawn uniformly from [−maxShift, maxShift] on each axis (default 0). */
  maxShift?: number;
  /** Round shifts to whole pixels (no interpolation blur for pure shifts; default false). */
  wholePixels?: boolean;
  /** Zoom factor range [min, max] (default [1, 1]). */
  scale?: readonly [number, number];
  /** Value for pixels that come from outside the image (default 0). */
  fill?: number;
}

/** One random rotation + scale + shift per image, sampled once (a single interpolation). */
export function randomAffine(opts: RandomAffineOptions, name = 'randomAffine'): Augmentation {
  const degrees = checkNonNegative(name, 'degrees', opts.degrees ?? 0);
  const maxShift = checkNonNegative(name, 'maxShift', opts.maxShift ?? 0);
  const [smin, smax] = opts.scale ?? [1, 1];
  if (!(smin > 0 && smax >= smin && Number.isFinite(smax))) throw new GradkitError(name, `scale must be [min, max] with 0 < min <= max, got [${smin}, ${smax}]`);
  const fill = opts.fill ?? 0;
  return {
    name,
    apply(images: Tensor, rng: Random): Tensor {
      const { n, h, w } = checkImages(name, images);
      const ms: AffineMatrix[] = [];
      for (let i = 0; i < n; i++) {
        const deg = degrees > 0 ? rng.uniform(-degrees, degrees) : 0;
        const s = smax > smin ? rng.uniform(smin, smax) : smin;
        let dx = maxShift > 0 ? rng.uniform(-maxShift, maxShift) : 0;
        let dy = maxShift > 0 ? rng.uniform(-maxShift, maxShift) : 0;
        if (opts.wholePixels) {
          dx = Math.round(dx);
          dy = Math.round(dy);
        }
        ms.push(affineMatrix(h, w, { degrees: deg, scale: s, dx, dy }));
      }
      return affineImages(images, ms, { fill });
    },
  };
}

/** Rotates each image by a random angle in [−degrees, degrees]. */
export const randomRotation = (opts: { degrees: number; fill?: number }): Augmentation =>
  randomAffine({ degrees: opts.degrees, fill: opts.fill }, 'randomRotation');
/** Shifts each image by up to `maxShift` pixels in each direction. */
export const randomTranslation = (opts: { maxShift: number; wholePixels?: boolean; fill?: number }): Augmentation =>
  randomAffine({ maxShift: opts.maxShift, wholePixels: opts.wholePixels, fill: opts.fill }, 'randomTranslation');
/** Scales each image by a random factor in [min, max]. */
export const randomScale = (opts: { min: number; max: number; fill?: number }): Augmentation =>
  randomAffine({ scale: [opts.min, opts.max], fill: opts.fill }, 'randomScale');

/** Options of `randomCrop`: padding before cropping, the output size and the fill value. */
export interface RandomCropOptions {
  /** Zero (fill) padding added on every side before cropping (default 0). */
  padding?: number;
  /** Output [height, width] (default: the input size). */
  size?: readonly [number, number];
  fill?: number;
}

/** Pads, then cuts a window at a random whole-pixel offset (values are copied, not interpolated). */
export function randomCrop(opts: RandomCropOptions = {}): Augmentation {
  const pad = opts.padding ?? 0;
  if (!Number.isInteger(pad) || pad < 0) throw new GradkitError('randomCrop', `padding must be a non-negative integer, got ${pad}`);
  const fill = opts.fill ?? 0;
  return {
    name: 'randomCrop',
    apply(images: Tensor, rng: Random): Tensor {
      const { n, c, h, w } = checkImages('randomCrop', images);
      const [oh, ow] = opts.size ?? [h, w];
      if (!Number.isInteger(oh) || !Number.isInteger(ow) || oh <= 0 || ow <= 0 || oh > h + 2 * pad || ow > w + 2 * pad) {
        throw new GradkitError('randomCrop', `crop size [${oh}, ${ow}] must be positive and fit in the padded image [${h + 2 * pad}, ${w + 2 * pad}]`);
      }
      const src = valuesOf(images);
      const dst = alloc(images.dtype, n * c * oh * ow);
      for (let i = 0; i < n; i++) {
        const oy = rng.int(0, h + 2 * pad - oh + 1) - pad;
        const ox = rng.int(0, w + 2 * pad - ow + 1) - pad;
        for (let ch = 0; ch < c; ch++) {
          const so = (i * c + ch) * h * w;
          const dof = (i * c + ch) * oh * ow;
          for (let y = 0; y < oh; y++) {
            const sy = y + oy;
            for (let x = 0; x < ow; x++) {
              const sx = x + ox;
              dst[dof + y * ow + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[so + sy * w + sx] : fill;
            }
          }
        }
      }
      return tensorFrom(dst, [n, c, oh, ow]);
    },
  };
}
