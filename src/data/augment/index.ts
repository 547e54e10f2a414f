export { compose, augment, randomApply, type Augmentation } from './augmentation.js';
export {
  affineMatrix, affineImages, translateImages, rotateImages, scaleImages, flipImages,
  randomFlip, randomAffine, randomRotation, randomTranslation, randomScale, randomCrop,
  type AffineMatrix, type RandomFlipOptions, type RandomAffineOptions, type RandomCropOptions,
} from './geometric.js';
export { colorJitter, randomBrightness, randomContrast, gaussianNoise, cutout, type ColorJitterOptions, type CutoutOptions } from './photometric.js';
