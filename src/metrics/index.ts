/**
 * Evaluation: classification metrics (accuracy, top-k, confusion matrix, precision/recall/F1),
 * calibration (ECE), embeddings (recall@k, k-means, NMI), ensembles (averaged predictions,
 * Polyak-averaged checkpoints) and test-time augmentation. Inputs are Tensors or plain arrays.
 *
 * ```ts
 * metrics.accuracy(logits, labels);                 // argmax of each row vs the labels
 * metrics.correctCounts(logits, labels, [1, 5]);    // per-batch [top-1, top-5] counts as a device tensor
 * metrics.precisionRecallF1(logits, labels).macro.f1;
 * metrics.nmi(metrics.kMeans(emb, 10, { seed: 0 }).labels, labels);
 * metrics.accuracy(metrics.ensemblePredict([cnnA, cnnB, cnnC], xTest), yTest);
 * metrics.ttaPredict(cnn, xTest, [metrics.tta.identity, metrics.tta.hflip]);
 * ```
 */
export { accuracy, topK, confusionMatrix, precisionRecallF1, type ClassificationReport } from './classification.js';
export { expectedCalibrationError, type CalibrationResult } from './calibration.js';
export { recallAtK, kMeans, nmi, type KMeansResult } from './embeddings.js';
export type { Matrix, Labels } from './util.js';
export { correctCounts, targetRanks, finiteRows, labelCheck } from './device.js';
export { Ensemble, ensemblePredict, combineOutputs, averageStateDicts, type Combine } from './ensemble.js';
export { TestTimeAugmentation, ttaPredict, type TtaTransform } from './tta.js';
export * as tta from './tta.js';
