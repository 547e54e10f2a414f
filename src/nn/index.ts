export { Parameter, isParameter, type ParameterTag } from './parameter.js';
export {
  Module, type AnyModule, type ForwardHook, type ForwardPreHook, type StateDict, type LoadStateDictOptions, type LoadStateDictResult,
} from './module.js';
export { Sequential, ModuleList, ModuleDict } from './containers.js';
export { Linear, type LinearOptions } from './linear.js';
export type { WeightLayerOptions } from './layer-options.js';
export * as init from './init-namespace.js';
export * as functional from './functional.js';
export {
  ReLU, Sigmoid, Tanh, LeakyReLU, PReLU, ELU, SELU, Swish, SiLU, GELU, Softplus, Softmax, LogSoftmax, Maxout,
  type PReLUOptions, type SwishOptions, type MaxoutOptions,
} from './activation.js';
export {
  Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, GlobalAvgPool2d, adaptiveAvgPool2d, globalAvgPool2d,
  type Conv2dOptions, type PoolOptions,
} from './conv.js';
export { Identity, Flatten, Embedding, type EmbeddingOptions } from './basic.js';
export { Dropout, AlphaDropout, GaussianNoise, DropConnect, type RandomLayerOptions } from './regularization.js';
export {
  BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm, InstanceNorm2d, batchNorm, layerNorm, groupNorm,
  type NormOptions, type BatchNormOptions, type BatchNormFunctionalOptions,
} from './normalization.js';
export { weightNorm } from './weight-norm.js';
export { fuseBatchNorm, fuseLinearBn, fuseConvBn } from './fuse.js';
export { fuse, FusedAway } from './fuse-activations.js';
export type { LayerActivation } from './fused-activation.js';
export { lsuv, lsuvAsync, type LsuvOptions, type LsuvLayerReport } from './lsuv.js';
export { functionalCall } from './functional-call.js';
export {
  RNN, LSTM, GRU,
  type RecurrentOptions, type RNNOptions, type RecurrentOutput, type LSTMOutput, type RecurrentState, type LSTMState,
} from './recurrent.js';
export {
  MultiheadAttention, TransformerEncoderLayer, TransformerEncoder, scaledDotProductAttention, causalMask,
  type TransformerEncoderOptions, type AttentionResult,
  type AttentionOptions, type MultiheadAttentionOptions, type MultiheadForwardOptions, type MultiheadAttentionOutput,
  type TransformerEncoderLayerOptions, type EncoderForwardOptions,
} from './attention.js';
export { Residual, BasicBlock, ResNet, resnet, type BasicBlockOptions, type ResNetOptions } from './residual.js';
