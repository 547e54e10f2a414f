/**
 * Watching training: activation statistics, gradient flow, the initialization study, the
 * learning-rate finder and pre-flight sanity checks.
 *
 * ```ts
 * diagnostics.activationStats(model, xb);                        // per layer: mean, std, histogram, dead/saturated
 * const r = await diagnostics.lrFinder({ model, optimizer, data: loader });
 * diagnostics.checkInitialLoss(model, xb, yb).ok;                // ≈ log(C)?
 * new train.Trainer({ …, callbacks: [new diagnostics.GradientFlow({ every: 10 })] });
 * ```
 */
export { tensorStats, activationKind, type TensorStats, type Histogram, type ActivationKind, type StatsOptions } from './stats.js';
export {
  activationStats, watchActivations, ActivationStatsCallback,
  type LayerStats, type ActivationStatsOptions, type ActivationStatsCallbackOptions,
} from './activations.js';
export { GradientFlow, type GradientFlowOptions, type GradientFlowRecord, type GradientFlowAlert } from './gradient-flow.js';
export { initStudy, formatInitStudy, INIT_STUDY_CONFIGS, type InitStudyOptions, type InitStudyResult, type InitStudyConfig } from './init-study.js';
export { lrFinder, suggestLr, type LrFinderOptions, type LrFinderResult } from './lr-finder.js';
export { checkInitialLoss, overfitSubset, type InitialLossResult, type OverfitOptions, type OverfitResult } from './sanity.js';
export { histogramSvg, lineSvg } from './svg.js';
export { modelGradCheck, type ModelGradCheckOptions, type ModelGradCheckResult, type ModelGradCheckEntry } from './model-gradcheck.js';
export { curvesSvg, curvesLayout, epochRowsFromJsonl, CURVE_PANELS, type CurveRun, type CurvesLayout } from './curves.js';
export { curvesPng } from './curves-png.js';
export { CurvesPlot, type CurvesPlotOptions } from './curves-callback.js';
export { TrainingRecorder, type TrainingRecorderOptions, type RecordLine, type RecordedLayer } from './recorder.js';
export { analyzeClassifier, writeAnalysis, inputPng, inputImageSize, type ClassifierAnalysis, type Misclassified } from './analysis.js';
