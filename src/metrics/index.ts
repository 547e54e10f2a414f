/**
 * Evaluation metrics: classification (accuracy, top-k, confusion matrix, precision/recall/F1),
 * calibration (ECE) and embeddings (recall@k, k-means, NMI). Inputs are Tensors or plain arrays.
 *
 * ```ts
 * metrics.accuracy(logits, labels);                 // argmax of each row vs the labels
 * metrics.precisionRecallF1(logits, labels).macro.f1;
 * metrics.nmi(metrics.kMeans(emb, 10, { seed: 0 }).labels, labels);
 * ```
 */
export { accuracy, topK, confusionMatrix, precisionRecallF1, type ClassificationReport } from './classification.js';
export { expectedCalibrationError, type CalibrationResult } from './calibration.js';
export { recallAtK, kMeans, nmi, type KMeansResult } from './embeddings.js';
export type { Matrix, Labels } from './util.js';
