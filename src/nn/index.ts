export { Parameter, isParameter, type ParameterTag } from './parameter.js';
export {
  Module, type AnyModule, type ForwardHook, type ForwardPreHook, type StateDict, type LoadStateDictOptions, type LoadStateDictResult,
} from './module.js';
export { Sequential, ModuleList, ModuleDict } from './containers.js';
export { Linear, type LinearOptions } from './linear.js';
export type { WeightLayerOptions } from './layer-options.js';
export * as init from './init.js';
export * as functional from './functional.js';
export {
  ReLU, Sigmoid, Tanh, LeakyReLU, PReLU, ELU, SELU, Swish, SiLU, GELU, Softplus, Softmax, LogSoftmax, Maxout,
  type PReLUOptions, type SwishOptions, type MaxoutOptions,
} from './activation.js';
