/**
 * Training: the Trainer (a fixed event loop with callbacks), its default callbacks, and
 * checkpoints that resume a run exactly.
 *
 * ```ts
 * const storage = nodeStorage();                     // src/platform/fs-node.ts; memoryStorage() in a browser
 * const trainer = new Trainer({ model, optimizer, trainData, validData, callbacks: [
 *   new EarlyStopping({ monitor: 'valLoss', patience: 3 }),
 *   new Checkpoint({ storage, dir: 'runs/a', everySteps: 100 }),
 *   new Progress(),
 * ] });
 * await trainer.fit({ epochs: 10 });
 * // After a crash: build the same model/optimizer/loaders/callbacks, then
 * await trainer.loadCheckpoint(storage, 'runs/a/last.ckpt');
 * await trainer.fit({ epochs: 10 });                // ends bit-identical to an uninterrupted run
 * ```
 * Exact resume covers the model, optimizer, callbacks (schedules, EMA, early stopping), the data
 * loader's order and position, and the global RNG (dropout); pass other generators as `rngs`.
 */
export { Trainer, type TrainerOptions, type TrainData, type FitResult } from './trainer.js';
export { EVENTS, CancelBatch, CancelEpoch, CancelFit, type EventName } from './events.js';
export { ORDER, type Callback, type Hook } from './callback.js';
export { defaultClassificationLoss } from './loss.js';
export { MetricsCallback, type MetricsOptions } from './callbacks/metrics.js';
export { NanGuard, NonFiniteError } from './callbacks/nan-guard.js';
export { EarlyStopping, type EarlyStoppingOptions } from './callbacks/early-stopping.js';
export { Checkpoint, type CheckpointOptions } from './callbacks/checkpointer.js';
export { LrSchedule, PlateauSchedule, type LrScheduleOptions, type PlateauScheduleOptions } from './callbacks/schedule.js';
export { EmaWeights, type EmaCallbackOptions } from './callbacks/ema.js';
export { GradClip, type GradClipOptions } from './callbacks/grad-clip.js';
export { Progress, formatLogs, type TextSink } from './callbacks/progress.js';
export { MetricsLog, type MetricsLogOptions } from './callbacks/metrics-log.js';
export { encodeCheckpoint, decodeCheckpoint, checkModelFits, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type CheckpointState, type TrainerCounters, type DecodeCheckpointOptions } from './checkpoint.js';
export { encodeTensorFile, decodeTensorFile, type StoredTensor } from './tensor-file.js';
export { memoryStorage, joinPath, type Storage } from './storage.js';
export { evaluate, evaluateAsync, type EvaluateResult } from './evaluate.js';
