/** Transfer learning: freeze, swap heads, cut networks into feature extractors, per-layer learning rates, linear probes. */
export { select, units, type Selector, type Selection, type UpTo } from './select.js';
export { freeze, unfreeze, trainableParameters, isHeldInEval, type FreezeOptions, type FreezeResult } from './freeze.js';
export { replaceHead, cutAt, getModule, FeatureExtractor, type ReplaceHeadOptions } from './head.js';
export { extractFeatures, type ExtractFeaturesOptions, type DatasetFeatures } from './features.js';
export { layerwiseLrGroups, lrGroupsByName, type LrGroup, type LayerwiseLrOptions, type LrRule } from './lr-groups.js';
export { linearProbe, type LinearProbe, type LinearProbeOptions } from './probe.js';
export { grayscaleToRgb, conv1ToGrayscale } from './modality.js';
