/**
 * gradkit: deep learning in TypeScript. This file is the public surface; everything a user
 * needs is re-exported here, and internals are free to move.
 */
import './tensor/methods.js';
import './backends/reference/index.js';
import './backends/wasm/index.js';

export { GradkitError } from './core/errors.js';
export { FileSystemError, FolderInUseError } from './core/fs-error.js';
export type { DType, FloatDType, DataArray } from './core/dtype.js';
export { Random, manualSeed, getGlobalRng } from './core/rng.js';
export { Tensor, type NestedArray } from './tensor/tensor.js';
export { scope, keep, dispose } from './tensor/lifetime.js';
export { fromArray, memory, toBackend, type MemoryReport } from './tensor/host.js';
export type { Handle } from './backend/handle.js';
export {
  tensor, scalar, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye,
  rand, randn, randint, randLike, randnLike, type CreateOptions, type RandomOptions, type TensorData,
} from './tensor/creation.js';
export { noGrad, enableGrad, isGradEnabled, grad, valueAndGrad, type BackwardOptions, type ValueAndGrads } from './autograd/engine.js';
export * from './ops/index.js';
export type { Backend, MemoryInfo } from './backend/backend.js';
export type { Kernels, MatmulParams, Conv2dParams, Pool2dParams } from './backend/kernels.js';
export { registerBackend, getBackend, setBackend, backendName, listBackends, withBackend } from './backend/registry.js';
export { referenceKernels } from './backends/reference/index.js';
export { createStrictBackend, isStrictBackend, type StrictBackend, type StrictStats } from './backends/strict/index.js';
export { setNumThreads, getNumThreads, wasmReady, ready, type ReadyInfo, createWasmBackend, isWasmBackend, type WasmBackend, type WasmBackendOptions } from './backends/wasm/index.js';
export { trainInWorker, exposeTraining, ISOLATION_HEADERS, type TrainInWorkerHandlers, type TrainingJob } from './browser/index.js';
export { gradCheck, type GradCheckOptions, type GradCheckResult } from './testing/gradcheck.js';
export * as nn from './nn/index.js';
export { Parameter } from './nn/parameter.js';
export * as optim from './optim/index.js';
export * as losses from './losses/index.js';
export * as data from './data/index.js';
export * as train from './train/index.js';
export * as diagnostics from './diagnostics/index.js';
export * as metrics from './metrics/index.js';
export * as io from './io/index.js';
export * as transfer from './transfer/index.js';
export * as zoo from './zoo/index.js';
export * as tune from './tune/index.js';
export * as experiments from './experiments/index.js';
