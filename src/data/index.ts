/**
 * gradkit's data pipeline: datasets, the DataLoader, splits, shipped and generated datasets,
 * CSV, preprocessing fitted on training data, image augmentation, and mixup/cutmix.
 */
export { type Dataset, TensorDataset, ArrayDataset, GeneratorDataset, Subset, fromGenerator, gatherRows, type ArrayDatasetOptions, type GeneratorDatasetOptions, type FieldLike } from './dataset.js';
export { defaultCollate, type Sample, type Batch, type CollateFn } from './collate.js';
export { DataLoader, type DataLoaderOptions, type DataLoaderState } from './loader.js';
export { randomSplit, stratifiedSplit, type StratifiedSplitOptions } from './split.js';
// loadDigits lives in the 'gradkit/digits' entry (src/digits.ts) so core bundles carry no digits data.
export { DIGIT_SIZE, type Digits, type DigitsOptions, type DigitsSource } from './datasets/digits.js';
export { makeSpirals, makeBlobs, makeXor, makeSine, type LabelledData, type SpiralsOptions, type BlobsOptions, type XorOptions, type SineOptions } from './datasets/synthetic.js';
export { parseCsv, parseCsvRows, loadCsv, type CsvOptions, type CsvData } from './csv.js';
export { setFileReader, readTextFile, type FileReader } from './platform.js';
export * from './preprocess/index.js';
export * from './augment/index.js';
export { mixup, cutmix, mixupTransform, type MixOptions, type MixResult } from './mixup.js';
export { sampleGamma, sampleBeta } from './sampling.js';
export { buildAugmentation, buildPreprocessor } from './config.js';
