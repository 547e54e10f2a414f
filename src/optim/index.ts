/**
 * Optimizers as composable gradient transforms (optax's idea) with the familiar PyTorch
 * classes on top, plus clipping, learning-rate schedules and weight averaging.
 */
export { chain, applyUpdates, type GradientTransform, type Updates, type StateTree } from './transform.js';
export {
  scaleByLearningRate, clipByValue, clipByGlobalNorm, globalNorm, trace, momentum, scaleByAdam, scaleByRms, scaleByAdagrad,
  addDecayedWeights, addL2ToGradient, decayMask,
  type Schedule, type ParamMask, type TraceOptions, type AdamOptions as ScaleByAdamOptions, type RmsOptions, type AdagradOptions as ScaleByAdagradOptions, type DecayOptions,
} from './transforms.js';
export { Optimizer, type BaseOptions, type ParamGroup, type ParamGroupInput, type ParamsInput, type OptimizerStateDict } from './optimizer.js';
export { SGD, Adam, AdamW, RMSprop, Adagrad, type SGDOptions, type AdamOptions, type RMSpropOptions, type AdagradOptions } from './optimizers.js';
export { clipGradNorm, clipGradNormAsync, clipGradValue, type ClipNormOptions } from './clip.js';
export { applyMaxNorm, applyMaxNormAsync, type MaxNormOptions } from './constraints.js';
export { EMA, type EMAOptions, type EMAStateDict } from './ema.js';
export { stepDecay, multiStep, exponentialDecay, cosineAnnealing, cosineWarmRestarts, linearWarmup, oneCycle, type OneCycleOptions } from './schedules.js';
export { LrScheduler, type ScheduleFactory, type HasLrGroups } from './scheduler.js';
export { ReduceLrOnPlateau, type ReduceLrOnPlateauOptions, type ReduceLrOnPlateauState } from './plateau.js';
export { l1Penalty, l2Penalty, type PenaltyOptions } from '../losses/penalties.js';
export { optimKernels, referenceOptimKernels, registerOptimKernels, type OptimKernels } from './kernels.js';
